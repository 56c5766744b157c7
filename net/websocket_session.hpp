#pragma once
// The server side of one WebSocket, taken over from an HTTP connection. Private
// to the server's own sources: this header brings in Asio.
#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "net/http_server.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

struct PostGate;

// What the connection keeps of the socket it handed over.
class WebSocketLink {
 public:
  virtual ~WebSocketLink() = default;
  // Cuts the socket at once (the server stops). Call on the socket's strand.
  virtual void shut_down() = 0;
};

// From the socket's strand: answers the handshake of `request` (already checked
// by websocket_handshake_error), then calls upgrade.on_open. `owner` lives as
// long as the socket does (the connection, so the server's registry still
// reaches the socket).
std::shared_ptr<WebSocketLink> start_websocket(boost::asio::ip::tcp::socket socket,
                                               const HttpRequest& request,
                                               WebSocketUpgrade upgrade,
                                               std::shared_ptr<PostGate> gate,
                                               const ServerOptions& options,
                                               std::shared_ptr<void> owner);

}  // namespace sluice::net
