#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "app/config.hpp"
#include "app/daemon.hpp"
#include "app/version.hpp"

int main(int argc, char** argv) {
  // libpq's LDAP client (and libcurl's RTMP one) link GnuTLS, whose constructor initialises
  // the whole library (and p11-kit) at load: ~0.6 MB of resident memory in a daemon that never
  // uses GnuTLS (libpq and libcurl speak TLS through OpenSSL; libldap and librtmp initialise
  // GnuTLS themselves if they ever need it). Set before any thread exists; an operator's own
  // value wins.
  ::setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
  using command = medianest::cli_outcome::command;
  auto cli = medianest::parse_command_line(argc, argv);
  int rc = 0;
  switch (cli.cmd) {
    case command::error:
      std::fprintf(stderr, "medianest-perf: %s\n", cli.text.c_str());
      return 2;
    case command::help:
      std::fputs(cli.text.c_str(), stdout);
      return 0;
    case command::version:
      std::printf("medianest-perf %s\n", medianest::version);
      return 0;
    case command::token:
      return medianest::run_token(cli.token);
    case command::serve:
      rc = medianest::run_daemon(cli.serve);
      break;
  }
  spdlog::shutdown();
  return rc;
}
