#pragma once
// libcurl, loaded with dlopen when a notification destination is configured (or the first
// notification goes out) instead of linked into the daemon: libcurl and the libraries it pulls
// in (GnuTLS, nghttp2, libssh2, librtmp, libpsl...) cost ~4 MB of resident memory just by being
// loaded, and a daemon without a notification channel never needs them (docs/benchmarks.md,
// "Overhead").

#include <string>

#include <curl/curl.h>

namespace medianest::sources {

/// The functions of libcurl the notifier uses.
struct curl_library {
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

/// libcurl, loaded and globally initialised on the first call (thread-safe; it stays loaded).
/// Blocks on file I/O the first time: call it only from a detached actor or thread. Returns
/// nullptr, with the reason in `error`, when the library or one of its functions is missing.
const curl_library* load_curl(std::string& error);

} // namespace medianest::sources
