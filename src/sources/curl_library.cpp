#include "sources/curl_library.hpp"

#include <dlfcn.h>

#include <mutex>

#include <fmt/format.h>

namespace medianest::sources {

namespace {

/// The soname the headers we compile against belong to (libcurl's ABI has been 4 since 2006).
constexpr const char* curl_soname = "libcurl.so.4";

struct load_result {
  curl_library library{};
  std::string error;
  bool ok = false;
};

template <class Function>
bool resolve(void* handle, const char* name, Function& out, std::string& error) {
  void* symbol = ::dlsym(handle, name);
  if (symbol == nullptr) {
    error = fmt::format("{} has no {}", curl_soname, name);
    return false;
  }
  out = reinterpret_cast<Function>(symbol);
  return true;
}

load_result load_once() {
  load_result result;
  void* handle = ::dlopen(curl_soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = ::dlerror();
    result.error = fmt::format("cannot load {}: {}", curl_soname,
                               reason != nullptr ? reason : "unknown error");
    return result;
  }
  CURLcode (*global_init)(long) = nullptr;
  auto& lib = result.library;
  std::string& error = result.error;
  result.ok = resolve(handle, "curl_global_init", global_init, error)
              && resolve(handle, "curl_easy_init", lib.easy_init, error)
              && resolve(handle, "curl_easy_setopt", lib.easy_setopt, error)
              && resolve(handle, "curl_easy_perform", lib.easy_perform, error)
              && resolve(handle, "curl_easy_getinfo", lib.easy_getinfo, error)
              && resolve(handle, "curl_easy_cleanup", lib.easy_cleanup, error)
              && resolve(handle, "curl_easy_strerror", lib.easy_strerror, error)
              && resolve(handle, "curl_slist_append", lib.slist_append, error)
              && resolve(handle, "curl_slist_free_all", lib.slist_free_all, error);
  if (result.ok && global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    result.ok = false;
    result.error = "curl_global_init failed";
  }
  return result;
}

} // namespace

const curl_library* load_curl(std::string& error) {
  static std::once_flag once;
  static load_result loaded;
  std::call_once(once, [] { loaded = load_once(); });
  if (!loaded.ok) {
    error = loaded.error;
    return nullptr;
  }
  return &loaded.library;
}

} // namespace medianest::sources
