// Hostile requests against the real `sluice serve` binary, on file SQLite and
// on PostgreSQL: none may stop the node, reach storage as something else, or
// be read as another request. Each case failed on the server before these
// checks existed (the deep value killed the process; NUL and invalid UTF-8
// reached PostgreSQL; a Transfer-Encoding without chunked smuggled a request).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <fstream>

#include "persistence/postgres_test_schema.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/websocket_client.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

enum class Backend { sqlite_file, postgres };

struct Server {
  explicit Server(Backend backend, std::map<std::string, std::string> env = {})
      : port(free_port()) {
    std::filesystem::create_directories(dir / "project/agents");
    std::filesystem::create_directories(dir / "project/workflows");
    std::ofstream(dir / "project/agents/echo.toml")
        << "model = \"sluice/echo\"\nexpose = [\"http\", \"websocket\"]\n";
    std::ofstream(dir / "project/workflows/greet.toml")
        << "agent = \"echo\"\nprompt = \"Hi\"\nexpose = [\"http\", \"websocket\"]\n";
    if (backend == Backend::postgres) {
      schema.emplace();
      env["DATABASE_URL"] = schema->url();
    } else {
      env["DATABASE_URL"] = (dir / "sluice.db").string();
    }
    env["PORT"] = std::to_string(port);
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
    options.env = std::move(env);
    options.stdout_path = dir / "serve.out";
    options.stderr_path = dir / "serve.err";
    // With a token, /readyz wants it too: /healthz is the one open route.
    const bool token = options.env.contains("SLUICE_AUTH_TOKEN");
    process.emplace(std::move(options));
    REQUIRE(wait_for_http_ok(port, token ? "/healthz" : "/readyz", 30s, &*process));
  }

  bool alive() {
    HttpClient client("127.0.0.1", port);
    return process->running() && client.request("GET", "/healthz").status == 200;
  }

  TempDir dir;
  std::optional<sluice::persistence::testing::PostgresTestSchema> schema;
  uint16_t port;
  std::optional<Process> process;
};

std::string nested_arrays(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

json error_of(const Response& response) {
  INFO(response.body);
  return response.json()["error"];
}

const HeaderList kJson = {{"Content-Type", "application/json"}};

}  // namespace

TEST_CASE("a value nested 100,000 deep is refused with 400 wherever JSON comes in") {
  Server server(Backend::sqlite_file);
  HttpClient client("127.0.0.1", server.port);
  const std::string deep = nested_arrays(100'000);

  auto dispatch =
      client.request("POST", "/agents/echo/deep/dispatch", "{\"input\":" + deep + "}", kJson);
  CHECK(dispatch.status == 400);
  CHECK(error_of(dispatch)["type"] == "invalid_request");
  auto prompt = client.request("POST", "/agents/echo/deep",
                               "{\"message\":\"x\",\"session\":" + deep + "}", kJson);
  CHECK(prompt.status == 400);
  auto workflow = client.request("POST", "/workflows/greet", deep, kJson);
  CHECK(workflow.status == 400);
  CHECK(error_of(workflow)["type"] == "invalid_request");
  {
    WebSocketClient socket(server.port, "/workflows/greet");
    REQUIRE(socket.next(10s));
    socket.send("{\"version\":1,\"type\":\"invoke\",\"requestId\":\"d\",\"payload\":" + deep + "}");
    auto answer = socket.next(10s);
    REQUIRE(answer);
    CHECK((*answer)["type"] == "error");
    CHECK((*answer)["error"]["type"] == "invalid_request");
  }
  REQUIRE(server.alive());

  // 512 levels (the limit, counting the body's own object) still go through.
  auto ok = client.request("POST", "/agents/echo/deep/dispatch",
                           "{\"input\":" + nested_arrays(511) + "}", kJson);
  CHECK(ok.status == 202);
  CHECK(server.alive());
}

TEST_CASE("NUL and invalid UTF-8 in identifiers are 400 on every backend, before storage") {
  const Backend backend = GENERATE(Backend::sqlite_file, Backend::postgres);
  INFO((backend == Backend::postgres ? "postgres" : "sqlite"));
  Server server(backend);
  HttpClient client("127.0.0.1", server.port);

  // "a\u0000b" must not land in session "a".
  auto nul = client.request("POST", "/agents/echo/x/dispatch",
                            R"({"input":"evil","session":"a\u0000b"})", kJson);
  CHECK(nul.status == 400);
  CHECK(error_of(nul)["type"] == "invalid_request");
  auto history = client.request("GET", "/agents/echo/x/history?session=a");
  CHECK(history.status == 200);
  CHECK(history.json()["entries"].empty());
  CHECK(client.request("POST", "/agents/echo/x%00y/dispatch", R"({"input":"v"})", kJson).status ==
        400);
  CHECK(client
            .request("POST", "/agents/echo/x/dispatch", R"({"input":"v"})",
                     {{"Content-Type", "application/json"}, {"Idempotency-Key", "k\xff"}})
            .status == 400);

  for (const std::string target :
       {"/agents/echo/bad%FF1", "/agents/echo/x/history?session=%FF",
        "/agents/echo/x/submissions/sub_%FF", "/runs/workflow:greet:x/events?types=%FF",
        "/agents/echo/x/submissions?session=a%00b"}) {
    INFO(target);
    const std::string method = target == "/agents/echo/bad%FF1" ? "POST" : "GET";
    auto response =
        client.request(method, target, method == "POST" ? R"({"message":"m"})" : "", kJson);
    CHECK(response.status == 400);
    CHECK(error_of(response)["type"] == "invalid_request");
  }
  CHECK(server.alive());
}

TEST_CASE("a Transfer-Encoding that does not end in chunked is 400 and closes the connection") {
  Server server(Backend::sqlite_file);
  const std::string smuggled = "GET /admin/agents HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string coding : {"identity", "gzip", "chunked, identity", "xchunked"}) {
    INFO(coding);
    RawConnection raw(server.port);
    std::string request =
        "POST /agents/echo/te/dispatch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: " +
        coding + "\r\n";
    if (coding == "xchunked")
      request += "Content-Length: " + std::to_string(smuggled.size()) + "\r\n";
    raw.send(request + "\r\n" + smuggled);
    CHECK(raw.closed_by_peer(10s));
    const std::string& answer = raw.received();
    CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(answer.find("\"items\"") == std::string::npos);  // the smuggled GET got no answer
  }
  CHECK(server.alive());
}

