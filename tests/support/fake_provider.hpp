#pragma once
// A fake model provider: a real HTTP server on loopback (blocking, a thread per
// connection) whose answers each test scripts byte for byte, so streams can be
// split, stalled, cut or refused where a test wants. It records every request.
// Optionally it speaks TLS with a certificate made by test_tls.hpp.
//
//   FakeServer server([](const RecordedRequest& request, Reply& reply) {
//     reply.stream_head();
//     reply.chunk(sse("", {{"choices", ...}}));
//     reply.end();
//   });
//   settings.openai_base_url = server.url() + "/v1";
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_tls.hpp"

namespace sluice::test {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point received;  // when its body had arrived
};

// Writes one answer; every call blocks until written.
class Reply {
 public:
  class Connection;  // plain TCP or TLS; fake_provider.cpp
  Reply(Connection& connection, const std::atomic<bool>& stopping)
      : connection_(connection), stopping_(stopping) {}

  void full(int status, const std::string& body,
            const std::map<std::string, std::string>& headers = {});
  void stream_head();
  // One HTTP chunk, then a short pause so chunks travel in separate TCP
  // segments: the client must reassemble.
  void chunk(const std::string& bytes);
  void end();
  // Silent until the server stops or the client hangs up.
  void stall();
  bool closed = false;  // the answer left the connection unusable: the server closes it

 private:
  void write(const std::string& bytes);
  Connection& connection_;
  const std::atomic<bool>& stopping_;
};

class FakeServer {
 public:
  using Handler = std::function<void(const RecordedRequest&, Reply&)>;

  // Plain HTTP, or HTTPS with `tls`' certificate chain and key.
  explicit FakeServer(Handler handler, std::optional<TlsFiles> tls = std::nullopt);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // "http://127.0.0.1:PORT", or https:// in TLS mode; `host` replaces 127.0.0.1.
  std::string url(const std::string& host = "127.0.0.1") const;
  unsigned short port() const;
  std::vector<RecordedRequest> requests() const;
  // TCP connections accepted so far.
  int connections() const;
  bool wait_requests(size_t count,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // TLS mode: the server name (SNI) of each ClientHello, "" when it named none.
  std::vector<std::string> server_names() const;
  // TLS mode: handshakes that failed on the server's side (e.g. the client
  // rejected the certificate).
  int failed_handshakes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One server-sent event: "event: NAME\n" (unless `event` is empty), "data: JSON\n\n".
std::string sse(const std::string& event, const nlohmann::json& data);

}  // namespace sluice::test
