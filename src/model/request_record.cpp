#include "model/request_record.hpp"

#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace medianest {

std::string_view method_name(http_method m) noexcept {
  switch (m) {
    case http_method::get: return "GET";
    case http_method::head: return "HEAD";
    case http_method::post: return "POST";
    case http_method::put: return "PUT";
    case http_method::patch: return "PATCH";
    case http_method::delete_: return "DELETE";
    case http_method::options: return "OPTIONS";
    case http_method::other: break;
  }
  return "OTHER";
}

http_method method_of(std::string_view name) noexcept {
  for (auto m : {http_method::get, http_method::head, http_method::post, http_method::put,
                 http_method::patch, http_method::delete_, http_method::options})
    if (method_name(m) == name)
      return m;
  return http_method::other;
}

namespace {

struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

const std::string* intern_route_shared(std::string_view route) {
  // Append-only and never freed: the pointers it hands out stay valid for every holder.
  static std::mutex mtx;
  static std::unordered_set<std::string>* table = new std::unordered_set<std::string>();
  std::lock_guard guard{mtx};
  if (auto it = table->find(std::string{route}); it != table->end())
    return &*it;
  if (table->size() >= max_interned_routes) {
    static const std::string* other = &*table->emplace("(other)").first;
    return other;
  }
  return &*table->emplace(route).first;
}

} // namespace

const std::string* intern_route(std::string_view route) {
  // Every request of the gateway interns its route: each thread remembers the answers it got,
  // so the shared table's lock is taken once per route and thread, not once per request.
  thread_local std::unordered_map<std::string, const std::string*, string_hash, std::equal_to<>>
    seen;
  if (auto it = seen.find(route); it != seen.end())
    return it->second;
  auto interned = intern_route_shared(route);
  if (seen.size() < max_interned_routes)
    seen.emplace(route, interned);
  return interned;
}

} // namespace medianest
