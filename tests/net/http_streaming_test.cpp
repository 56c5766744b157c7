// Timeouts, server-sent events and clients that leave, over real sockets.
#include <catch2/catch.hpp>

#include <condition_variable>
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
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kShort = 300ms;        // header and idle timeouts of these tests
constexpr auto kSlowAnswer = 1200ms;  // longer than both

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

// A responder a route kept without answering, for the test to drive.
class Held {
 public:
  void put(std::shared_ptr<Responder> responder) {
    std::lock_guard lock(mutex_);
    responder_ = std::move(responder);
    ready_.notify_all();
  }
  std::shared_ptr<Responder> take() {
    std::unique_lock lock(mutex_);
    REQUIRE(ready_.wait_for(lock, 5s, [&] { return responder_ != nullptr; }));
    return std::exchange(responder_, nullptr);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::shared_ptr<Responder> responder_;
};

void write_frames(const std::shared_ptr<Responder>& responder, int count,
                  std::chrono::milliseconds gap) {
  for (int i = 0; i < count; ++i) {
    responder->stream_write(sse_frame("text_delta", i, {{"type", "text_delta"}, {"n", i}}));
    std::this_thread::sleep_for(gap);
  }
}

struct StreamServer {
  explicit StreamServer(std::chrono::milliseconds heartbeat = 10s) {
    RouteTable routes;
    routes.add({"GET", "/healthz", "",
                [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                  responder->respond(json_response(200, {{"ok", true}}));
                }});
    routes.add({"GET", "/slow", "",
                [this](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                  later.run([responder] {
                    std::this_thread::sleep_for(kSlowAnswer);
                    responder->respond(json_response(200, {{"slow", true}}));
                  });
                }});
    routes.add({"POST", "/stream", "",
                [this](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                  responder->open_stream({{"X-Test", "yes"}});
                  later.run([responder] {
                    write_frames(responder, 5, 20ms);
                    responder->close_stream();
                  });
                }});
    routes.add({"POST", "/stream-late", "",
                [this](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                  responder->open_stream({});
                  later.run([responder] {
                    std::this_thread::sleep_for(kSlowAnswer);
                    write_frames(responder, 1, 0ms);
                    responder->close_stream();
                  });
                }});
    routes.add({"GET", "/hold", "",
                [this](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                  held.put(std::move(responder));
                }});
    routes.add({"POST", "/hold-stream", "",
                [this](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
                  responder->open_stream({});
                  held.put(std::move(responder));
                }});
    ServerOptions options;
    options.port = 0;
    options.header_timeout = kShort;
    options.idle_timeout = kShort;
    options.sse_heartbeat = heartbeat;
    auto table = std::make_shared<RouteTable>(std::move(routes));
    server = std::make_unique<HttpServer>(
        options, [table](HttpRequest request, std::shared_ptr<Responder> responder) {
          table->dispatch(std::move(request), std::move(responder));
        });
    server->start();
  }
  uint16_t port() const { return server->port(); }

