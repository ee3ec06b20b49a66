#include "sources/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <vector>

#include "model/human_bytes.hpp"
#include "sources/sigpipe_guard.hpp"

namespace medianest::sources {

// -- INFO parsing ----------------------------------------------------------------

namespace {

/// The categories a command counts in, as bits.
enum command_kind : unsigned { read_value = 1, write_value = 2, delete_key = 4 };

struct command_class {
  std::string_view name;
  unsigned kinds;
};

/// The commands counted in redis_info::gets, sets and deletes (see its documentation).
constexpr std::array<command_class, 32> counted_commands{{
  {"get", read_value},
  {"mget", read_value},
  {"getex", read_value},
  {"getdel", read_value | delete_key},
  {"getset", read_value | write_value},
  {"getrange", read_value},
  {"substr", read_value},
  {"hget", read_value},
  {"hmget", read_value},
  {"hgetall", read_value},
  {"hvals", read_value},
  {"set", write_value},
  {"setex", write_value},
  {"psetex", write_value},
  {"setnx", write_value},
  {"mset", write_value},
  {"msetnx", write_value},
  {"append", write_value},
  {"setrange", write_value},
  {"incr", write_value},
  {"incrby", write_value},
  {"incrbyfloat", write_value},
  {"decr", write_value},
  {"decrby", write_value},
  {"hset", write_value},
  {"hsetnx", write_value},
  {"hmset", write_value},
  {"hincrby", write_value},
  {"hincrbyfloat", write_value},
  {"del", delete_key},
  {"unlink", delete_key},
  {"hdel", delete_key},
}};

unsigned kinds_of(std::string_view command) {
  for (const auto& c : counted_commands) {
    if (c.name == command) {
      return c.kinds;
    }
  }
  return 0;
}

std::optional<uint64_t> to_number(std::string_view text) {
  uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

/// The number after `name=` in a list like "keys=7,expires=0,avg_ttl=0".
std::optional<uint64_t> attribute(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) {
      return to_number(item.substr(eq + 1));
    }
  }
  return std::nullopt;
}

bool is_keyspace_key(std::string_view key) {
  if (key.size() < 3 || !key.starts_with("db")) {
    return false;
  }
  for (char c : key.substr(2)) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

/// Which essential fields the text held.
struct seen_fields {
  bool hits = false;
  bool misses = false;
  bool memory = false;
};

struct scalar_field {
  std::string_view name;
  uint64_t redis_info::*member;
};

constexpr std::array<scalar_field, 7> scalar_fields{{
  {"keyspace_hits", &redis_info::keyspace_hits},
  {"keyspace_misses", &redis_info::keyspace_misses},
  {"evicted_keys", &redis_info::evicted_keys},
  {"used_memory", &redis_info::used_memory},
  {"connected_clients", &redis_info::connected_clients},
  {"maxmemory", &redis_info::maxmemory},
  {"uptime_in_seconds", &redis_info::uptime_in_seconds},
}};

void apply_command_stat(std::string_view command, std::string_view value, redis_info& out) {
  const unsigned kinds = kinds_of(command);
  if (kinds == 0) {
    return;
  }
  const auto calls = attribute(value, "calls");
  if (!calls) {
    return;
  }
  if (kinds & read_value) out.gets += *calls;
  if (kinds & write_value) out.sets += *calls;
  if (kinds & delete_key) out.deletes += *calls;
}

void apply_scalar(std::string_view key, std::string_view value, redis_info& out,
                  seen_fields& seen) {
  if (key == "maxmemory_policy") {
    out.maxmemory_policy = std::string{value};
    return;
  }
  for (const auto& field : scalar_fields) {
    if (field.name != key) {
      continue;
    }
    if (auto number = to_number(value)) {
      out.*field.member = *number;
      seen.hits |= key == "keyspace_hits";
      seen.misses |= key == "keyspace_misses";
      seen.memory |= key == "used_memory";
    }
    return;
  }
}

void parse_line(std::string_view line, redis_info& out, seen_fields& seen) {
  if (line.empty() || line.front() == '#') {
    return;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return;
  }
  const auto key = line.substr(0, colon);
  const auto value = line.substr(colon + 1);
  constexpr std::string_view cmdstat = "cmdstat_";
  if (key.starts_with(cmdstat)) {
    apply_command_stat(key.substr(cmdstat.size()), value, out);
  } else if (is_keyspace_key(key)) {
    out.total_keys += attribute(value, "keys").value_or(0);
  } else {
    apply_scalar(key, value, out, seen);
  }
}

} // namespace

redis_info parse_redis_info(std::string_view text) {
  redis_info out;
  seen_fields seen;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    parse_line(line, out, seen);
  }
  out.parsed_ok = seen.hits && seen.misses && seen.memory;
  return out;
}

