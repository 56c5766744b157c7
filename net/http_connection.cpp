#include "net/http_connection.hpp"

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "core/text.hpp"
#include "net/beast_request.hpp"
#include "net/http_wire.hpp"
#include "net/responses.hpp"
#include "net/websocket_handshake.hpp"
#include "net/websocket_session.hpp"

namespace sluice::net {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr uint32_t kHeaderLimit = 16 * 1024;
constexpr size_t kSniffChunk = 4096;
// How far a client may send ahead (pipelining) while its request is answered.
// Past this we stop reading; only a failed write then reveals a client that left.
constexpr size_t kSniffLimit = 64 * 1024;
// After an error answer we drain what the client still sends for this long, so
// closing does not reset the connection before the client has read the answer.
constexpr std::chrono::milliseconds kMaxLinger{2000};

std::string_view view(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

bool has_header(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& field) { return iequals(field.first, name); });
}

}  // namespace

class ConnectionResponder final : public Responder {
 public:
  ConnectionResponder(std::weak_ptr<Connection> connection, std::shared_ptr<PostGate> gate,
                      uint64_t serial)
      : connection_(std::move(connection)), gate_(std::move(gate)), serial_(serial) {}

  void respond(HttpResponse response) override {
    post([serial = serial_, response = std::move(response)](Connection& c) mutable {
      c.respond(serial, std::move(response));
    });
  }
  void open_stream(Headers headers) override {
    post([serial = serial_, headers = std::move(headers)](Connection& c) mutable {
      c.open_stream(serial, std::move(headers));
    });
  }
  void stream_write(std::string frame) override {
    post([serial = serial_, frame = std::move(frame)](Connection& c) mutable {
      c.stream_write(serial, std::move(frame));
    });
  }
  void close_stream() override {
    post([serial = serial_](Connection& c) { c.close_stream(serial); });
  }
  void upgrade_to_websocket(HttpRequest request, WebSocketUpgrade upgrade) override {
    post([serial = serial_, request = std::move(request),
          upgrade = std::move(upgrade)](Connection& c) mutable {
      c.upgrade_to_websocket(serial, std::move(request), std::move(upgrade));
    });
  }
  bool client_gone() const override {
    return gone_.load(std::memory_order_acquire) || connection_.expired();
  }
  void mark_gone() { gone_.store(true, std::memory_order_release); }

 private:
  // Under the gate's shared lock the io_context is alive, so posting (and
  // dropping the last reference to the connection) is safe from any thread.
  template <class Fn>
  void post(Fn&& fn) {
    std::shared_lock lock(gate_->mutex);
    if (!gate_->open || gone_.load(std::memory_order_acquire)) return;
    auto connection = connection_.lock();
    if (!connection) return;
    auto executor = connection->socket_.get_executor();
    asio::post(executor, [connection, fn = std::forward<Fn>(fn)]() mutable { fn(*connection); });
  }

  std::weak_ptr<Connection> connection_;
  std::shared_ptr<PostGate> gate_;
  const uint64_t serial_;
  std::atomic<bool> gone_{false};
};

ConnectionRegistry::Admission ConnectionRegistry::add(uint64_t id,
                                                      std::weak_ptr<Connection> connection,
                                                      size_t max_connections) {
  std::lock_guard lock(mutex_);
  Admission admission;
  if (closed_) return admission;
  if (connections_.size() >= max_connections) {
    for (auto it = connections_.begin(); it != connections_.end(); ++it) {
      if (!it->second.idle) continue;
      admission.evicted = it->second.connection.lock();
      connections_.erase(it);  // counted out now; it closes on its own strand
      break;
    }
    if (connections_.size() >= max_connections) return admission;
  }
  connections_.emplace(id, Entry{std::move(connection), true});
  admission.admitted = true;
  return admission;
}

void ConnectionRegistry::set_idle(uint64_t id, bool idle) {
  std::lock_guard lock(mutex_);
  if (auto it = connections_.find(id); it != connections_.end()) it->second.idle = idle;
}

void ConnectionRegistry::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  connections_.erase(id);
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::close_all() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  std::vector<std::shared_ptr<Connection>> alive;
  for (auto& [id, entry] : connections_) {
    if (auto connection = entry.connection.lock()) alive.push_back(std::move(connection));
  }
  return alive;
}

Connection::Connection(asio::ip::tcp::socket socket, ServerShared& shared, uint64_t id)
    : socket_(std::move(socket)),
      shared_(shared),
      id_(id),
      deadline_(socket_.get_executor()),
      heartbeat_(socket_.get_executor()) {}

