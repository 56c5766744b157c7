#include "tests/support/http_client.hpp"

#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <poll.h>
#include <strings.h>

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace sluice::test {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

template <class Fields>
HeaderList to_header_list(const Fields& fields) {
  HeaderList out;
  for (const auto& field : fields) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// Runs the io_context until the operation started before the call sets `done`,
// or the deadline passes; then cancels the operation and lets it finish, so
// no handler outlives the call. True when it completed in time.
bool wait_for(asio::io_context& io, tcp::socket& socket, const bool& done,
              Clock::time_point deadline) {
  io.restart();
  io.run_until(deadline);
  if (done) return true;
  error_code ignored;
  socket.cancel(ignored);
  io.restart();
  io.run();
  return false;
}

void connect(asio::io_context& io, tcp::socket& socket, const std::string& host, uint16_t port,
             Clock::time_point deadline) {
  tcp::resolver resolver(io);
  error_code ec;
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) throw std::runtime_error("cannot resolve " + host + ": " + ec.message());
  bool done = false;
  asio::async_connect(socket, endpoints, [&](error_code result, const tcp::endpoint&) {
    ec = result;
    done = true;
  });
  std::string where = host + ":" + std::to_string(port);
  if (!wait_for(io, socket, done, deadline))
    throw std::runtime_error("connect timed out: " + where);
  if (ec) throw std::runtime_error("cannot connect to " + where + ": " + ec.message());
  socket.set_option(tcp::no_delay(true), ec);
}

http::request<http::string_body> build_request(const std::string& method, const std::string& target,
                                               const std::string& body, const HeaderList& headers,
                                               const std::string& host_header) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, host_header);
  for (const auto& [name, value] : headers) request.insert(name, value);
  request.body() = body;
  request.prepare_payload();
  return request;
}

void write_request(asio::io_context& io, tcp::socket& socket,
                   http::request<http::string_body>& request, Clock::time_point deadline,
                   const std::string& what) {
  error_code ec;
  bool done = false;
  http::async_write(socket, request, [&](error_code result, size_t) {
    ec = result;
    done = true;
  });
  if (!wait_for(io, socket, done, deadline)) {
    throw std::runtime_error("timed out sending " + what);
  }
  if (ec) throw std::runtime_error("cannot send " + what + ": " + ec.message());
}

// An idle kept-alive socket that is readable was closed (or reset) by the
// server, or holds bytes nobody asked for: either way it is not reusable.
bool is_stale(tcp::socket& socket) {
  pollfd descriptor{socket.native_handle(), POLLIN, 0};
  return ::poll(&descriptor, 1, 0) != 0;
}

}  // namespace

std::string Response::header(std::string_view name) const {
  return find_header(headers, name);
}

nlohmann::json Response::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("response body is not JSON (") + e.what() +
                             "): " + body.substr(0, 500));
  }
}

nlohmann::json SseEvent::json() const {
  try {
    return nlohmann::json::parse(data);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("SSE data is not JSON (") + e.what() + "): " + data);
  }
}

// ---------------------------------------------------------------- HttpClient

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  asio::io_context io;
  tcp::socket socket{io};
  boost::beast::flat_buffer buffer;
  int connections_opened = 0;

  std::string host_header() const { return host + ":" + std::to_string(port); }

  void drop() {
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    buffer.clear();
  }

  void ensure_connected(Clock::time_point deadline) {
    if (socket.is_open() && !is_stale(socket)) return;
    drop();
    connect(io, socket, host, port, deadline);
    ++connections_opened;
  }
};

