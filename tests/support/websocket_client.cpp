#include "tests/support/websocket_client.hpp"

#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace sluice::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct WebSocketClient::Impl {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;
  bool ended = false;

  // Runs the operation started by `start` (which gets a completion to call)
  // until it completes or the timeout passes; then cancels it and throws.
  template <class Start>
  error_code run(Start start, std::chrono::milliseconds timeout, const std::string& what) {
    error_code result;
    bool done = false;
    start([&](error_code ec) {
      result = ec;
      done = true;
    });
    io.restart();
    io.run_until(Clock::now() + timeout);
    if (done) return result;
    error_code ignored;
    beast::get_lowest_layer(ws).cancel(ignored);
    io.restart();
    io.run();
    throw std::runtime_error("WebSocket client timed out: " + what);
  }

  void write(const std::string& bytes, bool text, std::chrono::milliseconds timeout) {
    ws.text(text);
    error_code ec = run(
        [&](auto done) {
          ws.async_write(asio::buffer(bytes), [done](error_code ec, size_t) { done(ec); });
        },
        timeout, "sending a message");
    if (ec) throw std::runtime_error("WebSocket send failed: " + ec.message());
  }
};

WebSocketClient::WebSocketClient(uint16_t port, const std::string& target,
                                 const HeaderList& headers, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  auto& ws = impl_->ws;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve("127.0.0.1", std::to_string(port));
  error_code ec = impl_->run(
      [&](auto done) {
        asio::async_connect(beast::get_lowest_layer(ws), endpoints,
                            [done](error_code ec, const tcp::endpoint&) { done(ec); });
      },
      timeout, "connecting");
  if (ec) throw std::runtime_error("WebSocket connect failed: " + ec.message());
  ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
    for (const auto& [name, value] : headers) request.set(name, value);
  }));
  websocket::response_type response;
  ec = impl_->run(
      [&](auto done) {
        ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), target,
                           [done](error_code ec) { done(ec); });
      },
      timeout, "the handshake");
  if (ec) {
    throw std::runtime_error("WebSocket handshake refused (" + ec.message() + "): HTTP " +
                             std::to_string(response.result_int()) + " " + response.body());
  }
}

WebSocketClient::~WebSocketClient() {
  drop();
}

void WebSocketClient::send(const std::string& text, std::chrono::milliseconds timeout) {
  impl_->write(text, true, timeout);
}

void WebSocketClient::send_binary(const std::string& bytes, std::chrono::milliseconds timeout) {
  impl_->write(bytes, false, timeout);
}

std::optional<nlohmann::json> WebSocketClient::next(std::chrono::milliseconds timeout) {
  if (impl_->ended) return std::nullopt;
  error_code ec = impl_->run(
      [&](auto done) {
        impl_->ws.async_read(impl_->buffer, [done](error_code ec, size_t) { done(ec); });
      },
      timeout, "waiting for a message");
  if (ec) {
    impl_->ended = true;
    return std::nullopt;
  }
  std::string text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  auto message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_discarded()) throw std::runtime_error("WebSocket message is not JSON: " + text);
  return message;
}

uint16_t WebSocketClient::close_code() const {
  return impl_->ws.reason().code;
}

std::string WebSocketClient::close_reason() const {
  return std::string(impl_->ws.reason().reason.c_str());
}

void WebSocketClient::close(std::chrono::milliseconds timeout) {
  error_code ec = impl_->run(
      [&](auto done) {
        impl_->ws.async_close(websocket::close_code::normal, [done](error_code ec) { done(ec); });
      },
      timeout, "closing");
  impl_->ended = true;
  if (ec) throw std::runtime_error("WebSocket close failed: " + ec.message());
}

void WebSocketClient::drop() {
  impl_->ended = true;
  error_code ignored;
  beast::get_lowest_layer(impl_->ws).close(ignored);
}

}  // namespace sluice::test
