#include "harness/http_stream_client.hpp"

// GCC 12 with the sanitizers inlines asio's coroutine-frame allocator (a
// recycling ::operator new with its own operator delete) and then reports a
// false -Wmismatched-new-delete at our coroutines' closing braces.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <utility>  // before asio: GCC 12 in C++20 mode needs it (see STACK-NOTES.md)

#include <atomic>
#include <deque>
#include <exception>
#include <limits>
#include <map>
#include <stdexcept>
#include <system_error>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace sluice::harness {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr size_t kChunkBytes = 16384;

struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;  // bytes read past one response belong to the next

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

class Exchange : public HttpExchange, public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, HttpStreamRequest request,
           std::shared_ptr<HttpStreamHandler> handler)
      : io(io), request(std::move(request)), handler(std::move(handler)) {}

  void cancel() override {
    if (cancelled.exchange(true)) return;
    // Sockets belong to the io thread: close there, which aborts whatever is pending.
    asio::post(io, [self = shared_from_this()] {
      if (self->socket) self->socket->close();
    });
  }

  asio::io_context& io;
  const HttpStreamRequest request;
  const std::shared_ptr<HttpStreamHandler> handler;
  std::atomic<bool> cancelled{false};
  beast::tcp_stream* socket = nullptr;  // io thread: the socket a cancel must close
};

// Points the exchange at the socket it is using while this lives.
class SocketInUse {
 public:
  SocketInUse(Exchange& exchange, beast::tcp_stream& socket) : exchange_(exchange) { set(socket); }
  ~SocketInUse() { exchange_.socket = nullptr; }
  SocketInUse(const SocketInUse&) = delete;
  SocketInUse& operator=(const SocketInUse&) = delete;
  void set(beast::tcp_stream& socket) { exchange_.socket = &socket; }

 private:
  Exchange& exchange_;
};

void throw_if_cancelled(const Exchange& exchange) {
  if (exchange.cancelled) throw boost::system::system_error(asio::error::operation_aborted);
}

// A throwing handler must not leave the exchange (and its concurrency slot) hanging.
template <class Call>
void notify(const Exchange& exchange, Call&& call) {
  if (exchange.cancelled) return;
  try {
    call();
  } catch (const std::exception& error) {
    spdlog::error("http client: a stream handler threw: {}", error.what());
  }
}

std::string authority(const HttpEndpoint& endpoint) {
  const bool default_port = endpoint.port == (endpoint.tls ? "443" : "80");
  return default_port ? endpoint.host : endpoint.host + ":" + endpoint.port;
}

std::string pool_key(const HttpEndpoint& endpoint) {
  return (endpoint.tls ? "https://" : "http://") + endpoint.host + ":" + endpoint.port;
}

bool bypasses_proxy(const std::vector<std::string>& no_proxy, const std::string& host) {
  for (const auto& entry : no_proxy) {
    if (entry == "*" || entry == host) return true;
    const std::string suffix = entry.starts_with('.') ? entry : "." + entry;
    if (host.size() > suffix.size() && host.ends_with(suffix)) return true;
  }
  return false;
}

asio::awaitable<void> open_tunnel(beast::tcp_stream& stream, const HttpEndpoint& target,
                                  std::chrono::milliseconds idle_timeout) {
  const std::string where = target.host + ":" + target.port;
  http::request<http::empty_body> request{http::verb::connect, where, 11};
  request.set(http::field::host, where);
  stream.expires_after(idle_timeout);
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a CONNECT answer has no body, whatever its headers say
  stream.expires_after(idle_timeout);
  co_await http::async_read_header(stream, buffer, parser, asio::use_awaitable);
  if (parser.get().result_int() != 200) {
    throw std::runtime_error("the HTTPS proxy refused to tunnel to " + where + ": status " +
                             std::to_string(parser.get().result_int()));
  }
}

}  // namespace

struct HttpStreamClient::Shared : std::enable_shared_from_this<Shared> {
  Shared(asio::io_context& io, HttpClientSettings settings) : io(io), settings(std::move(settings)) {
    tls.set_verify_mode(ssl::verify_peer);
    if (this->settings.ca_file.empty()) {
      tls.set_default_verify_paths();
    } else {
      tls.load_verify_file(this->settings.ca_file);
    }
  }