TEST_CASE("a repeated Idempotency-Key or Authorization field is 400") {
  Server server(Backend::sqlite_file, {{"SLUICE_AUTH_TOKEN", "secret-token"}});
  HttpClient client("127.0.0.1", server.port);
  const HeaderList auth = {{"Authorization", "Bearer secret-token"}};
  auto twice = client.request("POST", "/agents/echo/k/dispatch", R"({"input":"v"})",
                              {{"Content-Type", "application/json"},
                               {"Authorization", "Bearer secret-token"},
                               {"Idempotency-Key", "one"},
                               {"Idempotency-Key", "two"}});
  CHECK(twice.status == 400);
  auto two_tokens =
      client.request("GET", "/admin/agents", "",
                     {{"Authorization", "Bearer wrong"}, {"Authorization", "Bearer secret-token"}});
  CHECK(two_tokens.status == 400);
  CHECK(client.request("GET", "/admin/agents", "", auth).status == 200);
}

TEST_CASE(
    "web pages of other origins cannot drive a local server, and only loopback Host names reach "
    "it") {
  Server server(Backend::sqlite_file, {{"SLUICE_ALLOWED_ORIGINS", "https://app.example"}});
  HttpClient client("127.0.0.1", server.port);
  const std::string self = "http://127.0.0.1:" + std::to_string(server.port);

  CHECK_THROWS(
      WebSocketClient(server.port, "/agents/echo/o", {{"Origin", "https://evil.example"}}));
  WebSocketClient from_local(server.port, "/agents/echo/o", {{"Origin", "http://localhost:5173"}});
  CHECK(from_local.next(10s));
  WebSocketClient from_allowed(server.port, "/agents/echo/o", {{"Origin", "https://app.example"}});
  CHECK(from_allowed.next(10s));

  auto evil_post =
      client.request("POST", "/agents/echo/o/dispatch", R"({"input":"v"})",
                     {{"Content-Type", "application/json"}, {"Origin", "https://evil.example"}});
  CHECK(evil_post.status == 403);
  CHECK(error_of(evil_post)["type"] == "forbidden");
  CHECK(client.request("POST", "/workflows/greet", "", {{"Origin", "null"}}).status == 403);
  CHECK(client.request("GET", "/healthz", "", {{"Origin", "https://evil.example"}}).status == 200);
  CHECK(client
            .request("POST", "/agents/echo/o/dispatch", R"({"input":"v"})",
                     {{"Content-Type", "application/json"}, {"Origin", self}})
            .status == 202);

  // DNS rebinding: a name pointed at 127.0.0.1 arrives with its own Host.
  RawConnection rebound(server.port);
  rebound.send("GET /admin/agents HTTP/1.1\r\nHost: attacker.example:" +
               std::to_string(server.port) + "\r\nConnection: close\r\n\r\n");
  CHECK(rebound.closed_by_peer(10s));
  CHECK(rebound.received().rfind("HTTP/1.1 403", 0) == 0);
}

TEST_CASE("a new SQLite database file is readable by its owner only") {
  Server server(Backend::sqlite_file);
  HttpClient client("127.0.0.1", server.port);
  REQUIRE(client.request("POST", "/agents/echo/m/dispatch", R"({"input":"v"})", kJson).status ==
          202);
  for (const char* name : {"sluice.db", "sluice.db-wal", "sluice.db-shm"}) {
    INFO(name);
    struct stat info {};
    REQUIRE(::stat((server.dir / name).c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
  }
}

TEST_CASE("silent connections past the cap make room for new clients, oldest first") {
  Server server(Backend::sqlite_file, {{"SLUICE_MAX_CONNECTIONS", "20"}});
  std::vector<std::unique_ptr<RawConnection>> silent;
  for (int i = 0; i < 40; ++i) silent.push_back(std::make_unique<RawConnection>(server.port));
  HttpClient client("127.0.0.1", server.port);
  const auto started = std::chrono::steady_clock::now();
  CHECK(client.request("GET", "/healthz", "", {}, 5s).status == 200);
  CHECK(std::chrono::steady_clock::now() - started < 3s);  // not after a header timeout
  CHECK(silent.front()->closed_by_peer(5s));               // the oldest went first
}

TEST_CASE("a client that half-closes after its request still gets the answer") {
  Server server(Backend::sqlite_file);
  RawConnection raw(server.port);
  const std::string body = R"({"message":"half"})";
  raw.send(
      "POST /agents/echo/half HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  raw.shutdown_send();
  CHECK(raw.closed_by_peer(20s));
  CHECK(raw.received().rfind("HTTP/1.1 200", 0) == 0);
  CHECK(raw.received().find(R"({"result":"half"})") != std::string::npos);
}