// -- client ----------------------------------------------------------------------

namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

std::string_view reply_type_name(int type) {
  switch (type) {
  case REDIS_REPLY_STRING: return "string";
  case REDIS_REPLY_ARRAY: return "array";
  case REDIS_REPLY_INTEGER: return "integer";
  case REDIS_REPLY_NIL: return "nil";
  case REDIS_REPLY_STATUS: return "status";
  case REDIS_REPLY_ERROR: return "error";
  default: return "unknown";
  }
}

} // namespace

void redis_client::context_deleter::operator()(redisContext* context) const noexcept {
  redisFree(context);
}

void redis_client::reply_deleter::operator()(redisReply* reply) const noexcept {
  freeReplyObject(reply);
}

redis_client::redis_client(redis_target target, std::chrono::milliseconds timeout)
    : target_(std::move(target)), timeout_(std::max(timeout, std::chrono::milliseconds{1})) {
  if (target_.host.empty()) {
    target_.host = "127.0.0.1";
  }
}

redis_client::~redis_client() = default;

std::string redis_client::describe(std::string_view what) const {
  std::string out = "redis ";
  out += target_.host;
  out += ':';
  out += std::to_string(target_.port);
  out += ": ";
  out += what;
  return out;
}

bool redis_client::connected() const noexcept {
  return context_ != nullptr;
}

void redis_client::disconnect() noexcept {
  context_.reset();
}

bool redis_client::connect(std::string& error) {
  disconnect();
  const timeval tv = to_timeval(timeout_);
  context_ptr context{redisConnectWithTimeout(target_.host.c_str(), target_.port, tv)};
  if (!context) {
    error = describe("cannot allocate a connection");
    return false;
  }
  if (context->err != 0) {
    error = describe(std::string{"cannot connect: "} + context->errstr);
    return false;
  }
  if (redisSetTimeout(context.get(), tv) != REDIS_OK) {
    error = describe("cannot set the command timeout");
    return false;
  }
  context_ = std::move(context);
  return handshake(error);
}

bool redis_client::handshake(std::string& error) {
  std::string why;
  if (!target_.password.empty() && !command_ok({"AUTH", target_.password}, why)) {
    return handshake_failed("authentication failed: ", why, error);
  }
  if (target_.db != 0) {
    const auto db = std::to_string(target_.db);
    if (!command_ok({"SELECT", db}, why)) {
      return handshake_failed("cannot select database " + db + ": ", why, error);
    }
  }
  if (!command_ok({"PING"}, why)) {
    if (why.find("NOAUTH") != std::string::npos) {
      why += " (the server wants a password: redis://:PASSWORD@host:port)";
    }
    return handshake_failed("", why, error);
  }
  return true;
}

bool redis_client::handshake_failed(std::string_view step, std::string_view why,
                                    std::string& error) {
  const std::string prefix = describe("");
  if (why.starts_with(prefix)) {
    why.remove_prefix(prefix.size()); // `why` came from run(): name the server only once
  }
  error = prefix;
  error += step;
  error += why;
  disconnect();
  return false;
}

redis_client::reply_ptr redis_client::run(std::initializer_list<std::string_view> args,
                                          std::string& error) {
  if (!context_) {
    error = describe("not connected");
    return nullptr;
  }
  std::vector<const char*> argv;
  std::vector<size_t> argv_lengths;
  argv.reserve(args.size());
  argv_lengths.reserve(args.size());
  for (auto arg : args) {
    argv.push_back(arg.data());
    argv_lengths.push_back(arg.size());
  }
  void* raw = nullptr;
  int saved_errno = 0;
  {
    sigpipe_guard guard;
    errno = 0;
    raw = redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(),
                           argv_lengths.data());
    saved_errno = errno;
  }
  reply_ptr reply{static_cast<redisReply*>(raw)};
  if (!reply) {
    io_failed(saved_errno, error);
    return nullptr;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    error = describe(std::string_view{reply->str, reply->len});
    return nullptr;
  }
  return reply;
}

