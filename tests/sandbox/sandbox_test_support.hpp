#pragma once
// Helpers shared by the sandbox tests: catching a SandboxError to look at it,
// plain file access outside the sandbox under test, and process checks.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "sandbox/local_sandbox.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox::test {

// The SandboxError that `action` throws; fails the test when it throws none.
template <class Action>
SandboxError error_of(Action&& action) {
  try {
    action();
  } catch (const SandboxError& error) {
    return error;
  }
  FAIL("expected a SandboxError");
  throw std::logic_error("unreachable");
}

// Runs `command` in `sandbox` with `timeout`.
inline ExecResult run(LocalSandbox& sandbox, const std::string& command,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  ExecRequest request;
  request.command = command;
  request.timeout = timeout;
  return sandbox.exec(request);
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Alive, or a zombie nobody reaped.
inline bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// The processes whose parent is `parent` (zombies included), from /proc.
inline std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_text(entry.path() / "stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 4 > stat.size()) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent) children.push_back(std::stoi(name));
  }
  return children;
}

// Until the file exists and is not empty; false at the deadline.
inline bool wait_for_file(const std::filesystem::path& path, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    if (std::filesystem::file_size(path, ec) > 0 && !ec) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

inline pid_t read_pid(const std::filesystem::path& path) {
  return static_cast<pid_t>(std::stol(read_text(path)));
}

}  // namespace sluice::sandbox::test
