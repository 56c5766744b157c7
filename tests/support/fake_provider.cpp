#include "tests/support/fake_provider.hpp"

#include <utility>  // before asio: GCC 12 in C++20 mode needs it (see STACK-NOTES.md)

#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <openssl/ssl.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace sluice::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Blocking reads and writes, over TLS when the server has a certificate.
class Reply::Connection {
 public:
  Connection(tcp::socket& socket, asio::ssl::context* tls) : socket_(socket) {
    if (tls) tls_.emplace(socket, *tls);
  }

  bool handshake() {
    if (!tls_) return true;
    boost::system::error_code error;
    tls_->handshake(asio::ssl::stream_base::server, error);
    return !error;
  }

  bool read(boost::beast::flat_buffer& buffer, http::request<http::string_body>& request) {
    boost::system::error_code error;
    if (tls_) {
      http::read(*tls_, buffer, request, error);
    } else {
      http::read(socket_, buffer, request, error);
    }
    return !error;
  }

  void write(const std::string& bytes) {
    boost::system::error_code ignored;
    if (tls_) {
      asio::write(*tls_, asio::buffer(bytes), ignored);
    } else {
      asio::write(socket_, asio::buffer(bytes), ignored);
    }
  }

  int fd() { return socket_.native_handle(); }

 private:
  tcp::socket& socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
};

void Reply::full(int status, const std::string& body,
                 const std::map<std::string, std::string>& headers) {
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n";
  for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
  write(head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

void Reply::stream_head() {
  write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
}

void Reply::chunk(const std::string& bytes) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
  write(size + bytes + "\r\n");
  std::this_thread::sleep_for(2ms);
}

void Reply::end() {
  write("0\r\n\r\n");
}

void Reply::stall() {
  // Polled, not read: a read would consume TLS records. Anything readable here
  // is the client going away, as it sends nothing while waiting for an answer.
  pollfd watch{connection_.fd(), POLLIN, 0};
  while (!stopping_ && ::poll(&watch, 1, 10) == 0) {
  }
  closed = true;
}

void Reply::write(const std::string& bytes) {
  connection_.write(bytes);
}

struct FakeServer::Impl {
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::optional<asio::ssl::context> tls;
  std::atomic<bool> stopping{false};
  std::thread accept_thread;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::vector<std::thread> threads;
  std::vector<RecordedRequest> requests;
  std::vector<std::string> server_names;
  int failed_handshakes = 0;

  static int on_server_name(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::lock_guard lock(self->mutex);
    self->server_names.emplace_back(name ? name : "");
    return SSL_TLSEXT_ERR_OK;
  }

  void accept_loop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io);
      boost::system::error_code error;
      acceptor.accept(*socket, error);
      if (error || stopping) return;
      std::lock_guard lock(mutex);
      sockets.push_back(socket);
      threads.emplace_back([this, socket] { serve(*socket); });
    }
  }

  void serve(tcp::socket& socket) {
    Reply::Connection connection(socket, tls ? &*tls : nullptr);
    if (connection.handshake()) {
      serve_requests(connection);
    } else {
      std::lock_guard lock(mutex);
      ++failed_handshakes;
    }
    // Shut down, not closed: the destructor may shut it down too, from another thread.
    ::shutdown(socket.native_handle(), SHUT_RDWR);
  }

  void serve_requests(Reply::Connection& connection) {
    boost::beast::flat_buffer buffer;
    while (!stopping) {
      http::request<http::string_body> request;
      if (!connection.read(buffer, request)) return;
      RecordedRequest recorded{std::string(request.method_string()),
                               std::string(request.target()),
                               {},
                               request.body(),
                               std::chrono::steady_clock::now()};
      for (const auto& field : request) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        recorded.headers[name] = std::string(field.value());
      }
      {
        std::lock_guard lock(mutex);
        requests.push_back(recorded);
        changed.notify_all();
      }
      Reply reply(connection, stopping);
      handler(recorded, reply);
      if (reply.closed) return;
    }
  }
};

FakeServer::FakeServer(Handler handler, std::optional<TlsFiles> tls)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  if (tls) {
    auto& context = impl_->tls.emplace(asio::ssl::context::tls_server);
    context.use_certificate_chain_file(tls->cert_file.string());
    context.use_private_key_file(tls->key_file.string(), asio::ssl::context::pem);
    SSL_CTX_set_tlsext_servername_callback(context.native_handle(), &Impl::on_server_name);
    SSL_CTX_set_tlsext_servername_arg(context.native_handle(), impl_.get());
  }
  impl_->acceptor.open(tcp::v4());
  impl_->acceptor.bind({asio::ip::make_address("127.0.0.1"), 0});
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

FakeServer::~FakeServer() {
  impl_->stopping = true;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);  // wakes the blocking accept
  impl_->accept_thread.join();
  // The accept thread is gone: nothing adds sockets or threads any more. Joined
  // without the lock, which connection threads take to record what they saw.
  for (auto& socket : impl_->sockets) ::shutdown(socket->native_handle(), SHUT_RDWR);
  for (auto& thread : impl_->threads) thread.join();
}

std::string FakeServer::url(const std::string& host) const {
  return (impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(port());
}

unsigned short FakeServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::vector<RecordedRequest> FakeServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

int FakeServer::connections() const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<int>(impl_->sockets.size());
}

bool FakeServer::wait_requests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->requests.size() >= count; });
}

std::vector<std::string> FakeServer::server_names() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->server_names;
}

int FakeServer::failed_handshakes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failed_handshakes;
}

std::string sse(const std::string& event, const nlohmann::json& data) {
  return (event.empty() ? "" : "event: " + event + "\n") + "data: " + data.dump() + "\n\n";
}

}  // namespace sluice::test
