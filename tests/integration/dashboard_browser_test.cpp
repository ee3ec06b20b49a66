// The dashboard in a real browser: Debian's headless Chromium opens /dashboard#token=… against
// the real daemon, and the test reads what the page shows (its data attributes), every console
// error, exception and CSP violation, and keeps a screenshot in <build>/test-artifacts/.
//
// Chromium is driven through the DevTools protocol over --remote-debugging-pipe (fd 3: the
// browser reads commands, fd 4: it writes answers and events; NUL-terminated JSON), so no port
// and no WebSocket client are needed. Without a `chromium` on the PATH the test warns and
// passes (scripts/install-deps.sh installs it).

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

using namespace medianest::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    int status = -1;
    auto path = run_command(std::string{"command -v "} + name + " 2>/dev/null", &status);
    if (status == 0 && !path.empty())
      return path;
  }
  return {};
}

/// Where screenshots go: test-artifacts/ in the build directory (beside the daemon binary).
fs::path artifacts_dir() {
  auto dir = fs::path{MEDIANEST_BINARY}.parent_path() / "test-artifacts";
  fs::create_directories(dir);
  return dir;
}

std::string base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0)
      continue; // padding and line breaks
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

/// A headless Chromium with one page, driven over the DevTools pipe.
class chromium_page {
public:
  chromium_page(const std::string& binary, int width, int height)
      : profile_(make_temp_dir("medianest-chromium")) {
    int to_browser[2];
    int from_browser[2];
    if (pipe2(to_browser, O_CLOEXEC) != 0 || pipe2(from_browser, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    log_ = profile_ / "chromium.log";
    std::vector<std::string> args{binary,
                                  "--headless=new",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-dev-shm-usage",
                                  "--no-first-run",
                                  "--no-default-browser-check",
                                  "--disable-extensions",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--mute-audio",
                                  "--remote-debugging-pipe",
                                  "--user-data-dir=" + profile_.string(),
                                  "--window-size=" + std::to_string(width) + ","
                                    + std::to_string(height),
                                  "about:blank"};
    pid_ = fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // fds 3 and 4 are the protocol's; the pipes' own fds are above them or get there.
      int in = fcntl(to_browser[0], F_DUPFD, 10);
      int out = fcntl(from_browser[1], F_DUPFD, 10);
      dup2(in, 3);
      dup2(out, 4);
      int log = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, 1);
      dup2(log, 2);
      int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, 0);
      setpgid(0, 0); // its helper processes go with it
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(to_browser[0]);
    close(from_browser[1]);
    write_fd_ = to_browser[1];
    read_fd_ = from_browser[0];

    auto target = call("Target.createTarget", {{"url", "about:blank"}});
    auto attached = call("Target.attachToTarget",
                         {{"targetId", target.at("targetId")}, {"flatten", true}});
    session_ = json::value_to<std::string>(attached.at("sessionId"));
    page("Runtime.enable");
    page("Log.enable");
    page("Page.enable");
    page("Emulation.setDeviceMetricsOverride",
         {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", false}});
  }

  ~chromium_page() {
    if (write_fd_ >= 0)
      close(write_fd_);
    if (read_fd_ >= 0)
      close(read_fd_);
    if (pid_ > 0) {
      kill(-pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 50 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(100ms);
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(-pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    std::error_code ec;
    fs::remove_all(profile_, ec);
  }

  chromium_page(const chromium_page&) = delete;
  chromium_page& operator=(const chromium_page&) = delete;

  /// A command to the browser; returns its result or throws with the protocol's error.
  json::object call(const std::string& method, json::object params = {},
                    const std::string& session = {}) {
    auto id = next_id_++;
    json::object msg{{"id", id}, {"method", method}, {"params", std::move(params)}};
    if (!session.empty())
      msg["sessionId"] = session;
    auto text = json::serialize(msg);
    text.push_back('\0');
    for (size_t done = 0; done < text.size();) {
      auto n = ::write(write_fd_, text.data() + done, text.size() - done);
      if (n <= 0)
        throw std::runtime_error("chromium closed its pipe; its log:\n" + log());
      done += static_cast<size_t>(n);
    }
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto reply = next_message(100ms);
      if (!reply)
        continue;
      if (auto* rid = reply->if_contains("id"); rid && rid->to_number<int64_t>() == id) {
        if (auto* err = reply->if_contains("error"))
          throw std::runtime_error(method + " failed: " + json::serialize(*err));
        return reply->at("result").as_object();
      }
      events_.push_back(std::move(*reply));
    }
    throw std::runtime_error(method + ": no answer within 30 s; chromium's log:\n" + log());
  }

  /// A command to the page's session.
  json::object page(const std::string& method, json::object params = {}) {
    return call(method, std::move(params), session_);
  }

  /// Evaluates an expression in the page and returns its value.
  json::value eval(const std::string& expression) {
    auto r = page("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
    if (r.contains("exceptionDetails"))
      throw std::runtime_error("evaluating " + expression + " threw: "
                               + json::serialize(r.at("exceptionDetails")));
    auto& result = r.at("result").as_object();
    return result.contains("value") ? result.at("value") : json::value{};
  }

  /// Reads events for a while (the page keeps running meanwhile anyway).
  void pump(std::chrono::milliseconds duration) {
    auto until = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < until)
      if (auto m = next_message(50ms))
        events_.push_back(std::move(*m));
  }

  /// Console errors, uncaught exceptions and browser-reported errors (failed loads, CSP
  /// violations) of the page so far, one line each.
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const auto& e : events_) {
      auto method = e.contains("method") ? json::value_to<std::string>(e.at("method")) : "";
      const auto* params = e.contains("params") ? &e.at("params").as_object() : nullptr;
      if (!params)
        continue;
      if (method == "Runtime.consoleAPICalled") {
        auto type = json::value_to<std::string>(params->at("type"));
        if (type == "error" || type == "assert")
          out.push_back("console." + type + ": " + json::serialize(params->at("args")));
      } else if (method == "Runtime.exceptionThrown") {
        out.push_back("exception: " + json::serialize(params->at("exceptionDetails")));
      } else if (method == "Log.entryAdded") {
        const auto& entry = params->at("entry").as_object();
        if (entry.at("level").as_string() == "error")
          out.push_back("log (" + json::value_to<std::string>(entry.at("source"))
                        + "): " + json::value_to<std::string>(entry.at("text"))
                        + (entry.contains("url") ? " " + json::serialize(entry.at("url")) : ""));
      }
    }
    return out;
  }

  /// Saves a PNG of the whole page.
  void screenshot(const fs::path& file, int width) {
    auto metrics = page("Page.getLayoutMetrics");
    auto height = metrics.at("cssContentSize").at("height").to_number<double>();
    page("Emulation.setDeviceMetricsOverride", {{"width", width},
                                                {"height", static_cast<int>(height) + 1},
                                                {"deviceScaleFactor", 1},
                                                {"mobile", false}});
    pump(600ms); // the page redraws its canvases on resize
    auto shot = page("Page.captureScreenshot", {{"format", "png"}});
    std::ofstream out(file, std::ios::binary);
    out << base64_decode(json::value_to<std::string>(shot.at("data")));
  }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

private:
  std::optional<json::object> next_message(std::chrono::milliseconds timeout) {
    for (;;) {
      auto nul = buffer_.find('\0');
      if (nul != std::string::npos) {
        auto text = buffer_.substr(0, nul);
        buffer_.erase(0, nul + 1);
        return json::parse(text).as_object();
      }
      pollfd p{read_fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready <= 0)
        return std::nullopt;
      char chunk[65536];
      auto n = ::read(read_fd_, chunk, sizeof chunk);
      if (n <= 0)
        throw std::runtime_error("chromium closed its pipe; its log:\n" + log());
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  fs::path profile_;
  fs::path log_;
  pid_t pid_ = -1;
  int write_fd_ = -1;
  int read_fd_ = -1;
  int64_t next_id_ = 1;
  std::string buffer_;
  std::string session_;
  std::vector<json::object> events_;
};

/// What the page states about itself: <body>'s data attributes and each chart's counts.
const std::string page_state_js = R"js(JSON.stringify({
  status: document.body.dataset.status || '',
  role: document.body.dataset.role || '',
  history: document.body.dataset.history || '',
  frames: Number(document.body.dataset.frames || 0),
  connection: document.getElementById('connection').textContent,
  alerts: Number(document.getElementById('alerts').dataset.count),
  optimizations: Number(document.getElementById('optimizations').dataset.count),
  optimizeForm: !document.getElementById('optimize-form').hidden,
  optimizeResult: document.getElementById('optimize-result').textContent,
  charts: Object.fromEntries([...document.querySelectorAll('figure.chart')].map((f) => [f.id, {
    points: Number(f.dataset.points), live: Number(f.dataset.livePoints || 0),
    history: Number(f.dataset.historyPoints || 0),
    latest: f.querySelector('.latest').textContent }]))
}))js";

json::object page_state(chromium_page& browser) {
  return json::parse(json::value_to<std::string>(browser.eval(page_state_js))).as_object();
}

int64_t chart_count(const json::object& state, const char* chart, const char* what) {
  return state.at("charts").at(chart).at(what).to_number<int64_t>();
}

/// Polls the page until `ready(state)` holds or `timeout` passes; returns the last state.
template <class Pred>
json::object wait_for(chromium_page& browser, std::chrono::seconds timeout, Pred ready) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  json::object state;
  do {
    browser.pump(250ms);
    state = page_state(browser);
    if (ready(state))
      return state;
  } while (std::chrono::steady_clock::now() < deadline);
  return state;
}

