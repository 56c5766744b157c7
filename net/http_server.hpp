#pragma once
// The Beast HTTP/1.1 listener: keep-alive, body limit (413 in the error
// envelope), header and idle timeouts that never cut a request being answered
// or an open stream, SSE streaming with heartbeats. It runs its own io_context
// threads; handlers are called on them and must not block.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "net/http_types.hpp"

namespace sluice::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3000;  // 0 = pick a free port
  size_t max_body_bytes = 1 << 20;
  // To receive a whole request, from its first byte (from the accept for the
  // first request of a connection).
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait between requests
  std::chrono::milliseconds sse_heartbeat{15'000};
  int io_threads = 1;
  // Open connections at most; at the cap the oldest idle one makes room.
  size_t max_connections = 1024;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, RequestHandler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the io threads; throws std::runtime_error naming the
  // address when it cannot bind.
  void start();
  uint16_t port() const;  // the bound port (useful with port 0)
  // Closes the listener; open connections finish what they are doing.
  // Neither this nor stop() may be called from an io thread (a handler).
  void stop_accepting();
  // Stops everything and joins the io threads. Pending answers are dropped;
  // responders still held by route code become no-ops.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::net
