#pragma once
// How a local sandbox's commands are kept away from the server
// (docs/security-tools.md). With bubblewrap, a command runs in its own PID
// namespace (it sees no process of the server, and killing anything it sees
// cannot free it from its timeout), with its own /proc, no capabilities, a
// read-only view of the system in which the server's private files are
// hidden, and only its working directory writable. With none, it runs as the
// server's user next to the server, under the forked supervisor.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::sandbox {

enum class Isolation { kNone, kBubblewrap };

// What an agent file asks for: "auto" (bubblewrap where it works here, else
// none), "bubblewrap" (or fail at start-up), "none".
enum class IsolationRequest { kAuto, kBubblewrap, kNone };

std::optional<IsolationRequest> isolation_request_from_name(std::string_view name);
std::string_view isolation_name(Isolation isolation);

// Whether bubblewrap can isolate a command on this machine: found, and one
// trial command run with the options every command gets. Runs the trial once
// per process (blocking, up to a few seconds) and logs the outcome.
struct IsolationSupport {
  bool available = false;
  std::string bwrap;   // the program's path, when available
  std::string reason;  // why not, when unavailable
};
const IsolationSupport& bubblewrap_support();

// The isolation in force for a request. Throws SandboxError (unavailable)
// when bubblewrap was asked for and cannot be had, with the reason.
Isolation resolve_isolation(IsolationRequest request);

// What an isolated command must not see: files are replaced by an empty
// read-only file, folders by an empty tmpfs; paths that do not exist are
// skipped.
using HiddenPaths = std::vector<std::filesystem::path>;

}  // namespace sluice::sandbox