const std::vector<const char*> all_charts{"chart-cpu",    "chart-memory", "chart-response",
                                          "chart-rpm",    "chart-errors", "chart-cache"};

} // namespace

TEST_CASE("headless Chromium renders the dashboard for an admin: history and live charts, no console errors") {
  auto binary = find_chromium();
  // scripts/install-deps.sh installs Chromium: its absence is a broken setup, not a skip.
  INFO("chromium is not installed (scripts/install-deps.sh installs it)");
  REQUIRE_FALSE(binary.empty());
  daemon_process d{{{"--sample-interval", "0.25"}, {}, {}}};
  // Some traffic first, so that the last hour has requests, response times and cache lookups.
  {
    http_client c;
    auto token = d.token("admin");
    for (int i = 0; i < 20; ++i) {
      c.get(d.base_url() + "/api/v1/performance/summary", {bearer(token)});
      c.get(d.base_url() + "/api/v1/performance/history?metric=cpu&period=1h",
            {bearer(token)});
      std::this_thread::sleep_for(50ms);
    }
    std::this_thread::sleep_for(1s);
  }

  chromium_page browser(binary, 1280, 900);
  browser.page("Page.navigate", {{"url", d.base_url() + "/dashboard#token=" + d.token("admin")}});

  auto state = wait_for(browser, 40s, [](const json::object& s) {
    if (s.at("status").as_string() != "connected" || s.at("history").as_string() != "loaded")
      return false;
    for (auto chart : all_charts)
      if (chart_count(s, chart, "points") < 3)
        return false;
    return chart_count(s, "chart-cpu", "live") >= 5 && chart_count(s, "chart-response", "live") >= 3;
  });
  INFO("page state: " << json::serialize(state));

  // An alert that fires now reaches the open page as an alert frame (/summary is re-read
  // only every 30 s).
  {
    http_client c;
    auto put = c.request("PUT", d.base_url() + "/api/v1/performance/alerts",
                         {bearer(d.token("admin")), "Content-Type: application/json"},
                         R"({"thresholds":{"memoryUsage":{"warning":0.5,"critical":99.9,"forSeconds":0}}})");
    REQUIRE(put.status == 200);
  }
  auto with_alert = wait_for(browser, 15s, [](const json::object& s) {
    return s.at("alerts").to_number<int64_t>() >= 1;
  });
  CHECK(with_alert.at("alerts").to_number<int64_t>() >= 1);

  // The admin's button starts a run; the answer is shown and the run is listed.
  browser.eval("document.querySelector('#optimize-form button').click(); 'ok'");
  auto with_run = wait_for(browser, 20s, [](const json::object& s) {
    return s.at("optimizations").to_number<int64_t>() >= 1
           && s.at("optimizeResult").as_string().starts_with("Started opt-");
  });
  INFO("after starting an optimization: " << json::serialize(with_run));
  CHECK(with_run.at("optimizeResult").as_string().starts_with("Started opt-"));
  CHECK(with_run.at("optimizations").to_number<int64_t>() >= 1);
  browser.pump(1500ms); // let the run's frames arrive before the picture

  auto shot = artifacts_dir() / "dashboard.png";
  browser.screenshot(shot, 1280);
  WARN("dashboard screenshot: " << shot.string());

  CHECK(state.at("status").as_string() == "connected");
  CHECK(state.at("role").as_string() == "admin");
  CHECK(state.at("history").as_string() == "loaded");
  CHECK(state.at("frames").to_number<int64_t>() >= 5);
  CHECK(state.at("optimizeForm").as_bool());
  for (auto chart : all_charts) {
    INFO(chart);
    CHECK(chart_count(state, chart, "points") >= 3);
  }
  // The last hour came from /history, and the live feed added to it.
  for (auto chart : {"chart-cpu", "chart-memory", "chart-response", "chart-rpm"})
    CHECK(chart_count(state, chart, "history") >= 1);
  CHECK(chart_count(state, "chart-cpu", "live") >= 5);
  // The fragment is gone from the address bar; the token lives in sessionStorage.
  CHECK(json::value_to<std::string>(browser.eval("location.hash")).empty());
  CHECK(json::value_to<std::string>(
          browser.eval("sessionStorage.getItem('medianest.dashboard.token') ? 'yes' : 'no'"))
        == "yes");
  // The token went nowhere but to the daemon: the page's own URL does not carry it any more.
  CHECK(json::value_to<std::string>(browser.eval("location.href")).find("token=")
        == std::string::npos);

  auto errors = browser.errors();
  for (const auto& e : errors)
    UNSCOPED_INFO(e);
  CHECK(errors.empty());
  REQUIRE(fs::file_size(shot) > 10000);
}