  Later later;
  Held held;
  std::unique_ptr<HttpServer> server;
};

std::string read_until(RawConnection& connection, const std::string& until) {
  auto deadline = Clock::now() + 5s;
  while (connection.received().find(until) == std::string::npos && Clock::now() < deadline) {
    connection.read_some(200ms);
  }
  return connection.received();
}

bool becomes_true(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST_CASE("the header timeout closes a slowloris connection", "[net][timeouts]") {
  StreamServer server;
  RawConnection raw(server.port());
  auto start = Clock::now();
  raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\n");
  bool closed = false;
  while (!closed && Clock::now() - start < 5s) {
    try {
      raw.send("X-Slow: 1\r\n");  // bytes keep coming, the request never completes
    } catch (const std::runtime_error&) {
      closed = true;
      break;
    }
    closed = raw.closed_by_peer(100ms);
  }
  auto elapsed = Clock::now() - start;
  CHECK(closed);
  CHECK(elapsed >= kShort - 50ms);
  CHECK(elapsed < 3s);
  CHECK(raw.received().find("HTTP/1.1") == std::string::npos);
}

TEST_CASE("a connection that never sends is closed after the header timeout", "[net][timeouts]") {
  StreamServer server;
  RawConnection raw(server.port());
  auto start = Clock::now();
  CHECK(raw.closed_by_peer(5s));
  CHECK(Clock::now() - start >= kShort - 50ms);
}

TEST_CASE("a slow answer outlasting both timeouts is still delivered", "[net][timeouts]") {
  StreamServer server;
  HttpClient client("127.0.0.1", server.port());
  auto start = Clock::now();
  auto response = client.request("GET", "/slow", {}, {}, 10s);
  CHECK(response.status == 200);
  CHECK(response.json()["slow"] == true);
  CHECK(Clock::now() - start >= kSlowAnswer);
  // The connection went back to keep-alive afterwards.
  CHECK(client.request("GET", "/healthz").status == 200);
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("the idle timeout closes a kept-alive connection", "[net][timeouts]") {
  StreamServer server;
  RawConnection raw(server.port());
  raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  REQUIRE(read_until(raw, "{\"ok\":true}").find("{\"ok\":true}") != std::string::npos);
  auto answered = Clock::now();
  CHECK(raw.closed_by_peer(5s));
  auto idle = Clock::now() - answered;
  CHECK(idle >= kShort - 50ms);
  CHECK(idle < 3s);
}

TEST_CASE("a connection used within the idle timeout stays open", "[net][timeouts]") {
  StreamServer server;
  HttpClient client("127.0.0.1", server.port());
  for (int i = 0; i < 4; ++i) {
    REQUIRE(client.request("GET", "/healthz").status == 200);
    std::this_thread::sleep_for(kShort / 3);
  }
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("SSE frames arrive in order, then the stream closes", "[net][sse]") {
  StreamServer server;
  HttpClient client("127.0.0.1", server.port());
  auto stream = client.open_sse("POST", "/stream", "{}");
  CHECK(stream.status() == 200);
  CHECK(stream.header("Content-Type") == "text/event-stream");
  CHECK(stream.header("Cache-Control") == "no-cache");
  CHECK(stream.header("Transfer-Encoding") == "chunked");
  CHECK(stream.header("X-Test") == "yes");
  CHECK(stream.header("Server") == "sluice");
  for (int i = 0; i < 5; ++i) {
    auto event = stream.next(5s);
    REQUIRE(event);
    CHECK(event->event == "text_delta");
    CHECK(event->id == std::to_string(i));
    CHECK(event->json()["n"] == i);
  }
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("an open stream outlasting both timeouts is not cut", "[net][sse][timeouts]") {
  StreamServer server;
  HttpClient client("127.0.0.1", server.port());
  auto stream = client.open_sse("POST", "/stream-late", "{}");
  auto event = stream.next(10s);
  REQUIRE(event);
  CHECK(event->id == "0");
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("heartbeats flow while a stream is open", "[net][sse]") {
  StreamServer server(100ms);
  HttpClient client("127.0.0.1", server.port());
  auto stream = client.open_sse("POST", "/hold-stream", "{}");
  auto responder = server.held.take();
  CHECK(stream.wait_heartbeat(3s));
  CHECK(stream.wait_heartbeat(3s));
  responder->stream_write(sse_frame("idle", 7, {{"type", "idle"}}));
  responder->close_stream();
  auto event = stream.next(5s);
  REQUIRE(event);
  CHECK(event->event == "idle");
  CHECK(event->id == "7");
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.heartbeats_seen() >= 2);
}

TEST_CASE("close_stream returns the connection to keep-alive", "[net][sse]") {
  StreamServer server;
  RawConnection raw(server.port());
  raw.send("POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  auto text = read_until(raw, "\r\n0\r\n\r\n");
  REQUIRE(text.find("id: 4\n") != std::string::npos);
  raw.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(read_until(raw, "{\"ok\":true}").find("{\"ok\":true}") != std::string::npos);
}

TEST_CASE("a stream to an HTTP/1.0 client is unchunked and ends with the close", "[net][sse]") {
  StreamServer server;
  RawConnection raw(server.port());
  raw.send("POST /stream HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
  CHECK(raw.closed_by_peer(5s));
  const auto& text = raw.received();
  CHECK(text.find("Transfer-Encoding") == std::string::npos);
  CHECK(text.find("\r\n\r\nevent: text_delta\nid: 0\n") != std::string::npos);
  CHECK(text.find("event: text_delta\nid: 4\n") != std::string::npos);
}

TEST_CASE("client_gone turns true when the client leaves mid-answer", "[net][gone]") {
  StreamServer server;
  SECTION("waiting for a plain answer") {
    RawConnection raw(server.port());
    raw.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    auto responder = server.held.take();
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(responder->client_gone());
    raw.reset();
    CHECK(becomes_true([&] { return responder->client_gone(); }, 3s));
    responder->respond(json_response(200, {{"late", true}}));  // dropped, harmlessly
  }
  SECTION("not when it only half-closes: it still gets its answer") {
    RawConnection raw(server.port());
    raw.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    auto responder = server.held.take();
    raw.shutdown_send();
    std::this_thread::sleep_for(200ms);
    CHECK_FALSE(responder->client_gone());
    responder->respond(json_response(200, {{"late", true}}));
    CHECK(raw.closed_by_peer(5s));
    CHECK(raw.received().find("{\"late\":true}") != std::string::npos);
    CHECK(raw.received().find("Connection: close") != std::string::npos);
  }
  SECTION("while streaming") {
    HttpClient client("127.0.0.1", server.port());
    auto stream = client.open_sse("POST", "/hold-stream", "{}");
    auto responder = server.held.take();
    responder->stream_write(sse_frame("turn_start", 0, {{"type", "turn_start"}}));
    REQUIRE(stream.next(5s));
    CHECK_FALSE(responder->client_gone());
    stream.close();
    CHECK(becomes_true([&] { return responder->client_gone(); }, 3s));
    responder->stream_write(sse_frame("turn_end", 1, {{"type", "turn_end"}}));
    responder->close_stream();
  }
  HttpClient after("127.0.0.1", server.port());
  CHECK(after.request("GET", "/healthz").status == 200);
}

TEST_CASE("client_gone stays false while the client waits", "[net][gone]") {
  StreamServer server;
  RawConnection raw(server.port());
  raw.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
  auto responder = server.held.take();
  std::this_thread::sleep_for(kShort * 2);  // past both timeouts
  CHECK_FALSE(responder->client_gone());
  responder->respond(json_response(200, {{"held", true}}));
  CHECK(read_until(raw, "{\"held\":true}").find("{\"held\":true}") != std::string::npos);
}

TEST_CASE("a responder outliving its server is safe", "[net][gone]") {
  auto server = std::make_unique<StreamServer>();
  RawConnection raw(server->port());
  raw.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
  auto responder = server->held.take();
  server->server->stop();
  CHECK(raw.closed_by_peer(3s));
  CHECK(responder->client_gone());
  server.reset();
  responder->respond(json_response(200, {{"late", true}}));
  responder->open_stream({});
  responder->stream_write("event: x\nid: 0\ndata: {}\n\n");
  responder->close_stream();
  CHECK(responder->client_gone());
}