Connection::~Connection() {
  mark_client_gone();
  shared_.registry.remove(id_);
}

void Connection::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == Phase::kClosed) return;  // stop() came first
    // Opening a connection counts as starting a request: the header timeout
    // runs from the accept, so silent connections cannot pile up.
    self->arm_deadline(self->shared_.options.header_timeout);
    self->read_request();
  });
}

void Connection::close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void Connection::read_request() {
  phase_ = Phase::kReadingRequest;
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(shared_.options.max_body_bytes);
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
}

void Connection::on_header(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return on_read_error(ec);
  shared_.registry.set_idle(id_, false);
  const auto& message = parser_->get();
  // RFC 9112 section 6.3: a request whose Transfer-Encoding does not end in
  // chunked has no length a peer agrees on (a proxy in front may read the body
  // differently): refuse it and close, so no byte of it is read as a request.
  if (message.find(http::field::transfer_encoding) != message.end() && !parser_->chunked()) {
    return reply_error_and_linger(
        make_error("invalid_request", "Transfer-Encoding must end in chunked.",
                   "Send Content-Length, or Transfer-Encoding: chunked alone."));
  }
  if (parser_->is_done()) return on_request({});
  if (message.version() >= 11 && iequals(view(message[http::field::expect]), "100-continue")) {
    write(std::string(wire::kContinue));
  }
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, size_t) { self->on_request(ec); });
}

void Connection::on_request(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return on_read_error(ec);
  disarm_deadline();
  hand_to_handler();
}

void Connection::on_read_error(error_code ec) {
  if (ec == http::error::body_limit) {
    return reply_error_and_linger(make_error(
        "payload_too_large",
        "The request body exceeds " + std::to_string(shared_.options.max_body_bytes) + " bytes.",
        "Send a smaller body."));
  }
  if (ec == http::error::header_limit) {
    return reply_error_and_linger(make_error("invalid_request",
                                             "The request header block exceeds 16 KiB.",
                                             "Send fewer or shorter header fields."));
  }
  bool parse_error = ec.category() == make_error_code(http::error::bad_method).category() &&
                     ec != http::error::end_of_stream && ec != http::error::partial_message;
  if (parse_error) {
    return reply_error_and_linger(make_error(
        "invalid_request", "The request is not valid HTTP/1.1: " + ec.message() + ".", ""));
  }
  close_now();  // the client closed, reset, or a timeout closed the socket
}

void Connection::hand_to_handler() {
  const auto& message = parser_->get();
  keep_alive_ = message.keep_alive();
  http10_ = message.version() < 11;
  head_request_ = message.method() == http::verb::head;
  HttpRequest request = to_http_request(parser_->release());
  parser_.reset();
  phase_ = Phase::kHandling;
  ++serial_;
  responder_ = std::make_shared<ConnectionResponder>(weak_from_this(), shared_.gate, serial_);
  sniff();
  std::shared_ptr<Responder> responder = responder_;
  try {
    shared_.handler(std::move(request), responder);
  } catch (const std::exception& e) {
    spdlog::error("HTTP handler threw: {}", e.what());
    responder->respond(error_response(make_error("internal_error", "The server failed.", "")));
  } catch (...) {
    spdlog::error("HTTP handler threw a non-standard exception");
    responder->respond(error_response(make_error("internal_error", "The server failed.", "")));
  }
}

void Connection::reply_error_and_linger(const PublicError& error) {
  HttpResponse response = error_response(error);
  wire::ResponseHead head{response.status,
                          response.content_type,
                          &response.headers,
                          wire::Framing::kContentLength,
                          response.body.size(),
                          false,
                          false};
  phase_ = Phase::kFinishing;
  after_write_ = AfterWrite::kLinger;
  // A client that never reads must not hold the connection forever.
  arm_deadline(shared_.options.header_timeout);
  write(wire::encode_head(head), std::move(response.body));
}

void Connection::next_request() {
  responder_.reset();
  phase_ = Phase::kAwaitRequest;
  shared_.registry.set_idle(id_, true);
  if (buffer_.size() == 0) {
    arm_deadline(shared_.options.idle_timeout);
    sniff();  // unless one is already waiting
    return;
  }
  // The next request began while this one was answered (pipelined, or sent as
  // soon as the answer arrived, before our write completed).
  arm_deadline(shared_.options.header_timeout);
  if (sniffing_) {
    // The sniff owns buffer_ until it completes; on_sniff reads on from there.
    error_code ignored;
    socket_.cancel(ignored);
    return;
  }
  read_request();
}