TEST_CASE("headless Chromium: a user sees live charts without /history and no admin controls") {
  auto binary = find_chromium();
  INFO("chromium is not installed (scripts/install-deps.sh installs it)");
  REQUIRE_FALSE(binary.empty());
  daemon_process d{{{"--sample-interval", "0.25"}, {}, {}}};
  chromium_page browser(binary, 1280, 900);
  browser.page("Page.navigate", {{"url", d.base_url() + "/dashboard#token=" + d.token("user")}});
  auto state = wait_for(browser, 30s, [](const json::object& s) {
    return s.at("status").as_string() == "connected"
           && chart_count(s, "chart-cpu", "live") >= 3
           && chart_count(s, "chart-memory", "live") >= 3;
  });
  INFO("page state: " << json::serialize(state));
  CHECK(state.at("status").as_string() == "connected");
  CHECK(state.at("role").as_string() == "user");
  CHECK(state.at("history").as_string() == "not-allowed");
  CHECK_FALSE(state.at("optimizeForm").as_bool());
  CHECK(chart_count(state, "chart-cpu", "live") >= 3);
  CHECK(chart_count(state, "chart-cpu", "history") == 0);
  CHECK(chart_count(state, "chart-rpm", "points") == 0); // not in a user's frames
  browser.screenshot(artifacts_dir() / "dashboard-user.png", 1280);
  auto errors = browser.errors();
  for (const auto& e : errors)
    UNSCOPED_INFO(e);
  CHECK(errors.empty());
}