  // io thread only, like every member below.
  void pump() {
    while (active < settings.max_concurrent && !waiting.empty()) {
      auto next = std::move(waiting.front());
      waiting.pop_front();
      if (next->cancelled) continue;
      ++active;
      asio::co_spawn(io, run(shared_from_this(), std::move(next)), asio::detached);
    }
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    auto found = idle.find(key);
    if (found == idle.end() || found->second.empty()) return nullptr;
    auto connection = std::move(found->second.back());
    found->second.pop_back();
    return connection;
  }

  void put_idle(const std::string& key, std::unique_ptr<Connection> connection) {
    auto& list = idle[key];
    // As many idle keep-alive connections as requests may run at once.
    if (list.size() < settings.max_concurrent) list.push_back(std::move(connection));
  }

  static asio::awaitable<void> run(std::shared_ptr<Shared> self, std::shared_ptr<Exchange> exchange);
  asio::awaitable<std::unique_ptr<Connection>> open(Exchange& exchange);

  asio::io_context& io;
  const HttpClientSettings settings;
  ssl::context tls{ssl::context::tls_client};
  size_t active = 0;
  std::deque<std::shared_ptr<Exchange>> waiting;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
};

namespace {

// One request and its response on an open connection; returns whether the
// connection may carry another request.
template <class Stream>
asio::awaitable<bool> transact(Stream& stream, beast::flat_buffer& buffer, Exchange& exchange,
                               bool& got_head) {
  auto& lowest = beast::get_lowest_layer(stream);
  SocketInUse in_use(exchange, lowest);
  throw_if_cancelled(exchange);
  const auto& r = exchange.request;
  http::request<http::string_body> request{http::verb::post, r.endpoint.path_prefix + r.path, 11};
  request.set(http::field::host, authority(r.endpoint));
  request.set(http::field::user_agent, "sluice");
  for (const auto& [name, value] : r.headers) request.set(name, value);
  request.body() = r.body;
  request.keep_alive(true);
  request.prepare_payload();
  lowest.expires_after(r.idle_timeout);
  co_await http::async_write(stream, request, asio::use_awaitable);

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // streams end when the model is done
  lowest.expires_after(r.idle_timeout);
  co_await http::async_read_header(stream, buffer, parser, asio::use_awaitable);
  throw_if_cancelled(exchange);
  got_head = true;
  HttpResponseHead head;
  head.status = static_cast<int>(parser.get().result_int());
  head.retry_after = std::string(parser.get()[http::field::retry_after]);
  head.retry_after_ms = std::string(parser.get()["retry-after-ms"]);
  notify(exchange, [&] { exchange.handler->on_head(head); });

  char chunk[kChunkBytes];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    lowest.expires_after(r.idle_timeout);
    boost::system::error_code error;
    // read_some, not read: each event must reach the model as soon as it arrives.
    co_await http::async_read_some(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
    if (error == http::error::need_buffer) error = {};
    if (error) throw boost::system::system_error(error);
    throw_if_cancelled(exchange);
    const size_t got = sizeof chunk - parser.get().body().size;
    if (got > 0) notify(exchange, [&] { exchange.handler->on_data({chunk, got}); });
  }
  lowest.expires_never();
  notify(exchange, [&] { exchange.handler->on_complete(); });
  co_return parser.keep_alive();
}

}  // namespace

asio::awaitable<std::unique_ptr<Connection>> HttpStreamClient::Shared::open(Exchange& exchange) {
  const HttpEndpoint& target = exchange.request.endpoint;
  const auto idle_timeout = exchange.request.idle_timeout;
  const bool tunnel =
      target.tls && settings.https_proxy && !bypasses_proxy(settings.no_proxy, target.host);
  const HttpEndpoint& dial = tunnel ? *settings.https_proxy : target;
  tcp::resolver resolver(io);
  const auto addresses = co_await resolver.async_resolve(dial.host, dial.port, asio::use_awaitable);
  throw_if_cancelled(exchange);

  beast::tcp_stream stream(io);
  SocketInUse in_use(exchange, stream);
  stream.expires_after(idle_timeout);
  co_await stream.async_connect(addresses, asio::use_awaitable);
  throw_if_cancelled(exchange);
  if (tunnel) co_await open_tunnel(stream, target, idle_timeout);
  throw_if_cancelled(exchange);

  auto connection = std::make_unique<Connection>();
  if (!target.tls) {
    connection->plain.emplace(std::move(stream));
    co_return connection;
  }
  connection->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream), tls);
  in_use.set(connection->lowest());
  auto& session = *connection->tls;
  // SNI, so shared front ends pick the right certificate; then the name check.
  // An address is never sent as SNI (RFC 6066, section 3).
  boost::system::error_code not_an_address;
  asio::ip::make_address(target.host, not_an_address);
  if (not_an_address && !SSL_set_tlsext_host_name(session.native_handle(), target.host.c_str())) {
    throw std::runtime_error("cannot set the TLS server name " + target.host);
  }
  session.set_verify_callback(ssl::host_name_verification(target.host));
  connection->lowest().expires_after(idle_timeout);
  co_await session.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  co_return connection;
}

