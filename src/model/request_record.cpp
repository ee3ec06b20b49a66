#include "model/request_record.hpp"

#include <mutex>
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

const std::string* intern_route(std::string_view route) {
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

} // namespace medianest