TEST_CASE("headless Chromium: without a token the dashboard shows the sign-in form, then signs in") {
  auto binary = find_chromium();
  INFO("chromium is not installed (scripts/install-deps.sh installs it)");
  REQUIRE_FALSE(binary.empty());
  daemon_process d{{{"--sample-interval", "0.25"}, {}, {}}};
  chromium_page browser(binary, 1024, 768);
  // Something that is not a JWT is refused by the page itself, before any request.
  browser.page("Page.navigate", {{"url", d.base_url() + "/dashboard#token=not-a-jwt"}});
  auto state = wait_for(browser, 15s, [&](const json::object& s) {
    return s.at("status").as_string() == "signed-out"
           && json::value_to<std::string>(browser.eval("String(document.readyState)")) == "complete";
  });
  CHECK(state.at("status").as_string() == "signed-out");
  CHECK(json::value_to<std::string>(browser.eval(
          "document.getElementById('login-error').textContent")).find("does not look like a JWT")
        != std::string::npos);
  CHECK(json::value_to<std::string>(
          browser.eval("String(document.getElementById('login').hidden)")) == "false");

  // Type a token into the form and submit it, as a person would.
  auto token = d.token("admin");
  browser.eval("document.getElementById('token').value = '" + token + "'; "
               "document.getElementById('login-form').requestSubmit(); 'ok'");
  state = wait_for(browser, 20s, [](const json::object& s) {
    return s.at("status").as_string() == "connected" && s.at("history").as_string() == "loaded";
  });
  CHECK(state.at("status").as_string() == "connected");
  CHECK(state.at("role").as_string() == "admin");

  // Sign out clears the stored token and closes the feed.
  browser.eval("document.getElementById('sign-out').click(); 'ok'");
  state = wait_for(browser, 5s, [](const json::object& s) {
    return s.at("status").as_string() == "signed-out";
  });
  CHECK(state.at("status").as_string() == "signed-out");
  CHECK(json::value_to<std::string>(
          browser.eval("String(sessionStorage.getItem('medianest.dashboard.token'))")) == "null");
  auto errors = browser.errors();
  for (const auto& e : errors)
    UNSCOPED_INFO(e);
  CHECK(errors.empty());
}

