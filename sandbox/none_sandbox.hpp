#pragma once
// For agents given no sandbox: no file and no command of the host is
// reachable. Every operation fails with ErrorKind::kNoSandbox, whose message
// says so in words a model understands.
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

class NoneSandbox : public Sandbox {
 public:
  std::string read(const std::string& path) override;
  std::string read_bytes(const std::string& path) override;
  void write(const std::string& path, std::string_view bytes) override;
  FileStat stat(const std::string& path) override;
  std::vector<DirEntry> readdir(const std::string& path) override;
  bool exists(const std::string& path) override;
  void mkdir(const std::string& path) override;
  void rm(const std::string& path, bool recursive) override;
  ExecResult exec(const ExecRequest& request) override;
};

}  // namespace sluice::sandbox