void Connection::linger() {
  phase_ = Phase::kLingering;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  arm_deadline(std::min(shared_.options.header_timeout, kMaxLinger));
  if (!sniffing_) {
    buffer_.consume(buffer_.size());
    sniff();
  }
}

void Connection::close_now() {
  if (phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kUpgraded) {
    if (auto websocket = websocket_.lock()) websocket->shut_down();
  }
  phase_ = Phase::kClosed;
  disarm_deadline();
  heartbeat_.cancel();
  mark_client_gone();
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

// One read_some at a time into buffer_ whenever no request read is running: it
// notices the first byte of the next request (idle -> header timeout), the
// client leaving while its answer is pending, and drains while lingering.
void Connection::sniff() {
  if (sniffing_ || phase_ == Phase::kClosed || buffer_.size() >= kSniffLimit) return;
  sniffing_ = true;
  socket_.async_read_some(
      buffer_.prepare(kSniffChunk),
      [self = shared_from_this()](error_code ec, size_t bytes) { self->on_sniff(ec, bytes); });
}

void Connection::on_sniff(error_code ec, size_t bytes) {
  sniffing_ = false;
  if (phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kUpgrading) {
    if (ec && ec != asio::error::operation_aborted) return close_now();  // the client left
    if (!ec) buffer_.commit(bytes);
    return hand_over_when_idle();
  }
  if (ec == asio::error::operation_aborted && phase_ == Phase::kAwaitRequest) {
    return read_request();  // cancelled by next_request(): a request is buffered
  }
  if (ec == asio::error::eof && (phase_ == Phase::kHandling || phase_ == Phase::kFinishing)) {
    return on_half_close();
  }
  if (ec) {
    if (phase_ != Phase::kAwaitRequest && phase_ != Phase::kLingering) mark_client_gone();
    close_now();
    return;
  }
  bool first_bytes = buffer_.size() == 0;
  buffer_.commit(bytes);
  switch (phase_) {
    case Phase::kAwaitRequest:
      if (first_bytes) arm_deadline(shared_.options.header_timeout);
      read_request();
      return;
    case Phase::kLingering:
      buffer_.consume(buffer_.size());
      sniff();
      return;
    default:
      sniff();
      return;
  }
}

// The client sent end-of-file while its plain answer is pending or being
// written. Over TCP that is the same as a full close until a write is refused,
// so it is read as a half-close: the answer still goes out, then the
// connection closes (no further request can come). A reset (or a refused
// write) still means the client is gone. A streaming client that sends
// end-of-file is gone (on_sniff): event-stream clients never half-close.
void Connection::on_half_close() {
  keep_alive_ = false;
  if (after_write_ == AfterWrite::kNextRequest) after_write_ = AfterWrite::kLinger;
  // The wait also keeps this connection alive until the answer is written.
  socket_.async_wait(asio::ip::tcp::socket::wait_error, [self = shared_from_this()](error_code ec) {
    if (ec || self->phase_ == Phase::kClosed || self->phase_ == Phase::kLingering) return;
    self->mark_client_gone();
    self->close_now();
  });
}

void Connection::arm_deadline(std::chrono::milliseconds timeout) {
  uint64_t generation = ++deadline_generation_;
  deadline_.expires_after(timeout);
  deadline_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->deadline_generation_) return;
    self->close_now();
  });
}

void Connection::disarm_deadline() {
  ++deadline_generation_;
  deadline_.cancel();
}

void Connection::arm_heartbeat() {
  heartbeat_.expires_after(shared_.options.sse_heartbeat);
  heartbeat_.async_wait([self = shared_from_this(), serial = serial_](error_code ec) {
    if (ec || self->phase_ != Phase::kStreaming || self->serial_ != serial) return;
    std::string comment = ": heartbeat\n\n";
    self->write(self->chunked_ ? wire::encode_chunk(comment) : std::move(comment));
    self->arm_heartbeat();
  });
}

void Connection::write(std::string first, std::string second) {
  if (!first.empty()) queued_.push_back(std::move(first));
  if (!second.empty()) queued_.push_back(std::move(second));
  if (!writing_) flush();
}

