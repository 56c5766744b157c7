#include <catch2/catch.hpp>

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "net/route_table.hpp"

using namespace sluice::net;

namespace {

// Records what a route (or the table) answered, without any socket.
struct RecordingResponder : Responder {
  std::vector<HttpResponse> responses;
  void respond(HttpResponse response) override { responses.push_back(std::move(response)); }
  void open_stream(Headers) override {}
  void stream_write(std::string) override {}
  void close_stream() override {}
  bool client_gone() const override { return false; }
};

struct Dispatched {
  std::string route;
  PathParams params;
  std::shared_ptr<RecordingResponder> responder = std::make_shared<RecordingResponder>();

  const HttpResponse& only_response() const {
    REQUIRE(responder->responses.size() == 1);
    return responder->responses.front();
  }
  nlohmann::json error() const { return nlohmann::json::parse(only_response().body)["error"]; }
  std::string header(const std::string& name) const {
    for (const auto& [key, value] : only_response().headers) {
      if (key == name) return value;
    }
    return "<absent>";
  }
};

class Table {
 public:
  Table() {
    add("POST", "/agents/:name/:id");
    add("GET", "/agents/:name/:id");
    add("DELETE", "/agents/:name/:id");
    add("POST", "/agents/:name/:id/dispatch");
    add("GET", "/runs/:runId/events");
    add("GET", "/healthz");
    add("POST", "/healthz");  // a duplicate method below must not repeat in Allow
    add("POST", "/healthz");
    routes_.add({"GET", "/boom", "throws", [](HttpRequest&, const PathParams&, auto) {
                   throw std::runtime_error("secret database password");
                 }});
    routes_.add({"GET", "/boom-int", "throws a non-exception",
                 [](HttpRequest&, const PathParams&, auto) { throw 42; }});
  }

  Dispatched dispatch(const std::string& method, const std::string& path) {
    Dispatched result;
    last_ = &result;
    HttpRequest request;
    request.method = method;
    request.path = path;
    routes_.dispatch(std::move(request), result.responder);
    last_ = nullptr;
    return result;
  }

 private:
  void add(const std::string& method, const std::string& pattern) {
    routes_.add({method, pattern, "test route",
                 [this, route = method + " " + pattern](HttpRequest&, const PathParams& params,
                                                        std::shared_ptr<Responder> responder) {
                   last_->route = route;
                   last_->params = params;
                   responder->respond({});
                 }});
  }

  RouteTable routes_;
  Dispatched* last_ = nullptr;
};

}  // namespace

TEST_CASE("routes match segment by segment and capture parameters", "[net][routes]") {
  Table table;
  auto prompt = table.dispatch("POST", "/agents/echo/user-1");
  CHECK(prompt.route == "POST /agents/:name/:id");
  CHECK(prompt.params == PathParams{{"name", "echo"}, {"id", "user-1"}});

  auto dispatch = table.dispatch("POST", "/agents/echo/user-1/dispatch");
  CHECK(dispatch.route == "POST /agents/:name/:id/dispatch");

  CHECK(table.dispatch("GET", "/healthz").route == "GET /healthz");
}

TEST_CASE("segments are decoded after splitting", "[net][routes]") {
  Table table;
  auto slash = table.dispatch("GET", "/agents/echo/a%2Fb");
  CHECK(slash.route == "GET /agents/:name/:id");
  CHECK(slash.params.at("id") == "a/b");

  auto spaced = table.dispatch("GET", "/agents/my%20agent/%E2%9C%93");
  CHECK(spaced.params.at("name") == "my agent");
  CHECK(spaced.params.at("id") == "\xE2\x9C\x93");

  auto plus = table.dispatch("GET", "/agents/a+b/x");
  CHECK(plus.params.at("name") == "a+b");

  // An encoded slash must not create a new segment and reach another route.
  auto not_dispatch = table.dispatch("POST", "/agents/echo/x%2Fdispatch");
  CHECK(not_dispatch.route == "POST /agents/:name/:id");
  CHECK(not_dispatch.params.at("id") == "x/dispatch");
}

TEST_CASE("unknown paths answer 404 route_not_found", "[net][routes]") {
  Table table;
  for (std::string path : {"/nope", "/agents/echo", "/agents/echo/a/b/c", "/agents//x",
                           "/agents/echo/", "/healthz/", "/"}) {
    INFO(path);
    auto result = table.dispatch("GET", path);
    CHECK(result.route.empty());
    CHECK(result.only_response().status == 404);
    CHECK(result.error()["type"] == "route_not_found");
  }
}

TEST_CASE("a known path with another method answers 405 with a sorted Allow", "[net][routes]") {
  Table table;
  auto agents = table.dispatch("PUT", "/agents/echo/a");
  CHECK(agents.route.empty());
  CHECK(agents.only_response().status == 405);
  CHECK(agents.error()["type"] == "method_not_allowed");
  CHECK(agents.header("Allow") == "DELETE, GET, POST");

  auto health = table.dispatch("DELETE", "/healthz");
  CHECK(health.header("Allow") == "GET, POST");
}

TEST_CASE("a malformed escape in the path answers 400", "[net][routes]") {
  Table table;
  for (std::string path : {"/agents/echo/%zz", "/agents/echo/%", "/nope/%4"}) {
    INFO(path);
    auto result = table.dispatch("GET", path);
    CHECK(result.route.empty());
    CHECK(result.only_response().status == 400);
    CHECK(result.error()["type"] == "invalid_request");
  }
}

TEST_CASE("a target that is not an absolute path answers 400", "[net][routes]") {
  Table table;
  for (std::string path : {"", "*", "healthz"}) {
    auto result = table.dispatch("GET", path);
    CHECK(result.only_response().status == 400);
  }
}

TEST_CASE("a throwing handler answers 500 without leaking the exception", "[net][routes]") {
  Table table;
  auto result = table.dispatch("GET", "/boom");
  CHECK(result.only_response().status == 500);
  CHECK(result.error()["type"] == "internal_error");
  CHECK(result.only_response().body.find("secret") == std::string::npos);

  auto odd = table.dispatch("GET", "/boom-int");
  CHECK(odd.only_response().status == 500);
  CHECK(odd.error()["type"] == "internal_error");
}

TEST_CASE("routes() lists routes in the order added", "[net][routes]") {
  RouteTable routes;
  routes.add({"GET", "/a", "first", {}});
  routes.add({"POST", "/b/:x", "second", {}});
  REQUIRE(routes.routes().size() == 2);
  CHECK(routes.routes()[0].pattern == "/a");
  CHECK(routes.routes()[1].summary == "second");
}
