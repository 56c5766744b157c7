// The HTTP front end over real sockets: routing, keep-alive, limits, errors.
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "net/http_server.hpp"
#include "net/responses.hpp"
#include "net/route_table.hpp"
#include "tests/support/http_client.hpp"

using namespace sluice;
using namespace sluice::net;
using namespace std::chrono_literals;
using sluice::test::HttpClient;
using sluice::test::RawConnection;

namespace {

// Threads that answer requests later, joined when the test ends.
class Later {
 public:
  void run(std::function<void()> work) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back(std::move(work));
  }

 private:
  std::mutex mutex_;
  std::vector<std::jthread> threads_;
};

RouteTable test_routes(Later& later) {
  RouteTable routes;
  routes.add({"GET", "/healthz", "liveness",
              [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                responder->respond(json_response(200, {{"ok", true}}));
              }});
  routes.add(
      {"POST", "/agents/:name/:id", "echo",
       [](HttpRequest& request, const PathParams& params, std::shared_ptr<Responder> responder) {
         responder->respond(json_response(200, {{"name", params.at("name")},
                                                {"id", params.at("id")},
                                                {"body", request.body},
                                                {"query", request.query},
                                                {"page", request.query_param("page").value_or("")},
                                                {"type", request.header("content-type")}}));
       }});
  routes.add({"GET", "/agents/:name/:id", "read",
              [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                responder->respond(json_response(200, {{"read", true}}));
              }});
  routes.add({"HEAD", "/healthz", "liveness without a body",
              [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                responder->respond(json_response(200, {{"ok", true}}));
              }});
  routes.add({"DELETE", "/empty", "answers 204 (its body must not be sent)",
              [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                responder->respond({204, "", {}, "must not be sent"});
              }});
  routes.add({"GET", "/later", "answers from another thread",
              [&later](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                later.run([responder] {
                  std::this_thread::sleep_for(5ms);
                  responder->respond(json_response(200, {{"later", true}}));
                });
              }});
  routes.add(
      {"GET", "/boom", "throws", [](HttpRequest&, const PathParams&, std::shared_ptr<Responder>) {
         throw std::runtime_error("secret internals");
       }});
  routes.add({"GET", "/twice", "answers twice",
              [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                responder->respond(json_response(200, {{"n", 1}}));
                responder->respond(json_response(500, {{"n", 2}}));
              }});
  routes.add(
      {"GET", "/bad-header", "tries to inject a header",
       [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
         responder->respond(json_response(
             200, {{"ok", true}},
             {{"X-Good", "yes"}, {"X-Evil", "a\r\nSet-Cookie: x=1"}, {"Content-Length", "1"}}));
       }});
  return routes;
}

struct TestServer {
  explicit TestServer(ServerOptions options = {}) {
    options.port = 0;
    auto table = std::make_shared<RouteTable>(test_routes(later));
    server = std::make_unique<HttpServer>(
        options, [table](HttpRequest request, std::shared_ptr<Responder> responder) {
          table->dispatch(std::move(request), std::move(responder));
        });
    server->start();
  }
  uint16_t port() const { return server->port(); }
  Later later;  // outlives the server: its threads may still hold responders
  std::unique_ptr<HttpServer> server;
};

std::string json_request(const std::string& body) {
  return "POST /agents/a/b HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Reads from a raw connection until the text `until` has arrived (or 5 s).
std::string read_until(RawConnection& connection, const std::string& until) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (connection.received().find(until) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) break;
    connection.read_some(200ms);
  }
  return connection.received();
}

}  // namespace

TEST_CASE("routes answer over HTTP with decoded parameters", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());

  auto health = client.request("GET", "/healthz");
  CHECK(health.status == 200);
  CHECK(health.json() == nlohmann::json{{"ok", true}});
  CHECK(health.header("Server") == "sluice");
  CHECK(health.header("content-type") == "application/json");
  CHECK(health.header("Content-Length") == std::to_string(health.body.size()));

  auto echo = client.request("POST", "/agents/my%20agent/a%2Fb?page=2&x=%20", R"({"m":1})",
                             {{"Content-Type", "application/json"}});
  REQUIRE(echo.status == 200);
  auto body = echo.json();
  CHECK(body["name"] == "my agent");
  CHECK(body["id"] == "a/b");
  CHECK(body["body"] == R"({"m":1})");
  CHECK(body["query"] == "page=2&x=%20");
  CHECK(body["page"] == "2");
  CHECK(body["type"] == "application/json");

  CHECK(client.request("GET", "/later").json()["later"] == true);
}

