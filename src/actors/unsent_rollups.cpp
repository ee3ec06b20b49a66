#include "actors/unsent_rollups.hpp"

#include <climits>

namespace medianest {

unsent_rollups::unsent_rollups(size_t capacity) : capacity_(capacity) {
  // nop
}

size_t unsent_rollups::add(std::vector<rollup_row> rows) {
  for (auto& r : rows) {
    by_age_.emplace(r.start, r.metric, r.resolution);
    auto k = key{r.metric, r.resolution, r.start};
    rows_.insert_or_assign(std::move(k), std::move(r));
  }
  size_t dropped = 0;
  while (rows_.size() > capacity_) {
    auto oldest = by_age_.begin();
    const auto& [start, metric, resolution] = *oldest;
    rows_.erase(key{metric, resolution, start});
    by_age_.erase(oldest);
    ++dropped;
  }
  dropped_ += dropped;
  return dropped;
}

std::vector<rollup_row> unsent_rollups::batch() const {
  std::vector<rollup_row> out;
  out.reserve(rows_.size());
  for (const auto& [k, row] : rows_)
    out.push_back(row);
  return out;
}

void unsent_rollups::written(const std::vector<rollup_row>& batch) {
  for (const auto& row : batch) {
    auto it = rows_.find(key{row.metric, row.resolution, row.start});
    // A bucket that changed since the batch was taken is written again next time.
    if (it == rows_.end() || it->second.count != row.count || it->second.sum != row.sum)
      continue;
    by_age_.erase(age_key{row.start, row.metric, row.resolution});
    rows_.erase(it);
  }
}

std::vector<rollup_row> unsent_rollups::rows_of(const std::string& metric,
                                                int64_t resolution) const {
  std::vector<rollup_row> out;
  for (auto it = rows_.lower_bound(key{metric, resolution, INT64_MIN});
       it != rows_.end() && std::get<0>(it->first) == metric
       && std::get<1>(it->first) == resolution;
       ++it)
    out.push_back(it->second);
  return out;
}

} // namespace medianest
