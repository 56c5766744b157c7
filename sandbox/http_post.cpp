#include "sandbox/http_post.hpp"

#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

SandboxError bad_url(const std::string& url, const std::string& why) {
  return SandboxError(ErrorKind::kInvalidArgument,
                      "invalid remote sandbox URL \"" + url + "\": " + why);
}

}  // namespace

HttpEndpoint parse_http_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) throw bad_url(url, "it must start with http://");
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  HttpEndpoint endpoint;
  endpoint.base_path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (endpoint.base_path.ends_with('/')) endpoint.base_path.pop_back();

  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) throw bad_url(url, "an unclosed [");
    endpoint.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) throw bad_url(url, "junk after ]");
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = authority.rfind(':');
    endpoint.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (endpoint.host.empty()) throw bad_url(url, "no host");
  endpoint.port = port.empty() ? "80" : std::string(port);
  if (endpoint.port.find_first_not_of("0123456789") != std::string::npos ||
      endpoint.port.size() > 5 || std::stoi(endpoint.port) > 65535) {
    throw bad_url(url, "the port must be a number up to 65535");
  }
  return endpoint;
}

HttpAnswer http_post(const HttpEndpoint& endpoint, const HttpPost& request) {
  const std::string where = endpoint.host + ":" + endpoint.port;
  auto unavailable = [&](const std::string& what) {
    return SandboxError(ErrorKind::kUnavailable, "remote sandbox at " + where + ": " + what);
  };
  asio::io_context io;
  tcp::resolver resolver(io);
  error_code ec;
  auto addresses = resolver.resolve(endpoint.host, endpoint.port, ec);
  if (ec) throw unavailable("cannot resolve the host: " + ec.message());

  http::request<http::string_body> message{http::verb::post, request.target, 11};
  message.set(http::field::host, where);
  message.set(http::field::content_type, "application/json");
  message.set(http::field::accept, "application/json");
  if (!request.bearer_token.empty()) {
    message.set(http::field::authorization, "Bearer " + request.bearer_token);
  }
  message.keep_alive(false);
  message.body() = request.body;
  message.prepare_payload();

  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(request.max_response_bytes);
  // One deadline for the whole exchange: tcp_stream applies it to every
  // operation started before it passes, and fails them with error::timeout.
  stream.expires_after(request.timeout);
  error_code failure;
  const char* stage = "connect";
  stream.async_connect(addresses, [&](error_code connected, const tcp::endpoint&) {
    if (connected) {
      failure = connected;
      return;
    }
    stage = "send the request";
    http::async_write(stream, message, [&](error_code written, size_t) {
      if (written) {
        failure = written;
        return;
      }
      stage = "read the answer";
      http::async_read(stream, buffer, parser, [&](error_code read, size_t) { failure = read; });
    });
  });
  io.run();
  if (failure == beast::error::timeout) {
    throw unavailable("no answer within " + std::to_string(request.timeout.count()) + " ms");
  }
  if (failure) throw unavailable(std::string("cannot ") + stage + ": " + failure.message());
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
}

}  // namespace sluice::sandbox