TEST_CASE("headless Chromium: a page refused by the live feed shows why and keeps retrying") {
  auto binary = find_chromium();
  INFO("chromium is not installed (scripts/install-deps.sh installs it)");
  REQUIRE_FALSE(binary.empty());
  daemon_process d{{{"--sample-interval", "0.25", "--live-max-clients", "1"}, {}, {}}};
  auto url = d.base_url() + "/dashboard#token=" + d.token("user");
  chromium_page first(binary, 1024, 768);
  first.page("Page.navigate", {{"url", url}});
  auto state = wait_for(first, 20s, [](const json::object& s) {
    return s.at("status").as_string() == "connected";
  });
  REQUIRE(state.at("status").as_string() == "connected");

  // The daemon's one live client is taken: the second page is closed with 1013.
  chromium_page second(binary, 1024, 768);
  second.page("Page.navigate", {{"url", url}});
  state = wait_for(second, 20s, [](const json::object& s) {
    return s.at("connection").as_string().find("too many live clients") != std::string::npos;
  });
  INFO("second page: " << json::serialize(state));
  CHECK(state.at("status").as_string() == "reconnecting");
  CHECK(state.at("connection").as_string().find("1013") != std::string::npos);
  CHECK(state.at("connection").as_string().find("retrying in") != std::string::npos);
  // Refused by the feed, not signed out: the token is still good.
  CHECK(state.at("role").as_string() == "user");
  for (const auto& e : second.errors())
    UNSCOPED_INFO(e);
  CHECK(second.errors().empty());
}