void redis_client::io_failed(int saved_errno, std::string& error) {
  const bool timed_out = context_->err == REDIS_ERR_IO &&
                         (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
  if (timed_out) {
    error = describe("no reply within " + std::to_string(timeout_.count()) + " ms");
  } else {
    error = describe(context_->errstr[0] != '\0' ? context_->errstr : "connection lost");
  }
  disconnect();
}

std::optional<std::string> redis_client::info(std::string& error) {
  auto reply = run({"INFO", "everything"}, error);
  if (!reply) {
    return std::nullopt;
  }
  if (reply->type != REDIS_REPLY_STRING) {
    error = describe("INFO answered with a " + std::string{reply_type_name(reply->type)} +
                     " reply");
    return std::nullopt;
  }
  return std::string{reply->str, reply->len};
}

std::optional<long long> redis_client::command_integer(
  std::initializer_list<std::string_view> args, std::string& error) {
  auto reply = run(args, error);
  if (!reply) {
    return std::nullopt;
  }
  if (reply->type != REDIS_REPLY_INTEGER) {
    error = describe("expected an integer reply, got " +
                     std::string{reply_type_name(reply->type)});
    return std::nullopt;
  }
  return reply->integer;
}

std::optional<std::string> redis_client::command_string(
  std::initializer_list<std::string_view> args, std::string& error) {
  auto reply = run(args, error);
  if (!reply) {
    return std::nullopt;
  }
  if (reply->type == REDIS_REPLY_NIL) {
    error = "nil reply (no such key)";
    return std::nullopt;
  }
  if (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS) {
    error = describe("expected a string reply, got " + std::string{reply_type_name(reply->type)});
    return std::nullopt;
  }
  return std::string{reply->str, reply->len};
}

std::optional<std::vector<std::string>> redis_client::command_strings(
  std::initializer_list<std::string_view> args, std::string& error) {
  auto reply = run(args, error);
  if (!reply) {
    return std::nullopt;
  }
  if (reply->type != REDIS_REPLY_ARRAY) {
    error = describe("expected an array reply, got " + std::string{reply_type_name(reply->type)});
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < reply->elements; ++i) {
    const auto* e = reply->element[i];
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
      out.emplace_back(e->str, e->len);
    } else if (e->type == REDIS_REPLY_NIL) {
      out.emplace_back();
    } else {
      error = describe("expected string elements, got " + std::string{reply_type_name(e->type)});
      return std::nullopt;
    }
  }
  return out;
}

bool redis_client::command_ok(std::initializer_list<std::string_view> args, std::string& error) {
  return run(args, error) != nullptr;
}

// -- cache probe -----------------------------------------------------------------

namespace {

double ratio(uint64_t hits, uint64_t misses) {
  const uint64_t lookups = hits + misses;
  return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
}

bool went_backwards(const redis_info& before, const redis_info& now) {
  return now.keyspace_hits < before.keyspace_hits ||
         now.keyspace_misses < before.keyspace_misses ||
         now.uptime_in_seconds < before.uptime_in_seconds;
}

} // namespace

double redis_cache_probe::hit_rate(const redis_info& info) const {
  const double lifetime = ratio(info.keyspace_hits, info.keyspace_misses);
  if (!previous_ || went_backwards(*previous_, info)) {
    return lifetime;
  }
  const uint64_t hits = info.keyspace_hits - previous_->keyspace_hits;
  const uint64_t misses = info.keyspace_misses - previous_->keyspace_misses;
  return hits + misses == 0 ? lifetime : ratio(hits, misses);
}

cache_sample redis_cache_probe::update(const redis_info& info) {
  if (!info.parsed_ok) {
    last_.source = "redis";
    return last_;
  }
  cache_sample sample;
  sample.source = "redis";
  sample.hit_rate = hit_rate(info);
  sample.total_keys = info.total_keys;
  sample.memory_usage = human_bytes(info.used_memory);
  sample.memory_bytes = info.used_memory;
  sample.evictions = info.evicted_keys;
  sample.gets = info.gets;
  sample.sets = info.sets;
  sample.deletes = info.deletes;
  previous_ = info;
  last_ = sample;
  return sample;
}

void redis_cache_probe::reset() noexcept {
  previous_.reset();
  last_ = cache_sample{};
}

} // namespace medianest::sources
