#pragma once
// An asynchronous HTTP/1.1 client for streamed responses (provider SSE), run
// entirely on one io_context (the ModelRuntime's thread): TLS with certificate
// and host-name verification, an HTTPS_PROXY CONNECT tunnel, keep-alive
// connections pooled per host, a cap on concurrent requests (the rest wait in
// order), and an idle timeout on every network step. Heavy Beast headers stay
// in the .cpp.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sluice::harness {

// Where requests go: from a base URL such as "https://api.openai.com/v1".
struct HttpEndpoint {
  bool tls = true;
  std::string host;
  std::string port;
  std::string path_prefix;  // "/v1", or "" for none; never ends in '/'
};

// Throws std::invalid_argument for anything but http:// or https:// URLs with a host.
HttpEndpoint parse_base_url(std::string_view url);

struct HttpStreamRequest {
  HttpEndpoint endpoint;
  std::string path;  // appended to endpoint.path_prefix
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POSTed
  std::chrono::milliseconds idle_timeout{60000};
};

struct HttpResponseHead {
  int status = 0;
  std::string retry_after;     // the Retry-After header, if any
  std::string retry_after_ms;  // OpenAI's retry-after-ms header, if any
};

enum class TransportFailure {
  broken,     // refused, reset, closed early: another try may work
  stalled,    // no data within the idle timeout
  untrusted,  // the server's certificate failed verification: retrying cannot help
};

// Called on the io thread. After on_head come zero or more on_data, then exactly
// one of on_complete / on_transport_error; a cancelled exchange gets none of
// them once the cancellation has reached the io thread.
class HttpStreamHandler {
 public:
  virtual ~HttpStreamHandler() = default;
  virtual void on_head(const HttpResponseHead& head) = 0;
  virtual void on_data(std::string_view bytes) = 0;
  virtual void on_complete() = 0;
  // Connection refused or reset, TLS failure, proxy refusal, idle timeout...
  virtual void on_transport_error(const std::string& message, TransportFailure kind) = 0;
};

// One request in flight or waiting for a slot.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  // Any thread: aborts the request and closes its connection (never pooled again).
  virtual void cancel() = 0;
};

struct HttpClientSettings {
  std::optional<HttpEndpoint> https_proxy;  // tunnels https:// requests only
  size_t max_concurrent = 64;
  // Hosts reached directly even with a proxy (NO_PROXY: "*", "host", ".suffix" or "suffix").
  std::vector<std::string> no_proxy;
  // Tests point TLS at their own CA; production uses the system's default paths.
  std::string ca_file;
};

class HttpStreamClient {
 public:
  HttpStreamClient(boost::asio::io_context& io, HttpClientSettings settings);
  ~HttpStreamClient();
  HttpStreamClient(const HttpStreamClient&) = delete;
  HttpStreamClient& operator=(const HttpStreamClient&) = delete;

  // Any thread; nothing reaches the handler before this returns.
  std::shared_ptr<HttpExchange> start(HttpStreamRequest request,
                                      std::shared_ptr<HttpStreamHandler> handler);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace sluice::harness
