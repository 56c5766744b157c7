#pragma once
// A sandbox on another machine (a container, a VM, a sandbox service),
// reached over the JSON-over-HTTP protocol of docs/remote-sandbox.md: each
// operation is one POST {base_url}/v1/{operation} on its own connection.
// Plain HTTP only: use it on a private network or behind a TLS tunnel.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "sandbox/http_post.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

using namespace std::chrono_literals;

struct RemoteSandboxOptions {
  std::string base_url;      // "http://host[:port][/prefix]"
  std::string bearer_token;  // sent as "Authorization: Bearer ..." when set
  // Limit of one call; an exec call gets its command's timeout on top.
  std::chrono::milliseconds call_timeout = 30s;
  // Sent with an exec request that names no timeout, so the connector knows
  // how long to wait.
  std::chrono::milliseconds default_exec_timeout = 120s;
  size_t max_response_bytes = 256 * 1024 * 1024;
};

class RemoteSandbox : public Sandbox {
 public:
  // Throws SandboxError (invalid_argument) for a bad URL or option. Does not
  // connect: an unreachable server shows on the first call (unavailable).
  explicit RemoteSandbox(RemoteSandboxOptions options);

  std::string read(const std::string& path) override;
  std::string read_bytes(const std::string& path) override;
  void write(const std::string& path, std::string_view bytes) override;
  FileStat stat(const std::string& path) override;
  std::vector<DirEntry> readdir(const std::string& path) override;
  bool exists(const std::string& path) override;
  void mkdir(const std::string& path) override;
  void rm(const std::string& path, bool recursive) override;
  ExecResult exec(const ExecRequest& request) override;

 private:
  // Posts the body to the operation; the answer's JSON object, or the
  // server's error as a SandboxError.
  nlohmann::json call(std::string_view operation, const nlohmann::json& body,
                      std::chrono::milliseconds timeout);

  RemoteSandboxOptions options_;
  HttpEndpoint endpoint_;
};

}  // namespace sluice::sandbox