TEST_CASE("404, 405 with Allow, 400 for a bad escape, over HTTP", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());

  auto missing = client.request("GET", "/missing");
  CHECK(missing.status == 404);
  CHECK(missing.json()["error"]["type"] == "route_not_found");

  auto wrong = client.request("DELETE", "/agents/a/b");
  CHECK(wrong.status == 405);
  CHECK(wrong.header("Allow") == "GET, POST");
  CHECK(wrong.json()["error"]["type"] == "method_not_allowed");

  auto bad = client.request("GET", "/agents/a/%zz");
  CHECK(bad.status == 400);
  CHECK(bad.json()["error"]["type"] == "invalid_request");

  // Still one connection: error answers keep the connection.
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("a throwing handler answers 500 internal_error", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  auto response = client.request("GET", "/boom");
  CHECK(response.status == 500);
  CHECK(response.json()["error"]["type"] == "internal_error");
  CHECK(response.body.find("secret") == std::string::npos);
  CHECK(client.request("GET", "/healthz").status == 200);
}

TEST_CASE("only the first answer to a request is sent", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  auto response = client.request("GET", "/twice");
  CHECK(response.status == 200);
  CHECK(response.json()["n"] == 1);
  CHECK(client.request("GET", "/healthz").status == 200);
}

TEST_CASE("handler header fields cannot split the header block", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  auto response = client.request("GET", "/bad-header");
  CHECK(response.status == 200);
  CHECK(response.header("X-Good") == "yes");
  CHECK(response.header("X-Evil") == "");
  CHECK(response.header("Set-Cookie") == "");
  CHECK(response.header("Content-Length") == std::to_string(response.body.size()));
}

