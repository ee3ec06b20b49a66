#include "support/scratch_database.hpp"

#include <stdexcept>

#include "support/daemon_process.hpp"

namespace medianest::test {

scratch_database::scratch_database(const std::string& name) : name_(name) {
  server_ = env_or_empty("MEDIANEST_TEST_PG_URL");
  if (server_.empty())
    throw std::runtime_error("MEDIANEST_TEST_PG_URL is not set (scripts/test.sh sets it)");
  psql("DROP DATABASE IF EXISTS " + name_);
  psql("CREATE DATABASE " + name_);
}

scratch_database::~scratch_database() {
  psql("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

std::string scratch_database::url() const {
  return server_.substr(0, server_.rfind('/') + 1) + name_;
}

void scratch_database::psql(const std::string& sql) const {
  run_command("psql " + shell_quoted(server_) + " -qc " + shell_quoted(sql) + " 2>&1");
}

} // namespace medianest::test
