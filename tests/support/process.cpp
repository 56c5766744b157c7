#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/http_client.hpp"

extern char** environ;

namespace sluice::test {
namespace {

using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> base_environment(EnvBase base) {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(text.substr(0, eq));
    bool keep = base == EnvBase::kInherit || name == "PATH" || name == "HOME" || name == "TMPDIR" ||
                (name.size() > 12 && name.ends_with("SAN_OPTIONS"));
    if (keep) env[name] = std::string(text.substr(eq + 1));
  }
  env.try_emplace("PATH", "/usr/local/bin:/usr/bin:/bin");
  return env;
}

std::string read_file(const std::filesystem::path& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
};

void redirect(posix_spawn_file_actions_t& actions, int fd, const std::filesystem::path& path) {
  if (path.empty()) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, fd, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
}

}  // namespace

Process::Process(ProcessOptions options) : options_(std::move(options)) {
  if (options_.argv.empty()) throw std::runtime_error("Process needs a program in argv");
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  redirect(setup.actions, 1, options_.stdout_path);
  redirect(setup.actions, 2, options_.stderr_path);
  if (!options_.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, options_.working_dir.c_str());
  }
  // The child starts with default signal handling and nothing blocked, whatever
  // the test runner set up for itself.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&setup.attributes, &all);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  for (auto& arg : options_.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto env = base_environment(options_.env_base);
  for (const auto& [name, value] : options_.env) env[name] = value;
  std::vector<std::string> env_lines;
  for (const auto& [name, value] : env) env_lines.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& line : env_lines) envp.push_back(line.data());
  envp.push_back(nullptr);

  int error =
      posix_spawnp(&pid_, argv[0], &setup.actions, &setup.attributes, argv.data(), envp.data());
  if (error != 0) {
    throw std::runtime_error("cannot start " + options_.argv[0] + ": " + std::strerror(error));
  }
}

Process::~Process() {
  if (status_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  try_reap(true);
}

void Process::kill(int signal) {
  if (!status_ && pid_ > 0) ::kill(pid_, signal);
}

bool Process::try_reap(bool block) {
  if (status_) return true;
  int raw = 0;
  pid_t result;
  do {
    result = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == 0) return false;
  ExitStatus status;
  if (result > 0 && WIFEXITED(raw)) status.code = WEXITSTATUS(raw);
  if (result > 0 && WIFSIGNALED(raw)) status.signal = WTERMSIG(raw);
  status_ = status;
  return true;
}

std::optional<ExitStatus> Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(2);
  while (!try_reap(false)) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return status_;
}

bool Process::running() {
  return !try_reap(false);
}

std::string Process::stdout_text() const {
  return read_file(options_.stdout_path);
}
std::string Process::stderr_text() const {
  return read_file(options_.stderr_path);
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot find a free port");
  return ntohs(address.sin_port);
}

bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout, Process* process) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (process && !process->running()) return false;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    ::close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool wait_for_http_ok(uint16_t port, const std::string& path, std::chrono::milliseconds timeout,
                      Process* process) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (process && !process->running()) return false;
    try {
      HttpClient client("127.0.0.1", port);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto response = client.request("GET", path, {}, {}, std::clamp(left, 1ms, 2000ms));
      if (response.status == 200) return true;
    } catch (const std::runtime_error&) {
      // not listening yet, or not answering yet: try again
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace sluice::test
