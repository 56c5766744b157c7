#pragma once
// Blocking HTTP/1.1 clients for tests, each with its own io_context, so a test
// talks to a server in plain sequential code. Every wait has a timeout and
// throws std::runtime_error when it passes, so a hung server fails the test
// instead of hanging the suite.
//
//   HttpClient client("127.0.0.1", port);
//   auto r = client.request("POST", "/agents/echo/a", R"({"message":"hi"})",
//                           {{"Content-Type", "application/json"}});
//   CHECK(r.status == 200);
//   CHECK(r.json()["result"] == "hi");
//
//   auto stream = client.open_sse("POST", "/agents/echo/a", body, {});
//   while (auto event = stream.next(5s)) { ... event->json() ... }
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

struct Response {
  int status = 0;
  HeaderList headers;
  std::string body;

  // Case-insensitive; "" when absent.
  std::string header(std::string_view name) const;
  // The body parsed as JSON; throws (quoting the body) when it is not JSON.
  nlohmann::json json() const;
};

struct SseEvent {
  std::string event;  // "message" when the frame named none
  std::string id;
  std::string data;  // data lines joined with '\n'

  nlohmann::json json() const;  // data parsed as JSON
};

// One server-sent-events response on its own connection. Reads lazily: next()
// pulls bytes from the socket until a whole event has arrived. CR characters
// are ignored, so CRLF line ends work too.
class SseStream {
 public:
  SseStream(SseStream&&) noexcept;
  SseStream& operator=(SseStream&&) noexcept;
  ~SseStream();  // closes the connection

  int status() const;
  std::string header(std::string_view name) const;  // case-insensitive; "" when absent

  // The next event, skipping comments (heartbeats); nullopt once the response
  // has ended. Throws when nothing complete arrives within the timeout.
  std::optional<SseEvent> next(std::chrono::milliseconds timeout = 30s);
  // Reads until a ": heartbeat" comment arrives (events meanwhile are kept for
  // next()). False when the stream ends first; throws on timeout.
  bool wait_heartbeat(std::chrono::milliseconds timeout);
  size_t heartbeats_seen() const;
  // True once the response ended as HTTP frames it (last chunk, or all of its
  // Content-Length); false while open or when the connection was cut.
  bool complete() const;
  // The rest of the body, raw (for answers that are not a stream, such as an
  // error envelope). Throws on timeout.
  std::string read_body(std::chrono::milliseconds timeout = 30s);
  // Drops the connection, as a client that goes away mid-stream does.
  void close();

 private:
  friend class HttpClient;
  struct Impl;
  explicit SseStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request on the kept-alive connection (opened, or reopened when
  // the server closed it, as needed) and reads the whole answer. Host is added;
  // Content-Length follows the body.
  Response request(const std::string& method, const std::string& target,
                   const std::string& body = {}, const HeaderList& headers = {},
                   std::chrono::milliseconds timeout = 30s);
  // Opens a new connection for an SSE request (Accept: text/event-stream is
  // added unless given) and returns once the response header has arrived.
  SseStream open_sse(const std::string& method, const std::string& target,
                     const std::string& body = {}, const HeaderList& headers = {},
                     std::chrono::milliseconds timeout = 30s);
  // How many TCP connections request() has opened so far (keep-alive checks).
  int connections_opened() const;
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A bare TCP connection for sending partial, slow or malformed bytes.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port, const std::string& host = "127.0.0.1");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Throws when the bytes cannot be written (for example the peer closed).
  void send(std::string_view bytes);
  // What arrives within the timeout: waits for the first bytes, then returns
  // them; "" when nothing came or the peer closed.
  std::string read_some(std::chrono::milliseconds timeout);
  // Reads (keeping the bytes, see received()) until the peer closes or resets
  // the connection: true; false when it is still open after the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  // Every byte received so far, by read_some() and closed_by_peer().
  const std::string& received() const;
  // Half-closes: sends FIN and keeps reading, as a client that has sent all
  // it will send does.
  // Closes with a reset (SO_LINGER 0), as a crashed or killed client does.
  void reset();
  void shutdown_send();
  // Closes our side.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::test
