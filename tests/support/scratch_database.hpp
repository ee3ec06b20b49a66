#pragma once

#include <string>

namespace medianest::test {

/// A database of the test's own on the suite's PostgreSQL (MEDIANEST_TEST_PG_URL, which
/// scripts/test.sh sets), created fresh and dropped at the end.
class scratch_database {
public:
  explicit scratch_database(const std::string& name);
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  /// The URL of the database, for --database.
  std::string url() const;

private:
  void psql(const std::string& sql) const;
  std::string server_;
  std::string name_;
};

} // namespace medianest::test
