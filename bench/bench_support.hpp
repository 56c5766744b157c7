#pragma once
// What the server benchmarks share: --name=value options, a temporary folder, a
// child process, the real sluice server (a temporary project with the echo
// agent, a free loopback port, in-memory or file SQLite) and http_load run as a
// child (found next to the benchmark's own executable).
//
// The server inherits the benchmark's environment (so SLUICE_ACTOR_THREADS,
// SLUICE_IO_THREADS, MALLOC_* and the like given to a benchmark reach the
// server); the benchmark then sets PORT, HOST and DATABASE_URL itself.
// SLUICE_BENCH_SERVER_WRAPPER, when set, is a space-separated command put in
// front of the server, e.g. "valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out".
#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

extern char** environ;

namespace bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// --name=value command-line options; --help prints the usage.
class Options {
 public:
  Options(int argc, char** argv, std::string usage) : usage_(std::move(usage)) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--help") {
        std::cout << usage_;
        std::exit(0);
      }
      const size_t eq = arg.find('=');
      if (!arg.starts_with("--") || eq == std::string::npos) fail("expected --name=value: " + arg);
      given_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    }
  }

  std::string text(const std::string& name, std::string fallback) {
    auto found = given_.find(name);
    if (found == given_.end()) return fallback;
    std::string value = found->second;
    given_.erase(found);
    return value;
  }

  int64_t integer(const std::string& name, int64_t fallback) {
    const std::string value = text(name, std::to_string(fallback));
    try {
      return std::stoll(value);
    } catch (const std::logic_error&) {
      fail("--" + name + " needs an integer, got " + value);
    }
  }

  // Call once every option was read: rejects the unknown ones.
  void done() const {
    if (!given_.empty()) fail("unknown option --" + given_.begin()->first);
  }

  // Prints the message and the usage, and exits with status 2.
  [[noreturn]] void fail(const std::string& message) const {
    std::cerr << message << "\n" << usage_;
    std::exit(2);
  }

 private:
  std::string usage_;
  std::map<std::string, std::string> given_;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::map<std::string, std::string> inherited_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view line(*entry);
    const size_t eq = line.find('=');
    if (eq != std::string_view::npos) env[std::string(line.substr(0, eq))] = line.substr(eq + 1);
  }
  return env;
}

// A child process; killed (SIGKILL) and reaped by the destructor if still running.
class Process {
 public:
  // stdout_path empty: the child shares this process's stdout; stderr likewise.
  Process(std::vector<std::string> argv, const std::map<std::string, std::string>& env,
          const fs::path& stdout_path, const fs::path& stderr_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (!stdout_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (!stderr_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    std::vector<std::string> lines;
    for (const auto& [name, value] : env) lines.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& line : lines) envp.push_back(line.data());
    envp.push_back(nullptr);
    const int error = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) throw std::runtime_error("cannot start " + argv[0]);
  }
  ~Process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait(10s);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int number) {
    if (running()) ::kill(pid_, number);
  }
  bool running() { return !reap(); }
  // The exit code (128 + signal when killed), or nullopt if still running at the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!reap()) {
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
    return exit_code_;
  }

 private:
  bool reap() {
    if (exit_code_) return true;
    int status = 0;
    const pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == 0) return false;
    exit_code_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    return true;
  }

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

inline uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, {boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(0)});
  return acceptor.local_endpoint().port();
}

struct HttpAnswer {
  int status = 0;  // 0: no answer (not listening, or the connection failed)
  std::string body;
};

// One request on its own connection, to 127.0.0.1.
inline HttpAnswer http_request(uint16_t port, const std::string& method, const std::string& path,
                               const std::string& body = "") {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> request(http::string_to_verb(method), path, 11);
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::connection, "close");
    if (!body.empty()) request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return {static_cast<int>(response.result_int()), std::move(response.body())};
  } catch (const boost::system::system_error&) {
    return {};
  }
}

// The value of one series in Prometheus text, e.g. `sluice_queue_depth` or
// `sluice_settlements_total{outcome="completed"}`; 0 when absent.
inline double metric_value(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series) && line.size() > series.size() && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return 0;
}

// Polls `done` every `every` until it holds (true) or `timeout` passes (false).
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds every = 10ms) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// Median latency in ms of overwriting 4 KiB of an allocated file and
// fdatasync: about what one durable commit (a WAL append) waits on this disk now.
inline double fdatasync_ms(const fs::path& dir, int rounds = 100) {
  const fs::path file = dir / "fdatasync-probe";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string page(4096, 'x');
  const auto write_page = [&](int i) {
    return ::pwrite(fd, page.data(), page.size(), static_cast<off_t>(i) * 4096) ==
           static_cast<ssize_t>(page.size());
  };
  bool ok = fd >= 0;
  for (int i = 0; ok && i < rounds; ++i) ok = write_page(i);
  ok = ok && ::fsync(fd) == 0;
  std::vector<double> ms;
  for (int i = 0; ok && i < rounds; ++i) {
    const auto start = Clock::now();
    ok = write_page(i) && ::fdatasync(fd) == 0;
    ms.push_back(seconds_since(start) * 1e3);
  }
  if (fd >= 0) ::close(fd);
  fs::remove(file);
  if (!ok) throw std::runtime_error("cannot write and fdatasync " + file.string());
  std::nth_element(ms.begin(), ms.begin() + rounds / 2, ms.end());
  return ms[static_cast<size_t>(rounds / 2)];
}

