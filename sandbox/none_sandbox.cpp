#include "sandbox/none_sandbox.hpp"

namespace sluice::sandbox {
namespace {

[[noreturn]] void refuse(const char* operation) {
  throw SandboxError(ErrorKind::kNoSandbox,
                     std::string("this agent has no sandbox: ") + operation + " is not available");
}

}  // namespace

std::string NoneSandbox::read(const std::string&) {
  refuse("reading files");
}
std::string NoneSandbox::read_bytes(const std::string&) {
  refuse("reading files");
}
void NoneSandbox::write(const std::string&, std::string_view) {
  refuse("writing files");
}
FileStat NoneSandbox::stat(const std::string&) {
  refuse("inspecting files");
}
std::vector<DirEntry> NoneSandbox::readdir(const std::string&) {
  refuse("listing folders");
}
bool NoneSandbox::exists(const std::string&) {
  refuse("inspecting files");
}
void NoneSandbox::mkdir(const std::string&) {
  refuse("creating folders");
}
void NoneSandbox::rm(const std::string&, bool) {
  refuse("removing files");
}
ExecResult NoneSandbox::exec(const ExecRequest&) {
  refuse("running commands");
}

}  // namespace sluice::sandbox
