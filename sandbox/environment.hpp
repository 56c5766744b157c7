#pragma once
// The environment a sandboxed command sees. The server's own environment
// holds secrets (database URLs, provider keys, the auth token), so a command
// gets only an allowlist of harmless variables from it, plus what the agent's
// definition asks for.
#include <array>
#include <map>
#include <string>
#include <string_view>

namespace sluice::sandbox {

using EnvMap = std::map<std::string, std::string>;

// The only variables taken from the server's environment by default.
inline constexpr std::array<std::string_view, 14> kInheritedVariables{
    "PATH",   "HOME",     "USER", "LOGNAME", "HOSTNAME", "SHELL", "LANG",
    "LC_ALL", "LC_CTYPE", "TZ",   "TERM",    "TMPDIR",   "TMP",   "TEMP"};

// Snapshot of the allowlisted variables of this process's environment, with
// the agent's layer applied on top: a value "$NAME" takes NAME from this
// process's environment now (left out, with a warning, when NAME is unset);
// an empty value removes the variable; any other value is set as given.
// Throws SandboxError (invalid_argument) for a name that is empty or holds
// '=' or a NUL byte, or a value holding a NUL byte.
EnvMap snapshot_environment(const EnvMap& layer);

// Throws SandboxError (invalid_argument) unless the pair can go into execve's
// environment ("NAME=value", NUL-terminated).
void check_variable(const std::string& name, const std::string& value);

}  // namespace sluice::sandbox
