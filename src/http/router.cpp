#include "http/router.hpp"

#include "model/request_record.hpp"

namespace medianest::http {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos)
      next = path.size();
    if (next > pos)
      out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

void router::add(std::string method, std::string pattern, access level, handler fn) {
  route r{std::move(method), std::move(pattern), level, std::move(fn), {}};
  for (auto seg : split_path(r.pattern))
    r.segments.emplace_back(seg);
  r.name = intern_route(r.pattern);
  routes_.push_back(std::move(r));
}

namespace {

bool segments_match(const route& r, const std::vector<std::string_view>& parts,
                    std::vector<std::pair<std::string, std::string>>* params) {
  if (r.segments.size() != parts.size())
    return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = r.segments[i];
    if (seg.front() == ':') {
      if (params)
        params->emplace_back(seg.substr(1), parts[i]);
    } else if (seg != parts[i]) {
      if (params)
        params->clear();
      return false;
    }
  }
  return true;
}

} // namespace

route_match router::match(std::string_view method, std::string_view path) const {
  route_match result;
  // A doubled slash or a trailing one beyond the first is not the same resource.
  if (path.empty() || path.front() != '/' || path.find("//") != std::string_view::npos)
    return result;
  auto parts = split_path(path);
  for (const auto& r : routes_) {
    if (!segments_match(r, parts, nullptr))
      continue;
    if (!result.path_known)
      result.pattern = r.name;
    result.path_known = true;
    if (!result.allowed.empty())
      result.allowed += ", ";
    result.allowed += r.method;
    if (!result.found && r.method == method) {
      result.found = &r;
      segments_match(r, parts, &result.params);
    }
  }
  return result;
}

} // namespace medianest::http
