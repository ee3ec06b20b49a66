// BOOST_ASSERT in the fuzz targets (built with BOOST_ENABLE_ASSERT_HANDLER): a failed assertion
// aborts, as the default one does, except for one assertion of Beast 1.81 that is itself wrong.
// basic_parser::parse_chunk_header asserts `n >= 5` when it resumes a final chunk, but an input
// that arrives as "0\r\n", "\r", "\n" resumes it with 4 bytes (and 3 are possible), and the code
// after the assertion handles that correctly (it asks for more). Fixed upstream in May 2024
// (boostorg/beast pull request 2861); Debian's 1.81 still has it, and release builds (NDEBUG)
// do not check it. The upstream_response target delivers bytes in pieces of 1-64 and hits it.

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

namespace {

bool known_wrong_beast_assertion(const char* expr, const char* function, const char* file) {
  return std::strcmp(expr, "n >= 5") == 0 && std::strstr(function, "parse_chunk_header")
         && std::strstr(file, "beast/http/impl/basic_parser.ipp");
}

} // namespace

void assertion_failed(const char* expr, const char* function, const char* file, long line) {
  if (known_wrong_beast_assertion(expr, function, file))
    return;
  std::fprintf(stderr, "assertion failed: %s in %s (%s:%ld)\n", expr, function, file, line);
  std::abort();
}

void assertion_failed_msg(const char* expr, const char* msg, const char* function,
                          const char* file, long line) {
  std::fprintf(stderr, "assertion failed: %s (%s) in %s (%s:%ld)\n", expr, msg, function, file,
               line);
  std::abort();
}

} // namespace boost
