#include <cstdio>

#include <spdlog/spdlog.h>

#include "app/config.hpp"
#include "app/daemon.hpp"
#include "app/version.hpp"

int main(int argc, char** argv) {
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