// One line of context for the file-SQLite numbers, which wait on the disk.
inline void print_fdatasync() {
  std::printf("fdatasync of 4 KiB in %s right now: median %.3f ms\n",
              fs::temp_directory_path().c_str(), fdatasync_ms(fs::temp_directory_path()));
}

struct ServerSetup {
  bool file_db = true;                     // false: in-memory SQLite
  std::map<std::string, std::string> env;  // on top of the inherited environment
};

// The sluice binary serving a temporary project with one agent, `echo`, which
// answers at once (the sluice/echo model with delay_ms = 0).
class Server {
 public:
  explicit Server(const ServerSetup& setup) : port_(free_port()) {
    fs::create_directories(dir_.path() / "agents");
    std::ofstream(dir_.path() / "agents" / "echo.toml")
        << "model = \"sluice/echo\"\nexpose = [\"http\"]\n\n[model_options]\ndelay_ms = 0\n";
    auto env = inherited_environment();
    env.erase("DATABASE_URL");
    env.try_emplace("SLUICE_LOG_LEVEL", "warn");
    env["PORT"] = std::to_string(port_);
    env["HOST"] = "127.0.0.1";
    if (setup.file_db) env["DATABASE_URL"] = "sqlite://" + (dir_.path() / "bench.db").string();
    for (const auto& [name, value] : setup.env) env[name] = value;

    std::vector<std::string> argv;
    if (const char* wrapper = std::getenv("SLUICE_BENCH_SERVER_WRAPPER")) {
      std::istringstream words(wrapper);
      for (std::string word; words >> word;) argv.push_back(word);
    }
    argv.insert(argv.end(), {SLUICE_BINARY, "serve", "--project", dir_.path().string()});
    process_.emplace(argv, env, dir_.path() / "server.out", dir_.path() / "server.log");
    const bool up = wait_until(
        [this] {
          return !process_->running() || http_request(port_, "GET", "/healthz").status == 200;
        },
        120s, 20ms);
    if (!up || !process_->running()) fail("did not come up");
  }
  ~Server() {  // without stop(): SIGTERM, and ~Process kills it if it lingers
    process_->signal(SIGTERM);
    process_->wait(60s);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return port_; }

  double metric(const std::string& series) const {
    const HttpAnswer answer = http_request(port_, "GET", "/metrics");
    if (answer.status != 200) fail("did not answer /metrics");
    return metric_value(answer.body, series);
  }

  // A field of /proc/PID/status in kB, e.g. "VmRSS" or "VmHWM".
  int64_t status_kb(const std::string& field) const {
    std::ifstream status("/proc/" + std::to_string(process_->pid()) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
    }
    fail("has no " + field);
  }

  // SIGKILL, as a crash does; waits until it is gone.
  void kill_hard() {
    process_->signal(SIGKILL);
    process_->wait(10s);
  }

  // SIGTERM, then waits for a clean exit.
  void stop() {
    process_->signal(SIGTERM);
    const std::optional<int> code = process_->wait(60s);
    if (code != 0) fail("did not exit cleanly after SIGTERM");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::cerr << "sluice server " << what << "; its log:\n"
              << read_text(dir_.path() / "server.log") << "\n";
    throw std::runtime_error("sluice server " + what);
  }

  TempDir dir_;
  uint16_t port_;
  std::optional<Process> process_;
};

// What http_load printed with --json.
struct LoadResult {
  uint64_t requests = 0;
  uint64_t errors = 0;
  double seconds = 0;
  double rps = 0;
  std::map<std::string, uint64_t> statuses;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;  // latency, ms

  uint64_t status(int code) const {
    auto found = statuses.find(std::to_string(code));
    return found == statuses.end() ? 0 : found->second;
  }
  std::string status_text() const {
    std::string text;
    for (const auto& [code, count] : statuses) {
      text += (text.empty() ? "" : " ") + code + "=" + std::to_string(count);
    }
    return text;
  }
};

// Runs http_load (next to this executable) against 127.0.0.1:port.
inline LoadResult run_http_load(uint16_t port, std::vector<std::string> args) {
  const fs::path program = fs::read_symlink("/proc/self/exe").parent_path() / "http_load";
  TempDir dir;
  args.insert(args.begin(), {program.string(), "--port", std::to_string(port), "--json"});
  Process load(args, inherited_environment(), dir.path() / "out.json", {});
  const std::optional<int> code = load.wait(std::chrono::hours(1));
  const std::string out = read_text(dir.path() / "out.json");
  if (code != 0 || out.empty()) throw std::runtime_error("http_load failed: " + out);
  const nlohmann::json json = nlohmann::json::parse(out);
  LoadResult result;
  result.requests = json.at("requests");
  result.errors = json.at("errors");
  result.seconds = json.at("seconds");
  result.rps = json.at("rps");
  result.statuses = json.at("status").get<std::map<std::string, uint64_t>>();
  const auto& latency = json.at("latency_ms");
  result.p50 = latency.at("p50");
  result.p90 = latency.at("p90");
  result.p99 = latency.at("p99");
  result.max = latency.at("max");
  return result;
}

inline void print_load(const char* label, const LoadResult& load) {
  std::printf("%-28s %8.0f req/s  %7llu requests in %.2f s  [%s] errors=%llu\n", label, load.rps,
              static_cast<unsigned long long>(load.requests), load.seconds,
              load.status_text().c_str(), static_cast<unsigned long long>(load.errors));
  std::printf("%-28s latency ms p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", "", load.p50, load.p90,
              load.p99, load.max);
}

}  // namespace bench