HttpClient::HttpClient(std::string host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() = default;

Response HttpClient::request(const std::string& method, const std::string& target,
                             const std::string& body, const HeaderList& headers,
                             std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string what = method + " " + target;
  auto& impl = *impl_;
  impl.ensure_connected(deadline);
  auto message = build_request(method, target, body, headers, impl.host_header());
  try {
    write_request(impl.io, impl.socket, message, deadline, what);
  } catch (...) {
    impl.drop();
    throw;
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (method == "HEAD") parser.skip(true);
  error_code ec;
  bool done = false;
  http::async_read(impl.socket, impl.buffer, parser, [&](error_code result, size_t) {
    ec = result;
    done = true;
  });
  if (!wait_for(impl.io, impl.socket, done, deadline)) {
    impl.drop();
    throw std::runtime_error("timed out after " + std::to_string(timeout.count()) +
                             " ms waiting for the answer to " + what);
  }
  if (ec) {
    impl.drop();
    throw std::runtime_error("reading the answer to " + what + " failed: " + ec.message());
  }
  auto& answer = parser.get();
  Response response;
  response.status = static_cast<int>(answer.result_int());
  response.headers = to_header_list(answer);
  response.body = std::move(answer.body());
  if (!answer.keep_alive()) impl.drop();
  return response;
}

int HttpClient::connections_opened() const {
  return impl_->connections_opened;
}

void HttpClient::close() {
  impl_->drop();
}

// ----------------------------------------------------------------- SseStream

struct SseStream::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  int status = 0;
  HeaderList headers;
  std::string raw;  // body bytes not yet parsed into events
  std::deque<SseEvent> events;
  size_t heartbeats = 0;
  bool ended = false;

  // Reads what arrives next into `raw`; false when the response had ended.
  bool pull(Clock::time_point deadline) {
    if (ended) return false;
    error_code ec;
    bool done = false;
    http::async_read_some(socket, buffer, parser, [&](error_code result, size_t) {
      ec = result;
      done = true;
    });
    if (!wait_for(io, socket, done, deadline)) {
      throw std::runtime_error("timed out waiting for the SSE stream");
    }
    auto& body = parser.get().body();
    for (char c : body) {
      if (c != '\r') raw += c;
    }
    body.clear();
    if (ec || parser.is_done()) ended = true;
    return true;
  }

  // Moves every complete block of `raw` into `events` (or counts comments).
  void parse_blocks() {
    size_t end;
    while ((end = raw.find("\n\n")) != std::string::npos) {
      parse_block(std::string_view(raw).substr(0, end + 1));
      raw.erase(0, end + 2);
    }
  }

  void parse_block(std::string_view block) {
    SseEvent event;
    bool has_field = false;
    bool has_data = false;
    while (!block.empty()) {
      size_t newline = block.find('\n');
      std::string_view line = block.substr(0, newline);
      block.remove_prefix(newline + 1);
      if (line.empty()) continue;
      if (line[0] == ':') {
        if (line == ": heartbeat" || line == ":heartbeat") ++heartbeats;
        continue;
      }
      size_t colon = line.find(':');
      std::string_view field = line.substr(0, colon);
      std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
      has_field = true;
      if (field == "event") {
        event.event = value;
      } else if (field == "id") {
        event.id = value;
      } else if (field == "data") {
        if (has_data) event.data += '\n';
        event.data += value;
        has_data = true;
      }
    }
    if (!has_field) return;
    if (event.event.empty()) event.event = "message";
    events.push_back(std::move(event));
  }
};

SseStream::SseStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SseStream::SseStream(SseStream&&) noexcept = default;
SseStream& SseStream::operator=(SseStream&&) noexcept = default;
SseStream::~SseStream() {
  if (impl_) close();
}

int SseStream::status() const {
  return impl_->status;
}

std::string SseStream::header(std::string_view name) const {
  return find_header(impl_->headers, name);
}

std::optional<SseEvent> SseStream::next(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    impl_->parse_blocks();
    if (!impl_->events.empty()) {
      SseEvent event = std::move(impl_->events.front());
      impl_->events.pop_front();
      return event;
    }
    if (!impl_->pull(deadline)) return std::nullopt;
  }
}

bool SseStream::wait_heartbeat(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  size_t before = impl_->heartbeats;
  while (true) {
    impl_->parse_blocks();
    if (impl_->heartbeats > before) return true;
    if (!impl_->pull(deadline)) return false;
  }
}

