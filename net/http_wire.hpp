#pragma once
// The bytes of an answer on the wire: status line, header block and chunk
// framing. The connection writes these raw so one queue carries every write
// (answer, SSE chunks, heartbeats) in order.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "net/http_types.hpp"

namespace sluice::net::wire {

enum class Framing {
  kContentLength,  // a complete body of content_length bytes follows
  kChunked,        // an open stream to a HTTP/1.1 client
  kUntilClose,     // an open stream to a HTTP/1.0 client: the end is the close
};

struct ResponseHead {
  int status = 200;
  std::string_view content_type;  // omitted when empty
  const Headers* headers = nullptr;
  Framing framing = Framing::kContentLength;
  size_t content_length = 0;
  bool keep_alive = true;
  bool http10_client = false;  // keep-alive must then be announced explicitly
};

// A request target split into the raw path and the raw query (without '?').
// The absolute form that proxies send ("http://host/p?q") routes on its path.
std::pair<std::string, std::string> split_target(std::string_view target);

// Header fields from the handler that the server owns (framing, connection,
// Server, Content-Type) or that could split the header block (CR, LF, bad
// names) are left out, with a warning in the log.
std::string encode_head(const ResponseHead& head);
std::string encode_chunk(std::string_view data);  // data must not be empty
// 204 and 304 answers carry neither a body nor a Content-Length (RFC 9110).
bool has_body_status(int status);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace sluice::net::wire
