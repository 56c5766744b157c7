#pragma once
// One accepted HTTP/1.1 connection and what it shares with its server. Private
// to the server's own sources: this header brings in Asio and Beast.
#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
// Sanitizer builds make GCC 12 report a false maybe-uninitialized inside Beast's
// parser (a boost::optional); it is library code, so silence it just there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#pragma GCC diagnostic pop

#include "core/public_error.hpp"
#include "net/http_server.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

class Connection;
class ConnectionResponder;
class WebSocketLink;

// Responders post into the io_context from any thread. Once the server closes
// the gate nothing more is posted, so the io_context can be torn down while
// route code still holds responders.
struct PostGate {
  std::shared_mutex mutex;
  bool open = true;
};

// Live connections, so stop() can close them.
// The server's open connections, at most `max_connections` of them. A
// connection is idle while it has no request under way (new, or kept alive
// between requests); when a new one arrives at the cap, the oldest idle one is
// closed to make room, so silent sockets cannot lock clients out.
class ConnectionRegistry {
 public:
  struct Admission {
    bool admitted = false;                // false: close the new connection unstarted
    std::shared_ptr<Connection> evicted;  // the idle connection to close, if any
  };
  // Not admitted once close_all() ran, or at the cap with nothing idle.
  Admission add(uint64_t id, std::weak_ptr<Connection> connection, size_t max_connections);
  void set_idle(uint64_t id, bool idle);
  void remove(uint64_t id);
  // Refuses further additions and returns the connections still alive.
  std::vector<std::shared_ptr<Connection>> close_all();

 private:
  struct Entry {
    std::weak_ptr<Connection> connection;
    bool idle = true;
  };
  std::mutex mutex_;
  bool closed_ = false;
  std::map<uint64_t, Entry> connections_;  // by id: the oldest first
};

// Everything connections share with their server; outlives the io_context.
struct ServerShared {
  ServerShared(ServerOptions server_options, RequestHandler request_handler)
      : options(std::move(server_options)), handler(std::move(request_handler)) {}

  ServerOptions options;
  RequestHandler handler;
  std::shared_ptr<PostGate> gate = std::make_shared<PostGate>();
  ConnectionRegistry registry;
};

// Every member function runs on the connection's strand (the socket's
// executor); close() and the responder entry points post themselves there.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, ServerShared& shared, uint64_t id);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();  // from any thread
  void close();  // from any thread

 private:
  friend class ConnectionResponder;
  enum class Phase {
    kAwaitRequest,    // keep-alive, waiting for the first byte of a request
    kReadingRequest,  // header timeout running
    kHandling,        // the handler owns the request; no timeout
    kStreaming,       // SSE open; heartbeats; no timeout
    kFinishing,       // the answer is queued or being written
    kLingering,       // send side shut; draining what the client still sends
    kUpgrading,       // becoming a WebSocket once the sniff (or a write) is done
    kUpgraded,        // the socket belongs to a WebSocket session
    kClosed,
  };
  enum class AfterWrite { kNothing, kNextRequest, kLinger };

  void read_request();
  void on_header(boost::system::error_code ec);
  void on_request(boost::system::error_code ec);
  void on_read_error(boost::system::error_code ec);
  void hand_to_handler();
  void reply_error_and_linger(const PublicError& error);
  void next_request();
  void linger();
  void close_now();

  void sniff();
  void on_sniff(boost::system::error_code ec, size_t bytes);

  void arm_deadline(std::chrono::milliseconds timeout);
  void disarm_deadline();
  void arm_heartbeat();

  void write(std::string first, std::string second = {});
  void flush();
  void on_written(boost::system::error_code ec);

  // Entry points of the current request's responder, already on the strand.
  void respond(uint64_t serial, HttpResponse response);
  void open_stream(uint64_t serial, Headers headers);
  void stream_write(uint64_t serial, std::string frame);
  void close_stream(uint64_t serial);
  void upgrade_to_websocket(uint64_t serial, HttpRequest request, WebSocketUpgrade upgrade);
  void on_half_close();
  void mark_client_gone();

  // Hands the socket over once nothing of ours reads or writes it.
  void hand_over_when_idle();

  boost::asio::ip::tcp::socket socket_;
  ServerShared& shared_;
  const uint64_t id_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer heartbeat_;
  uint64_t deadline_generation_ = 0;  // a fired wait from an older arm is stale
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Phase phase_ = Phase::kReadingRequest;
  AfterWrite after_write_ = AfterWrite::kNothing;
  bool sniffing_ = false;  // a read_some into buffer_ is in flight
  bool writing_ = false;
  std::vector<std::string> queued_;
  std::vector<std::string> in_flight_;

  // The request being answered.
  uint64_t serial_ = 0;
  std::shared_ptr<ConnectionResponder> responder_;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_request_ = false;
  bool chunked_ = false;

  struct PendingUpgrade {
    HttpRequest request;
    WebSocketUpgrade upgrade;
  };
  std::optional<PendingUpgrade> upgrade_;
  std::weak_ptr<WebSocketLink> websocket_;  // the session keeps this connection alive
};

}  // namespace sluice::net