// Everything queued goes out in one gathered write; at most one is in flight.
// When the queue runs dry the pending after-write step (next request or
// lingering close) runs: the answer is then fully on the wire.
void Connection::flush() {
  if (queued_.empty()) {
    switch (std::exchange(after_write_, AfterWrite::kNothing)) {
      case AfterWrite::kNextRequest:
        return next_request();
      case AfterWrite::kLinger:
        return linger();
      case AfterWrite::kNothing:
        return;
    }
    return;
  }
  writing_ = true;
  in_flight_.swap(queued_);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(in_flight_.size());
  for (const auto& bytes : in_flight_) buffers.push_back(asio::buffer(bytes));
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](error_code ec, size_t) { self->on_written(ec); });
}

void Connection::on_written(error_code ec) {
  writing_ = false;
  in_flight_.clear();
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    mark_client_gone();
    close_now();
    return;
  }
  flush();
  if (phase_ == Phase::kUpgrading) hand_over_when_idle();
}

void Connection::respond(uint64_t serial, HttpResponse response) {
  if (phase_ != Phase::kHandling || serial != serial_) return;
  if (response.status < 200 || response.status > 599) {
    spdlog::error("HTTP handler answered the invalid status {}", response.status);
    response = error_response(make_error("internal_error", "The server failed.", ""));
  }
  wire::ResponseHead head{response.status,
                          response.content_type,
                          &response.headers,
                          wire::Framing::kContentLength,
                          response.body.size(),
                          keep_alive_,
                          http10_};
  std::string head_bytes = wire::encode_head(head);
  phase_ = Phase::kFinishing;
  after_write_ = keep_alive_ ? AfterWrite::kNextRequest : AfterWrite::kLinger;
  // A HEAD answer announces the length of a body it does not carry.
  bool send_body = !head_request_ && wire::has_body_status(response.status);
  write(std::move(head_bytes), send_body ? std::move(response.body) : std::string());
}

void Connection::open_stream(uint64_t serial, Headers headers) {
  if (phase_ != Phase::kHandling || serial != serial_) return;
  chunked_ = !http10_;  // HTTP/1.0 has no chunks: the stream ends with the close
  if (!chunked_) keep_alive_ = false;
  if (!has_header(headers, "Cache-Control")) headers.emplace_back("Cache-Control", "no-cache");
  wire::ResponseHead head{200,      "text/event-stream",
                          &headers, chunked_ ? wire::Framing::kChunked : wire::Framing::kUntilClose,
                          0,        keep_alive_,
                          http10_};
  phase_ = Phase::kStreaming;
  write(wire::encode_head(head));
  arm_heartbeat();
}

void Connection::stream_write(uint64_t serial, std::string frame) {
  if (phase_ != Phase::kStreaming || serial != serial_ || frame.empty()) return;
  write(chunked_ ? wire::encode_chunk(frame) : std::move(frame));
}

void Connection::close_stream(uint64_t serial) {
  if (phase_ != Phase::kStreaming || serial != serial_) return;
  heartbeat_.cancel();
  phase_ = Phase::kFinishing;
  after_write_ = keep_alive_ ? AfterWrite::kNextRequest : AfterWrite::kLinger;
  write(chunked_ ? std::string(wire::kLastChunk) : std::string());
}

void Connection::upgrade_to_websocket(uint64_t serial, HttpRequest request,
                                      WebSocketUpgrade upgrade) {
  if (phase_ != Phase::kHandling || serial != serial_) return;
  if (auto error = websocket_handshake_error(request, !http10_)) {
    return respond(serial, error_response(*error, {{"Sec-WebSocket-Version", "13"}}));
  }
  phase_ = Phase::kUpgrading;
  mark_client_gone();  // the request's responder has done its part
  upgrade_.emplace(PendingUpgrade{std::move(request), std::move(upgrade)});
  if (sniffing_) {
    error_code ignored;
    socket_.cancel(ignored);  // on_sniff hands over
  }
  hand_over_when_idle();
}

void Connection::hand_over_when_idle() {
  if (sniffing_ || writing_) return;
  // A client must wait for the handshake answer before it sends frames (RFC
  // 6455, 4.1): bytes already here come from a client we cannot follow.
  if (buffer_.size() != 0) return close_now();
  PendingUpgrade pending = std::move(*upgrade_);
  upgrade_.reset();
  phase_ = Phase::kUpgraded;
  websocket_ = start_websocket(std::move(socket_), pending.request, std::move(pending.upgrade),
                               shared_.gate, shared_.options, shared_from_this());
}

void Connection::mark_client_gone() {
  if (responder_) responder_->mark_gone();
}

}  // namespace sluice::net
