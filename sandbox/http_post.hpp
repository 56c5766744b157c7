#pragma once
// One blocking HTTP/1.1 POST over plain TCP (Boost.Beast), for the remote
// sandbox connector. Blocking is fine there: sandboxes run on worker threads.
#include <chrono>
#include <cstddef>
#include <string>

namespace sluice::sandbox {

struct HttpEndpoint {
  std::string host;       // a name or an address (IPv6 without brackets)
  std::string port;       // "80" when the URL names none
  std::string base_path;  // "" or "/prefix", without a trailing '/'
};

// Parses "http://host[:port][/prefix]". Throws SandboxError (invalid_argument)
// for anything else, https:// included: the connector speaks plain HTTP only.
HttpEndpoint parse_http_url(const std::string& url);

struct HttpPost {
  std::string target;        // the path to request, e.g. "/prefix/v1/read"
  std::string body;          // sent as application/json
  std::string bearer_token;  // empty: no Authorization header
  std::chrono::milliseconds timeout{0};
  size_t max_response_bytes = 0;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// Sends the request on a new connection and reads the whole answer. The
// timeout covers connecting, sending and receiving (name resolution follows
// the system resolver's own limits). Throws SandboxError (unavailable) when the
// server cannot be reached, does not answer in time or answers garbage.
HttpAnswer http_post(const HttpEndpoint& endpoint, const HttpPost& request);

}  // namespace sluice::sandbox
