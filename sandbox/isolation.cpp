#include "sandbox/isolation.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <mutex>

#include <spdlog/spdlog.h>

#include "sandbox/bubblewrap.hpp"
#include "sandbox/command_output.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/spawn.hpp"

namespace sluice::sandbox {
namespace {

// Debian installs it in /usr/bin. A fixed list rather than PATH: the server's
// PATH should not decide which program gets to isolate commands.
constexpr const char* kBwrapPaths[] = {"/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"};

// One trial command with every option a real one gets, so that whatever the
// machine forbids (user namespaces, mounting /proc) shows at start-up.
IsolationSupport try_bubblewrap() {
  IsolationSupport support;
  for (const char* path : kBwrapPaths) {
    if (::access(path, X_OK) == 0) {
      support.bwrap = path;
      break;
    }
  }
  if (support.bwrap.empty()) {
    support.reason = "bwrap is not installed (Debian package bubblewrap)";
    return support;
  }
  try {
    BubblewrapPlan plan{support.bwrap, "/tmp", "/tmp", {}, {"/bin/sh", "-c", "exit 0"}};
    Pipe err = make_pipe();
    const pid_t pid = spawn_program({bubblewrap_argv(plan), {}, -1, err.write.get()});
    err.write.reset();
    UniqueFd handle = process_handle(pid);
    Pipe none = make_pipe();
    none.write.reset();
    Capture ignored, problem;
    const bool exited = pump_output({none.read, err.read, handle.get(), 4096, ignored, problem},
                                    std::chrono::steady_clock::now() + std::chrono::seconds(10),
                                    std::chrono::milliseconds(500), [] {});
    if (!exited) ::kill(pid, SIGKILL);
    const int status = reap(pid);
    if (exited && status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      support.available = true;
      return support;
    }
    std::string said = finish_stream(problem, "stderr", 4096);
    while (!said.empty() && said.back() == '\n') said.pop_back();
    support.reason = !exited        ? support.bwrap + " did not finish a trial command in 10 s"
                     : said.empty() ? support.bwrap + " failed a trial command"
                                    : said;
  } catch (const SandboxError& error) {
    support.reason = error.what();
  }
  return support;
}

}  // namespace

std::optional<IsolationRequest> isolation_request_from_name(std::string_view name) {
  if (name == "auto") return IsolationRequest::kAuto;
  if (name == "bubblewrap") return IsolationRequest::kBubblewrap;
  if (name == "none") return IsolationRequest::kNone;
  return std::nullopt;
}

std::string_view isolation_name(Isolation isolation) {
  return isolation == Isolation::kBubblewrap ? "bubblewrap" : "none";
}

const IsolationSupport& bubblewrap_support() {
  static std::once_flag once;
  static IsolationSupport support;
  std::call_once(once, [] {
    support = try_bubblewrap();
    if (support.available) {
      spdlog::info("sandbox isolation: bubblewrap works here ({})", support.bwrap);
    } else {
      spdlog::warn("sandbox isolation: bubblewrap cannot run here: {}", support.reason);
    }
  });
  return support;
}

Isolation resolve_isolation(IsolationRequest request) {
  if (request == IsolationRequest::kNone) return Isolation::kNone;
  const IsolationSupport& support = bubblewrap_support();
  if (support.available) return Isolation::kBubblewrap;
  if (request == IsolationRequest::kBubblewrap) {
    throw SandboxError(ErrorKind::kUnavailable,
                       "isolation = \"bubblewrap\" was asked for, but bubblewrap cannot run "
                       "here: " +
                           support.reason);
  }
  return Isolation::kNone;
}

}  // namespace sluice::sandbox
