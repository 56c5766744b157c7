#include "net/websocket_session.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <optional>
#include <shared_mutex>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "net/http_connection.hpp"

namespace sluice::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// A client that stops reading while we keep producing frames is cut off once
// this much waits behind the frame being written (its work goes on).
constexpr size_t kMaxQueuedBytes = 16 << 20;

class Session;

// The thread-safe face of a Session. Like the HTTP responders it posts through
// the gate, so it may outlive the io_context.
class Sender final : public WebSocket {
 public:
  Sender(std::weak_ptr<Session> session, std::shared_ptr<PostGate> gate)
      : session_(std::move(session)), gate_(std::move(gate)) {}

  void send(std::string text) override;
  void close(uint16_t code, std::string reason) override;

 private:
  template <class Fn>
  void post(Fn&& fn);

  std::weak_ptr<Session> session_;
  std::shared_ptr<PostGate> gate_;
};

// Every member function runs on the socket's strand. One read and one write
// (a message or the close) are in flight at most, as Beast requires.
class Session final : public WebSocketLink, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, WebSocketUpgrade upgrade, std::shared_ptr<PostGate> gate,
          std::shared_ptr<void> owner)
      : ws_(std::move(socket)),
        upgrade_(std::move(upgrade)),
        gate_(std::move(gate)),
        owner_(std::move(owner)) {}

  void start(const HttpRequest& request, const ServerOptions& options) {
    http::request<http::empty_body> handshake;
    handshake.method_string(request.method);
    handshake.target(request.query.empty() ? request.path : request.path + "?" + request.query);
    handshake.version(11);
    for (const auto& [name, value] : request.headers) handshake.insert(name, value);
    // Idle sockets get a ping; one that stays silent for another interval is
    // closed, so a vanished client does not hold a socket for ever.
    ws_.set_option(websocket::stream_base::timeout{options.header_timeout, options.idle_timeout,
                                                   true});
    ws_.read_message_max(upgrade_.max_message_bytes);
    ws_.async_accept(handshake, [self = shared_from_this()](error_code ec) { self->on_accept(ec); });
  }

  asio::any_io_executor executor() { return ws_.get_executor(); }

  void shut_down() override { finish(); }

  void enqueue(std::string text) {
    if (done_ || close_) return;
    if (writing_ && queued_bytes_ + text.size() > kMaxQueuedBytes) {
      spdlog::warn("WebSocket client is not reading; closing its socket");
      return finish();
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  void close_when_sent(uint16_t code, std::string reason) {
    if (done_ || close_) return;
    reason.resize(std::min(reason.size(), size_t{123}));  // what a close frame can carry
    close_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!writing_) write_next();
  }

 private:
  void on_accept(error_code ec) {
    if (ec) return finish();  // Beast answered the refused handshake itself
    auto sender = std::make_shared<Sender>(weak_from_this(), gate_);
    handler_ = upgrade_.on_open(std::move(sender));
    read();
  }

  void read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](error_code ec, size_t) {
      self->on_read(ec);
    });
  }

  void on_read(error_code ec) {
    // Closed by the client, too big (Beast sent 1009), a protocol error, the
    // idle timeout or shut_down(): Beast has answered what needed answering.
    if (ec || done_) return finish();
    std::string message = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    try {
      handler_->on_message(std::move(message), ws_.got_text());
    } catch (const std::exception& e) {
      spdlog::error("WebSocket handler threw: {}", e.what());
      close_when_sent(static_cast<uint16_t>(websocket::close_code::internal_error),
                      "internal error");
    }
    if (!done_) read();
  }

  void write_next() {
    if (done_) return;
    if (!queue_.empty()) {
      writing_ = true;
      queued_bytes_ -= queue_.front().size();
      ws_.text(true);
      ws_.async_write(asio::buffer(queue_.front()),
                      [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
      return;
    }
    if (close_ && !close_sent_) {
      close_sent_ = true;
      writing_ = true;
      // Completes once the client answered the close (or the handshake timeout).
      ws_.async_close(*close_, [self = shared_from_this()](error_code) { self->finish(); });
    }
  }

  void on_write(error_code ec) {
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (ec) return finish();
    write_next();
  }

  void finish() {
    if (done_) return;
    done_ = true;
    error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
    queue_.clear();
    handler_.reset();
    owner_.reset();
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer read_buffer_;
  WebSocketUpgrade upgrade_;
  std::shared_ptr<PostGate> gate_;
  std::shared_ptr<void> owner_;
  std::shared_ptr<WebSocketHandler> handler_;
  std::deque<std::string> queue_;  // front() is being written while writing_
  size_t queued_bytes_ = 0;        // of the messages not yet being written
  bool writing_ = false;
  std::optional<websocket::close_reason> close_;  // asked for: sent once the queue is empty
  bool close_sent_ = false;
  bool done_ = false;
};

template <class Fn>
void Sender::post(Fn&& fn) {
  std::shared_lock lock(gate_->mutex);
  if (!gate_->open) return;
  auto session = session_.lock();
  if (!session) return;
  asio::post(session->executor(),
             [session, fn = std::forward<Fn>(fn)]() mutable { fn(*session); });
}

void Sender::send(std::string text) {
  post([text = std::move(text)](Session& session) mutable { session.enqueue(std::move(text)); });
}

void Sender::close(uint16_t code, std::string reason) {
  post([code, reason = std::move(reason)](Session& session) mutable {
    session.close_when_sent(code, std::move(reason));
  });
}

}  // namespace

std::shared_ptr<WebSocketLink> start_websocket(tcp::socket socket, const HttpRequest& request,
                                               WebSocketUpgrade upgrade,
                                               std::shared_ptr<PostGate> gate,
                                               const ServerOptions& options,
                                               std::shared_ptr<void> owner) {
  auto session =
      std::make_shared<Session>(std::move(socket), std::move(upgrade), std::move(gate),
                                std::move(owner));
  session->start(request, options);
  return session;
}

}  // namespace sluice::net
