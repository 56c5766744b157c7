#include "net/http_server.hpp"

#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <algorithm>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "net/http_connection.hpp"

namespace sluice::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct HttpServer::Impl {
  Impl(ServerOptions options, RequestHandler handler)
      : shared(std::move(options), std::move(handler)),
        io(std::max(1, shared.options.io_threads)),
        acceptor(asio::make_strand(io)),
        accept_retry(acceptor.get_executor()) {}

  void listen();
  void accept();
  void on_accept(error_code ec, tcp::socket socket);
  void log_accept_failure(error_code ec);
  void close_acceptor();
  void run_io();

  // Declared first so it outlives the io_context: connections destroyed while
  // the io_context shuts down still reach the registry.
  ServerShared shared;
  asio::io_context io;
  tcp::acceptor acceptor;           // its executor is a strand: accepts and closes never race
  asio::steady_timer accept_retry;  // on the acceptor's strand
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  uint64_t next_connection_id = 0;  // only touched on the acceptor's strand
  uint64_t accept_failures = 0;     // since the last report, on the acceptor's strand
  std::chrono::steady_clock::time_point last_accept_log{};
  bool started = false;
  bool stopped = false;
};

void HttpServer::Impl::listen() {
  const std::string& host = shared.options.host;
  const std::string where = host + ":" + std::to_string(shared.options.port);
  error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, shared.options.port);
  } else {
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, std::to_string(shared.options.port), ec);
    if (ec || results.empty()) {
      throw std::runtime_error("cannot resolve " + where + ": " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }
  try {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    error_code ignored;
    acceptor.close(ignored);
    throw std::runtime_error("cannot listen on " + where + ": " + e.code().message());
  }
  port = acceptor.local_endpoint().port();
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpServer::Impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Out of descriptors, or the peer reset before the accept: retry without
    // spinning on an error that persists.
    log_accept_failure(ec);
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([this](error_code wait_ec) {
      if (!wait_ec && acceptor.is_open()) accept();
    });
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // SSE frames are small writes
  uint64_t id = ++next_connection_id;
  auto connection = std::make_shared<Connection>(std::move(socket), shared, id);
  auto admission = shared.registry.add(id, connection, shared.options.max_connections);
  if (admission.evicted) admission.evicted->close();
  if (admission.admitted) connection->start();  // else the socket closes with it
  accept();
}

// Once per 10 s at most, with how many failed meanwhile: a node out of
// descriptors would otherwise log ten lines a second.
void HttpServer::Impl::log_accept_failure(error_code ec) {
  ++accept_failures;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_log < std::chrono::seconds(10)) return;
  spdlog::warn("HTTP accept failed: {} ({} time(s) since the last report)", ec.message(),
               accept_failures);
  accept_failures = 0;
  last_accept_log = now;
}

void HttpServer::Impl::close_acceptor() {
  error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
}

void HttpServer::Impl::run_io() {
  while (true) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("HTTP io thread caught an exception: {}", e.what());
    }
  }
}

HttpServer::HttpServer(ServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  if (impl_->started) throw std::logic_error("HttpServer::start called twice");
  impl_->listen();
  impl_->started = true;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] { impl->accept(); });
  impl_->work.emplace(impl_->io.get_executor());
  int threads = std::max(1, impl_->shared.options.io_threads);
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->run_io(); });
  }
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

void HttpServer::stop_accepting() {
  if (!impl_->started || impl_->stopped) return;
  std::promise<void> closed;
  asio::post(impl_->acceptor.get_executor(), [&] {
    impl_->close_acceptor();
    closed.set_value();
  });
  closed.get_future().wait();
}

void HttpServer::stop() {
  if (!impl_->started || impl_->stopped) return;
  stop_accepting();
  {
    std::unique_lock lock(impl_->shared.gate->mutex);
    impl_->shared.gate->open = false;
  }
  for (auto& connection : impl_->shared.registry.close_all()) connection->close();
  impl_->stopped = true;
  impl_->work.reset();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

}  // namespace sluice::net