TEST_CASE("keep-alive reuses one connection", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  for (int i = 0; i < 20; ++i) {
    REQUIRE(client.request("POST", "/agents/a/" + std::to_string(i), "x").status == 200);
  }
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("Connection: close and HTTP/1.0 close after the answer", "[net][server]") {
  TestServer server;
  SECTION("HTTP/1.1 with Connection: close") {
    RawConnection raw(server.port());
    raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK(raw.closed_by_peer(3s));
    CHECK(raw.received().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(raw.received().find("Connection: close\r\n") != std::string::npos);
  }
  SECTION("HTTP/1.0 without keep-alive") {
    RawConnection raw(server.port());
    raw.send("GET /healthz HTTP/1.0\r\n\r\n");
    CHECK(raw.closed_by_peer(3s));
    CHECK(raw.received().find("{\"ok\":true}") != std::string::npos);
  }
  SECTION("HTTP/1.0 with keep-alive stays open") {
    RawConnection raw(server.port());
    raw.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto text = read_until(raw, "{\"ok\":true}");
    CHECK(text.find("Connection: keep-alive\r\n") != std::string::npos);
    CHECK_FALSE(raw.closed_by_peer(300ms));
  }
}

TEST_CASE("pipelined requests are answered in order", "[net][server]") {
  TestServer server;
  RawConnection raw(server.port());
  raw.send(json_request("first") + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" +
           json_request("third"));
  auto text = read_until(raw, "third");
  auto first = text.find("first");
  auto second = text.find("{\"ok\":true}");
  auto third = text.find("third");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(third != std::string::npos);
  CHECK(first < second);
  CHECK(second < third);
}

TEST_CASE("HEAD answers carry the length but no body", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  auto head = client.request("HEAD", "/healthz");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.header("Content-Length") == "11");
  CHECK(client.request("GET", "/healthz").body == R"({"ok":true})");
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("204 answers carry no body", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  auto empty = client.request("DELETE", "/empty");
  CHECK(empty.status == 204);
  CHECK(empty.body.empty());
  CHECK(empty.header("Content-Length") == "");
  CHECK(client.request("GET", "/healthz").body == R"({"ok":true})");
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("a body over the limit answers 413 and closes", "[net][server]") {
  ServerOptions options;
  options.max_body_bytes = 1024;
  TestServer server(options);

  SECTION("announced by Content-Length") {
    RawConnection raw(server.port());
    raw.send("POST /agents/a/b HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    CHECK(raw.closed_by_peer(5s));
    CHECK(raw.received().rfind("HTTP/1.1 413 ", 0) == 0);
    CHECK(raw.received().find("\"payload_too_large\"") != std::string::npos);
    CHECK(raw.received().find("Connection: close") != std::string::npos);
  }
  SECTION("sent in chunks") {
    RawConnection raw(server.port());
    raw.send("POST /agents/a/b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string chunk = "258\r\n" + std::string(600, 'x') + "\r\n";
    raw.send(chunk);
    raw.send(chunk);
    CHECK(raw.closed_by_peer(5s));
    CHECK(raw.received().rfind("HTTP/1.1 413 ", 0) == 0);
    CHECK(raw.received().find("\"payload_too_large\"") != std::string::npos);
  }
  SECTION("with the client still sending the body, it reads the 413") {
    HttpClient client("127.0.0.1", server.port());
    auto response = client.request("POST", "/agents/a/b", std::string(200'000, 'x'));
    CHECK(response.status == 413);
    CHECK(response.json()["error"]["type"] == "payload_too_large");
  }
  SECTION("exactly at the limit is accepted") {
    HttpClient client("127.0.0.1", server.port());
    CHECK(client.request("POST", "/agents/a/b", std::string(1024, 'x')).status == 200);
    std::string chunked = "400\r\n" + std::string(1024, 'y') + "\r\n0\r\n\r\n";
    RawConnection raw(server.port());
    raw.send("POST /agents/a/b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
             chunked);
    CHECK(read_until(raw, "yyyy").rfind("HTTP/1.1 200 ", 0) == 0);
  }
}

TEST_CASE("a malformed request answers 400 invalid_request and closes", "[net][server]") {
  TestServer server;
  std::string request = GENERATE(std::string("GARBAGE\r\n\r\n"),
                                 std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"),
                                 std::string("POST /agents/a/b HTTP/1.1\r\nHost: t\r\n"
                                             "Content-Length: abc\r\n\r\n"),
                                 std::string("POST /agents/a/b HTTP/1.1\r\nHost: t\r\n"
                                             "Transfer-Encoding: chunked\r\n\r\nzz\r\n"));
  INFO(request);
  RawConnection raw(server.port());
  raw.send(request);
  CHECK(raw.closed_by_peer(5s));
  CHECK(raw.received().rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(raw.received().find("\"invalid_request\"") != std::string::npos);
}

TEST_CASE("oversized header blocks answer 400", "[net][server]") {
  TestServer server;
  RawConnection raw(server.port());
  raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n");
  CHECK(raw.closed_by_peer(5s));
  CHECK(raw.received().rfind("HTTP/1.1 400 ", 0) == 0);
}

TEST_CASE("Expect: 100-continue gets an interim answer", "[net][server]") {
  TestServer server;
  RawConnection raw(server.port());
  raw.send(
      "POST /agents/a/b HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  CHECK(read_until(raw, "\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n");
  raw.send("hello");
  auto text = read_until(raw, "hello\"");
  CHECK(text.find("HTTP/1.1 200 OK") != std::string::npos);
}

TEST_CASE("stop_accepting refuses new connections but serves open ones", "[net][server]") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  REQUIRE(client.request("GET", "/healthz").status == 200);
  server.server->stop_accepting();
  CHECK(client.request("GET", "/healthz").status == 200);
  CHECK_THROWS(RawConnection(server.port()));
  server.server->stop();
  CHECK_THROWS(client.request("GET", "/healthz", {}, {}, 2s));
}

TEST_CASE("start names the address it cannot bind", "[net][server]") {
  TestServer first;
  ServerOptions options;
  options.port = first.port();
  HttpServer second(options, [](HttpRequest, std::shared_ptr<Responder>) {});
  try {
    second.start();
    FAIL("start() should have thrown");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())) !=
          std::string::npos);
  }
}

TEST_CASE("concurrent clients on two io threads answered from other threads", "[net][server]") {
  ServerOptions options;
  options.io_threads = 2;
  TestServer server(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client("127.0.0.1", server.port());
      for (int i = 0; i < 25; ++i) {
        auto path = i % 2 ? "/later" : "/agents/c" + std::to_string(c) + "/" + std::to_string(i);
        auto response = client.request(i % 2 ? "GET" : "POST", path, "b");
        if (response.status == 200) ++ok;
      }
    });
  }
  for (auto& thread : clients) thread.join();
  CHECK(ok == 100);
}
