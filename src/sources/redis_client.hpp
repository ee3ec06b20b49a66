#pragma once

// A plain, blocking Redis adapter over hiredis: one connection, generic binary-safe commands,
// the INFO parser and the probe that turns successive INFO readings into cache samples.
// Nothing here throws; failures come back as nullopt/false with a message.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "app/config.hpp"
#include "model/metrics.hpp"

struct redisContext;
struct redisReply;

namespace medianest::sources {

/// What the monitor needs from `INFO everything`. Counters are the server's lifetime values
/// (since start or the last CONFIG RESETSTAT); fields absent from the text stay 0 / empty.
struct redis_info {
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
  uint64_t evicted_keys = 0;
  uint64_t used_memory = 0;        ///< bytes
  uint64_t total_keys = 0;         ///< sum of keys= over every dbN line of the Keyspace section
  uint64_t connected_clients = 0;
  uint64_t maxmemory = 0;          ///< bytes; 0 means no limit
  std::string maxmemory_policy;
  uint64_t uptime_in_seconds = 0;
  /// Calls of the commands that read stored values of string and hash keys:
  /// get, mget, getex, getdel, getset, getrange, substr, hget, hmget, hgetall, hvals.
  uint64_t gets = 0;
  /// Calls of the commands that write values of string and hash keys:
  /// set, setex, psetex, setnx, mset, msetnx, getset, append, setrange, incr, incrby,
  /// incrbyfloat, decr, decrby, hset, hsetnx, hmset, hincrby, hincrbyfloat.
  uint64_t sets = 0;
  /// Calls of the commands that delete keys or hash fields: del, unlink, getdel, hdel.
  uint64_t deletes = 0;
  /// True when the text held keyspace_hits, keyspace_misses and used_memory.
  bool parsed_ok = false;
};

/// Parses the text of `INFO everything` (or `INFO all` followed by `INFO commandstats`):
/// `key:value` lines, `# Section` headers, LF or CRLF endings. Unknown lines are ignored.
/// A command that does two things (getset, getdel) counts in both of its categories; list,
/// set, sorted-set and stream commands are not counted (they are not cache lookups).
redis_info parse_redis_info(std::string_view text);

/// One blocking connection to a Redis server. Non-copyable, movable; the connection closes with
/// the object. Every call is bounded by the timeout (a silent server costs about one timeout per
/// call; host name resolution is not bounded). An I/O error or timeout closes the connection, so
/// `connected()` turns false and the caller reconnects with `connect()`; an error reply from the
/// server keeps it open. Not thread-safe: use one client per thread.
class redis_client {
public:
  /// Remembers where to connect; does not connect. Timeouts below 1 ms count as 1 ms.
  explicit redis_client(redis_target target,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{1000});
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;
  redis_client(redis_client&&) noexcept = default;
  redis_client& operator=(redis_client&&) noexcept = default;

  /// (Re)connects: TCP connect within the timeout, the timeout for every later command, AUTH
  /// when a password is given, SELECT when the db is not 0, then PING (so a server that wants a
  /// password nobody gave fails here). False, `error` set and no connection on failure.
  bool connect(std::string& error);

  /// True between a successful `connect()` and `disconnect()` or the first I/O error.
  bool connected() const noexcept;

  /// Closes the connection, if any.
  void disconnect() noexcept;

  /// The text of `INFO everything`; nullopt and `error` set on failure.
  std::optional<std::string> info(std::string& error);

  /// Runs a command whose reply is an integer (DEL, INCR, DBSIZE...). Arguments go to the server
  /// as they are (binary-safe, no formatting). nullopt and `error` set on failure, on an error
  /// reply and on any other reply type.
  std::optional<long long> command_integer(std::initializer_list<std::string_view> args,
                                           std::string& error);

  /// Runs a command whose reply is a bulk or status string (GET, PING, ECHO...). nullopt and
  /// `error` set on failure, on an error reply, on a nil reply (a missing key: `error` then
  /// starts with "nil") and on any other reply type (integers, arrays).
  std::optional<std::string> command_string(std::initializer_list<std::string_view> args,
                                            std::string& error);

  /// Runs a command whose reply is an array of strings (CONFIG GET, KEYS...): its elements,
  /// nil elements as "". nullopt and `error` set on failure and on any other reply type.
  std::optional<std::vector<std::string>> command_strings(
    std::initializer_list<std::string_view> args, std::string& error);

  /// Runs a command and tells whether the server accepted it: true for any reply but an error
  /// (status, integer, string, nil or array); false and `error` set otherwise.
  bool command_ok(std::initializer_list<std::string_view> args, std::string& error);

  /// Where this client connects.
  const redis_target& target() const noexcept { return target_; }

private:
  struct context_deleter {
    void operator()(redisContext* context) const noexcept;
  };
  struct reply_deleter {
    void operator()(redisReply* reply) const noexcept;
  };
  using context_ptr = std::unique_ptr<redisContext, context_deleter>;
  using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

  /// Sends one command; null and `error` set on I/O failure (which also disconnects) and on an
  /// error reply.
  reply_ptr run(std::initializer_list<std::string_view> args, std::string& error);
  /// AUTH, SELECT and PING on a fresh connection; disconnects on failure.
  bool handshake(std::string& error);
  /// Sets `error` to the failed `step` and `why`, disconnects and returns false.
  bool handshake_failed(std::string_view step, std::string_view why, std::string& error);
  /// Turns the context's I/O error into `error` and disconnects.
  void io_failed(int saved_errno, std::string& error);
  std::string describe(std::string_view what) const;

  redis_target target_;
  std::chrono::milliseconds timeout_;
  context_ptr context_;
};

/// Turns successive INFO readings of one server into cache samples (source "redis").
///
/// hit_rate is hits / (hits + misses) over the interval since the previous reading. It falls
/// back to the lifetime ratio (0 when the server never had a lookup) on the first reading, when
/// the counters went backwards or the uptime shrank (restart, CONFIG RESETSTAT), and when the
/// interval had no lookups at all, so that an idle cache does not show a fake 0 % hit rate.
/// evictions, gets, sets and deletes are lifetime counters.
class redis_cache_probe {
public:
  /// The sample for `info`, which becomes the baseline of the next interval. A reading with
  /// `parsed_ok == false` is ignored: it returns the previous sample (a default one with source
  /// "redis" before any) and leaves the baseline alone.
  cache_sample update(const redis_info& info);

  /// Forgets the baseline: the next reading counts as the first.
  void reset() noexcept;

private:
  double hit_rate(const redis_info& info) const;

  std::optional<redis_info> previous_;
  cache_sample last_;
};

} // namespace medianest::sources
