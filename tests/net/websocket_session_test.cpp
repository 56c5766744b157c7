// The server side of WebSockets over real sockets: the hand-over from HTTP,
// ordered sends from any thread, closing, and stopping the server.
#include <catch2/catch.hpp>

#include <thread>

#include "net/http_server.hpp"
#include "net/responses.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/websocket_client.hpp"

using namespace sluice;
using namespace sluice::net;
using namespace std::chrono_literals;
using sluice::test::HttpClient;
using sluice::test::RawConnection;
using sluice::test::WebSocketClient;

namespace {

// Echoes text; "burst" sends 200 numbered messages from another thread;
// "close" closes with 4000.
class EchoHandler final : public WebSocketHandler {
 public:
  explicit EchoHandler(std::shared_ptr<WebSocket> socket) : socket_(std::move(socket)) {}
  ~EchoHandler() override {
    if (burst_.joinable()) burst_.join();
  }

  void on_message(std::string message, bool text) override {
    if (!text) return socket_->send(R"({"binary":true})");
    if (message == "\"burst\"") {
      burst_ = std::thread([socket = socket_] {
        for (int i = 0; i < 200; ++i) socket->send(std::to_string(i));
      });
      return;
    }
    if (message == "\"close\"") return socket_->close(4000, "asked to");
    socket_->send(message);
  }

 private:
  std::shared_ptr<WebSocket> socket_;
  std::thread burst_;
};

struct EchoServer {
  EchoServer()
      : server(ServerOptions{"127.0.0.1", 0, 1024, 10'000ms, 60'000ms, 15'000ms, 2},
               [](HttpRequest request, std::shared_ptr<Responder> responder) {
                 if (request.path != "/socket") {
                   return responder->respond(json_response(200, {{"http", true}}));
                 }
                 responder->upgrade_to_websocket(
                     std::move(request), {2048, [](std::shared_ptr<WebSocket> socket) {
                                            return std::make_shared<EchoHandler>(std::move(socket));
                                          }});
               }) {
    server.start();
  }
  HttpServer server;
};

}  // namespace

TEST_CASE("a WebSocket echoes and keeps the order of sends made from another thread") {
  EchoServer echo;
  WebSocketClient socket(echo.server.port(), "/socket");
  socket.send(R"({"a":1})");
  CHECK(socket.next() == nlohmann::json{{"a", 1}});
  socket.send_binary("xyz");
  CHECK(socket.next() == nlohmann::json{{"binary", true}});
  socket.send("\"burst\"");
  for (int i = 0; i < 200; ++i) REQUIRE(socket.next() == nlohmann::json(i));
  socket.send("\"close\"");
  CHECK_FALSE(socket.next());
  CHECK(socket.close_code() == 4000);
  CHECK(socket.close_reason() == "asked to");
}

TEST_CASE("a WebSocket message over the limit closes the socket with 1009") {
  EchoServer echo;
  WebSocketClient socket(echo.server.port(), "/socket");
  socket.send("\"" + std::string(2048, 'x') + "\"");
  CHECK_FALSE(socket.next());
  CHECK(socket.close_code() == 1009);
}

TEST_CASE("a request that is not a WebSocket handshake answers 400 and the connection goes on") {
  EchoServer echo;
  HttpClient client("127.0.0.1", echo.server.port());
  auto plain = client.request("GET", "/socket");
  CHECK(plain.status == 400);
  CHECK(plain.json()["error"]["type"] == "invalid_request");
  auto no_key = client.request("GET", "/socket", "",
                               {{"Connection", "keep-alive, Upgrade"},
                                {"Upgrade", "websocket"},
                                {"Sec-WebSocket-Version", "13"}});
  CHECK(no_key.status == 400);
  CHECK(no_key.json()["error"]["message"].get<std::string>().find("Sec-WebSocket-Key") !=
        std::string::npos);
  CHECK(client.request("GET", "/other").status == 200);
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("bytes sent before the handshake answer close the connection") {
  EchoServer echo;
  RawConnection raw(echo.server.port());
  raw.send(
      "GET /socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
      "early bytes");
  CHECK(raw.closed_by_peer(5s));
  CHECK(raw.received().find("101") == std::string::npos);
}

TEST_CASE("stopping the server cuts open WebSockets") {
  EchoServer echo;
  WebSocketClient socket(echo.server.port(), "/socket");
  socket.send("1");
  CHECK(socket.next() == nlohmann::json(1));
  echo.server.stop();
  CHECK_FALSE(socket.next(5s));
}