asio::awaitable<void> HttpStreamClient::Shared::run(std::shared_ptr<Shared> self,
                                                    std::shared_ptr<Exchange> exchange) {
  const std::string key = pool_key(exchange->request.endpoint);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> connection = self->take_idle(key);
    const bool reused = connection != nullptr;
    bool got_head = false;
    std::string failure;
    TransportFailure kind = TransportFailure::broken;
    try {
      if (!connection) connection = co_await self->open(*exchange);
      const bool keep = connection->tls
                            ? co_await transact(*connection->tls, connection->buffer, *exchange, got_head)
                            : co_await transact(*connection->plain, connection->buffer, *exchange, got_head);
      if (keep && !exchange->cancelled) self->put_idle(key, std::move(connection));
      break;
    } catch (const boost::system::system_error& error) {
      if (error.code() == beast::error::timeout) {
        kind = TransportFailure::stalled;
        failure = "no data for " + std::to_string(exchange->request.idle_timeout.count()) + " ms";
      } else {
        if (ERR_GET_REASON(static_cast<unsigned long>(error.code().value())) ==
                SSL_R_CERTIFICATE_VERIFY_FAILED &&
            error.code().category() == asio::error::get_ssl_category()) {
          kind = TransportFailure::untrusted;
        }
        failure = error.code().message();
      }
    } catch (const std::exception& error) {
      failure = error.what();
    }
    if (exchange->cancelled) break;
    // A server may close a pooled connection while it sits idle: one fresh try.
    if (reused && !got_head && attempt == 0) continue;
    notify(*exchange, [&] { exchange->handler->on_transport_error(failure, kind); });
    break;
  }
  --self->active;
  self->pump();
}

HttpEndpoint parse_base_url(std::string_view url) {
  HttpEndpoint endpoint;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    endpoint.tls = false;
    rest.remove_prefix(7);
  } else {
    throw std::invalid_argument("expected an http:// or https:// URL, got \"" + std::string(url) + "\"");
  }
  const auto slash = rest.find('/');
  std::string_view authority_part = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority_part.find('@') != std::string_view::npos) {
    throw std::invalid_argument("credentials in the URL are not supported: \"" + std::string(url) + "\"");
  }
  endpoint.port = endpoint.tls ? "443" : "80";
  if (authority_part.starts_with('[')) {  // [v6]:port
    const auto close = authority_part.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("bad IPv6 host in \"" + std::string(url) + "\"");
    endpoint.host = authority_part.substr(1, close - 1);
    if (close + 1 < authority_part.size() && authority_part[close + 1] == ':') {
      endpoint.port = authority_part.substr(close + 2);
    }
  } else {
    const auto colon = authority_part.rfind(':');
    endpoint.host = authority_part.substr(0, colon);
    if (colon != std::string_view::npos) endpoint.port = authority_part.substr(colon + 1);
  }
  if (endpoint.host.empty() || endpoint.port.empty() ||
      endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("expected a host and an optional numeric port in \"" + std::string(url) + "\"");
  }
  endpoint.path_prefix = path;
  return endpoint;
}

HttpStreamClient::HttpStreamClient(asio::io_context& io, HttpClientSettings settings)
    : shared_(std::make_shared<Shared>(io, std::move(settings))) {}

// Running exchanges hold the shared state; the ModelRuntime has stopped the
// io thread before this runs, so nothing races with it.
HttpStreamClient::~HttpStreamClient() = default;

std::shared_ptr<HttpExchange> HttpStreamClient::start(HttpStreamRequest request,
                                                      std::shared_ptr<HttpStreamHandler> handler) {
  auto exchange = std::make_shared<Exchange>(shared_->io, std::move(request), std::move(handler));
  asio::post(shared_->io, [shared = shared_, exchange] {
    shared->waiting.push_back(exchange);
    shared->pump();
  });
  return exchange;
}

}  // namespace sluice::harness
