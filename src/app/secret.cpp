#include "app/secret.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace medianest {

namespace {

constexpr size_t min_secret_size = 32;

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t filled = 0;
  while (filled < bytes) { // the kernel's CSPRNG; blocks only before it is seeded at boot
    ssize_t got = ::getrandom(raw.data() + filled, bytes - filled, 0);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return {};
    filled += static_cast<size_t>(got);
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 0xF];
  }
  return out;
}

std::optional<std::string> read_secret(const std::filesystem::path& file, std::string& error) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read " + file.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("{} was readable by group or others; tightening it to 0600", file.string());
    ::fchmod(fd, 0600);
  }
  std::string secret;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    secret.append(buf, static_cast<size_t>(n));
  ::close(fd);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
    secret.pop_back();
  if (secret.size() < min_secret_size) {
    error = file.string() + " holds fewer than 32 characters; remove it to generate a new one";
    return std::nullopt;
  }
  return secret;
}

} // namespace

std::filesystem::path secret_file(const std::filesystem::path& data_dir) {
  return data_dir / "jwt-secret";
}

std::optional<std::string> load_or_create_secret(const std::filesystem::path& data_dir,
                                                 std::string& error) {
  if (const char* env = std::getenv("MEDIANEST_JWT_SECRET"); env && *env) {
    if (std::strlen(env) < min_secret_size) {
      error = "MEDIANEST_JWT_SECRET must be at least 32 characters";
      return std::nullopt;
    }
    return std::string{env};
  }
  auto file = secret_file(data_dir);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return read_secret(file, error);
    error = "cannot create " + file.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  auto secret = random_hex(32);
  auto line = secret + '\n';
  bool ok = !secret.empty() && ::write(fd, line.data(), line.size()) == ssize_t(line.size())
            && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(file.c_str());
    error = "cannot write " + file.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  spdlog::info("generated a new JWT secret in {}", file.string());
  return secret;
}

} // namespace medianest
