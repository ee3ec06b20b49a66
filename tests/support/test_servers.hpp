#pragma once

#include <filesystem>
#include <string>

namespace medianest::test {

/// A Redis server of the test's own on a free loopback port, so that a test may stop and
/// restart it without disturbing the shared one of scripts/test.sh.
class private_redis {
public:
  private_redis();
  ~private_redis();

  std::string url() const;
  uint16_t port() const noexcept {
    return port_;
  }
  /// Runs redis-cli against it with the given arguments (shell words); returns its output.
  std::string cli(const std::string& args) const;
  /// One field of INFO.
  std::string info_field(const std::string& field) const;

  void stop();
  void start();

private:
  std::filesystem::path dir_;
  uint16_t port_;
};

} // namespace medianest::test
