#pragma once
// A blocking WebSocket client for tests (Beast's client, over plain TCP), with
// its own io_context, so a test talks to a server in sequential code. Every
// wait has a timeout and throws std::runtime_error when it passes.
//
//   WebSocketClient socket(port, "/agents/echo/a");
//   CHECK((*socket.next())["type"] == "ready");
//   socket.send(R"({"version":1,"type":"ping"})");
//   CHECK((*socket.next())["type"] == "pong");
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"

namespace sluice::test {

class WebSocketClient {
 public:
  // Connects and completes the handshake; throws when the server refuses it
  // (the message names the HTTP status and quotes the body) or on timeout.
  WebSocketClient(uint16_t port, const std::string& target, const HeaderList& headers = {},
                  std::chrono::milliseconds timeout = 10s);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  void send(const std::string& text, std::chrono::milliseconds timeout = 10s);
  void send_binary(const std::string& bytes, std::chrono::milliseconds timeout = 10s);
  // The next message (parsed as JSON, which it must be); nullopt once the
  // server closed the socket or the connection ended.
  std::optional<nlohmann::json> next(std::chrono::milliseconds timeout = 30s);
  // The code and reason of the server's close frame (0 and "" without one).
  uint16_t close_code() const;
  std::string close_reason() const;
  // A clean close: sends 1000 and waits for the server's answer.
  void close(std::chrono::milliseconds timeout = 10s);
  // Cuts the TCP connection without a close frame, as a vanished client does.
  void drop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::test