size_t SseStream::heartbeats_seen() const {
  return impl_->heartbeats;
}

bool SseStream::complete() const {
  return impl_->parser.is_done();
}

std::string SseStream::read_body(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (impl_->pull(deadline)) {
  }
  return std::exchange(impl_->raw, {});
}

void SseStream::close() {
  error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
  impl_->socket.close(ignored);
  impl_->ended = true;
}

SseStream HttpClient::open_sse(const std::string& method, const std::string& target,
                               const std::string& body, const HeaderList& headers,
                               std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string what = method + " " + target;
  auto impl = std::make_unique<SseStream::Impl>();
  connect(impl->io, impl->socket, impl_->host, impl_->port, deadline);
  HeaderList all = headers;
  if (find_header(all, "Accept").empty()) all.emplace_back("Accept", "text/event-stream");
  auto message = build_request(method, target, body, all, impl_->host_header());
  write_request(impl->io, impl->socket, message, deadline, what);

  impl->parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  error_code ec;
  bool done = false;
  http::async_read_header(impl->socket, impl->buffer, impl->parser, [&](error_code result, size_t) {
    ec = result;
    done = true;
  });
  if (!wait_for(impl->io, impl->socket, done, deadline)) {
    throw std::runtime_error("timed out waiting for the SSE answer to " + what);
  }
  if (ec)
    throw std::runtime_error("reading the SSE answer to " + what + " failed: " + ec.message());
  impl->status = static_cast<int>(impl->parser.get().result_int());
  impl->headers = to_header_list(impl->parser.get());
  impl->ended = impl->parser.is_done();
  return SseStream(std::move(impl));
}

// ------------------------------------------------------------- RawConnection

struct RawConnection::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  std::string received;
  bool peer_closed = false;

  // One read within the deadline: the bytes, "" on timeout; sets peer_closed.
  std::string read_once(Clock::time_point deadline) {
    if (peer_closed) return {};
    std::array<char, 16 * 1024> chunk;
    error_code ec;
    size_t bytes = 0;
    bool done = false;
    socket.async_read_some(asio::buffer(chunk), [&](error_code result, size_t n) {
      ec = result;
      bytes = n;
      done = true;
    });
    if (!wait_for(io, socket, done, deadline)) return {};
    if (ec) {
      peer_closed = true;
      return {};
    }
    std::string data(chunk.data(), bytes);
    received += data;
    return data;
  }
};

RawConnection::RawConnection(uint16_t port, const std::string& host)
    : impl_(std::make_unique<Impl>()) {
  connect(impl_->io, impl_->socket, host, port, Clock::now() + std::chrono::seconds(10));
}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::send(std::string_view bytes) {
  error_code ec;
  bool done = false;
  asio::async_write(impl_->socket, asio::buffer(bytes.data(), bytes.size()),
                    [&](error_code result, size_t) {
                      ec = result;
                      done = true;
                    });
  if (!wait_for(impl_->io, impl_->socket, done, Clock::now() + std::chrono::seconds(10))) {
    throw std::runtime_error("timed out sending raw bytes");
  }
  if (ec) throw std::runtime_error("cannot send raw bytes: " + ec.message());
}

std::string RawConnection::read_some(std::chrono::milliseconds timeout) {
  return impl_->read_once(Clock::now() + timeout);
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!impl_->peer_closed) {
    if (remaining(deadline).count() == 0) return false;
    impl_->read_once(deadline);
  }
  return true;
}

const std::string& RawConnection::received() const {
  return impl_->received;
}

void RawConnection::shutdown_send() {
  error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_send, ignored);
}

void RawConnection::reset() {
  error_code ignored;
  impl_->socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  impl_->socket.close(ignored);
}

void RawConnection::close() {
  error_code ignored;
  impl_->socket.close(ignored);
}

}  // namespace sluice::test
