#pragma once
// The front end's view of one HTTP exchange, free of Beast types so route code
// stays light to compile.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // raw (still percent-encoded), without the query
  std::string query;   // raw, without '?'
  Headers headers;
  std::string body;

  // Case-insensitive; "" when absent.
  std::string header(std::string_view name) const;
  // Decoded value of the first occurrence; nullopt when absent. Decoded as
  // URLSearchParams does (what Node and browsers do): '+' is a space and a
  // malformed escape stays literal. A name without '=' has the value "".
  std::optional<std::string> query_param(std::string_view name) const;
  // Every name and value of the query, decoded the same way, in order.
  std::vector<std::pair<std::string, std::string>> query_params() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
};

// A WebSocket taken over from an HTTP request. Thread-safe: may be called from
// any thread; messages are queued and written one at a time, in call order, on
// the socket's strand. Once the socket is closing or gone, calls do nothing:
// a client that left never holds up whoever is sending.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  virtual void send(std::string text) = 0;  // one text message
  // After the messages already queued: a close frame with this code and reason.
  virtual void close(uint16_t code, std::string reason) = 0;
};

// Receives what the client sends, on the socket's strand, one message at a time.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void on_message(std::string message, bool text) = 0;
};

struct WebSocketUpgrade {
  // A longer message closes the socket with 1009 (message too big).
  size_t max_message_bytes = 1 << 20;
  // Called on the socket's strand once the handshake is done; returns the handler
  // of the client's messages. Never called when the handshake fails.
  std::function<std::shared_ptr<WebSocketHandler>(std::shared_ptr<WebSocket>)> on_open;
};

// How a route answers. Thread-safe: may be called from any thread (a CAF worker,
// the storage thread); every call is posted to the connection's executor.
// Exactly one of respond(), open_stream() or upgrade_to_websocket() per request.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void respond(HttpResponse response) = 0;
  // Server-sent events: status 200, text/event-stream, chunked. The server
  // writes ": heartbeat" comments on its own while the stream is open.
  virtual void open_stream(Headers headers) = 0;
  virtual void stream_write(std::string frame) = 0;
  virtual void close_stream() = 0;
  // True once the client has closed its side (work must go on regardless).
  virtual bool client_gone() const = 0;
  // Hands the connection to a WebSocket. A request that is not a valid upgrade
  // (RFC 6455: GET, HTTP/1.1, Connection: Upgrade, Upgrade: websocket,
  // Sec-WebSocket-Version: 13, a Sec-WebSocket-Key) answers 400 invalid_request.
  // By default (a responder without a socket) it answers that error as well.
  virtual void upgrade_to_websocket(HttpRequest request, WebSocketUpgrade upgrade);
};

using RequestHandler = std::function<void(HttpRequest, std::shared_ptr<Responder>)>;

// Percent-decoding of one path segment ('+' stays '+'); nullopt on a malformed
// escape ('%' not followed by two hex digits).
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace sluice::net
