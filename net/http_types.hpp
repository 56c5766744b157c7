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
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
};

// How a route answers. Thread-safe: may be called from any thread (a CAF worker,
// the storage thread); every call is posted to the connection's executor.
// Exactly one of respond() or open_stream() per request.
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
};

using RequestHandler = std::function<void(HttpRequest, std::shared_ptr<Responder>)>;

// Percent-decoding of one path segment ('+' stays '+'); nullopt on a malformed
// escape ('%' not followed by two hex digits).
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace sluice::net
