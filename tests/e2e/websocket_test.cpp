// The WebSocket transport (PROTOCOL.md "WebSocket protocol, version 1") of the
// real `sluice serve` binary, through Beast's WebSocket client: the example
// project's agents, and a temporary project for workflows.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/websocket_client.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

constexpr size_t kBodyLimit = 64 * 1024;

struct Server {
  explicit Server(const std::filesystem::path& project) : port(free_port()) {
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", project.string()};
    options.env = {{"PORT", std::to_string(port)},
                   {"SLUICE_MAX_BODY_BYTES", std::to_string(kBodyLimit)}};
    options.stdout_path = dir / "serve.out";
    options.stderr_path = dir / "serve.err";
    process.emplace(std::move(options));
    REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &*process));
  }

  TempDir dir;
  uint16_t port;
  std::optional<Process> process;
};

std::filesystem::path examples() {
  return std::filesystem::path(SLUICE_SOURCE_DIR) / "examples";
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

json prompt(const std::string& request_id, const std::string& message) {
  return {{"version", 1}, {"type", "prompt"}, {"requestId", request_id}, {"message", message}};
}

json next_frame(WebSocketClient& socket) {
  auto frame = socket.next(30s);
  REQUIRE(frame);
  CHECK((*frame)["version"] == 1);
  return *frame;
}

// Frames until `count` prompts have ended (result or error with a requestId).
std::vector<json> frames_until_ended(WebSocketClient& socket, size_t count) {
  std::vector<json> frames;
  size_t ended = 0;
  while (ended < count) {
    frames.push_back(next_frame(socket));
    const json& frame = frames.back();
    if (frame["type"] == "result" || (frame["type"] == "error" && frame.contains("requestId"))) {
      ++ended;
    }
  }
  return frames;
}

HeaderList upgrade_headers() {
  return {{"Connection", "Upgrade"},
          {"Upgrade", "websocket"},
          {"Sec-WebSocket-Version", "13"},
          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
}

json wait_settled(HttpClient& client, const std::string& path) {
  json record;
  for (int i = 0; i < 1000; ++i) {
    record = client.request("GET", path).json();
    if (record["state"] != "queued" && record["state"] != "running") break;
    std::this_thread::sleep_for(10ms);
  }
  return record;
}

}  // namespace

TEST_CASE("an agent socket greets, answers ping, and runs pipelined prompts in order") {
  Server server(examples());
  WebSocketClient socket(server.port, "/agents/echo/ws-order");
  CHECK(next_frame(socket) ==
        json{{"version", 1}, {"type", "ready"}, {"target", "agent"}, {"name", "echo"},
             {"instanceId", "ws-order"}});

  socket.send(R"({"version":1,"type":"ping","requestId":"p1"})");
  CHECK(next_frame(socket) == json{{"version", 1}, {"type", "pong"}, {"requestId", "p1"}});
  socket.send(R"({"version":1,"type":"ping"})");
  CHECK(next_frame(socket) == json{{"version", 1}, {"type", "pong"}});

  const std::vector<std::string> messages = {"one", "two", "three"};
  for (size_t i = 0; i < messages.size(); ++i) {
    socket.send(prompt("r" + std::to_string(i), messages[i]).dump());
  }
  std::vector<json> frames = frames_until_ended(socket, messages.size());

  std::vector<std::string> started_order, result_order;
  std::vector<int64_t> sequences;
  std::map<std::string, std::vector<json>> events;
  std::map<std::string, std::string> submission_of;
  for (const json& frame : frames) {
    const std::string id = frame["requestId"];
    if (frame["type"] == "started") {
      started_order.push_back(id);
      sequences.push_back(frame["sequence"]);
      submission_of[id] = frame["submissionId"];
    } else if (frame["type"] == "event") {
      CHECK(submission_of.count(id) == 1);  // events come after started
      events[id].push_back(frame["event"]);
    } else {
      REQUIRE(frame["type"] == "result");
      result_order.push_back(id);
      CHECK(frame["result"] == messages[std::stoul(id.substr(1))]);
      CHECK(frame["submissionId"] == submission_of[id]);
    }
  }
  const std::vector<std::string> expected = {"r0", "r1", "r2"};
  CHECK(started_order == expected);
  CHECK(result_order == expected);
  REQUIRE(sequences.size() == 3);
  CHECK(sequences[0] < sequences[1]);
  CHECK(sequences[1] < sequences[2]);
  for (const auto& id : expected) {
    REQUIRE(!events[id].empty());
    for (size_t i = 0; i < events[id].size(); ++i) {
      const json& event = events[id][i];
      CHECK(event["eventIndex"] == i);
      CHECK(event["instanceId"] == "ws-order");
      CHECK(event["session"] == "default");
      CHECK(event["submissionId"] == submission_of[id]);
    }
  }

  // Another session of the same instance, named in the frame.
  json other = prompt("s", "elsewhere");
  other["session"] = "side";
  socket.send(other.dump());
  frames = frames_until_ended(socket, 1);
  CHECK(frames.back()["result"] == "elsewhere");
  for (const json& frame : frames) {
    if (frame["type"] == "event") CHECK(frame["event"]["session"] == "side");
  }

  // The socket's prompts are ordinary submissions of their session.
  HttpClient client("127.0.0.1", server.port);
  auto listed = client.request("GET", "/agents/echo/ws-order/submissions").json()["submissions"];
  REQUIRE(listed.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(listed[i]["submissionId"] == submission_of[expected[i]]);
    CHECK(listed[i]["kind"] == "direct");
    CHECK(listed[i]["state"] == "completed");
  }
  socket.close();
}

TEST_CASE("malformed frames are answered with an error and the socket keeps working") {
  Server server(examples());
  WebSocketClient socket(server.port, "/agents/echo/ws-bad");
  REQUIRE(next_frame(socket)["type"] == "ready");

  auto expect_error = [&](const std::string& sent, const std::string& type,
                          const std::optional<std::string>& request_id) {
    socket.send(sent);
    json frame = next_frame(socket);
    INFO(sent << " -> " << frame.dump());
    CHECK(frame["type"] == "error");
    CHECK(frame["error"]["type"] == type);
    CHECK(frame["error"]["message"].is_string());
    if (request_id) {
      CHECK(frame["requestId"] == *request_id);
    } else {
      CHECK_FALSE(frame.contains("requestId"));
    }
  };
  expect_error("not json", "invalid_json", std::nullopt);
  expect_error("[1,2]", "invalid_request", std::nullopt);
  expect_error(R"({"version":2,"type":"ping","requestId":"v2"})", "invalid_request", "v2");
  expect_error(R"({"type":"ping","requestId":"nov"})", "invalid_request", "nov");
  expect_error(R"({"version":1,"type":"shout","requestId":"u"})", "invalid_request", "u");
  expect_error(R"({"version":1,"type":"prompt","message":"hi"})", "invalid_request",
               std::nullopt);
  expect_error(R"({"version":1,"type":"prompt","requestId":7,"message":"hi"})",
               "invalid_request", std::nullopt);
  expect_error(R"({"version":1,"type":"prompt","requestId":"m"})", "invalid_request", "m");
  expect_error(R"({"version":1,"type":"prompt","requestId":"n","message":5})", "invalid_request",
               "n");
  expect_error(R"({"version":1,"type":"prompt","requestId":"t","message":"hi","session":"task:x"})",
               "invalid_request", "t");
  expect_error(prompt("big", std::string(kBodyLimit, 'x')).dump(), "payload_too_large",
               std::nullopt);
  socket.send_binary("\x01\x02");
  json binary = next_frame(socket);
  CHECK(binary["type"] == "error");
  CHECK(binary["error"]["type"] == "invalid_request");

  socket.send(prompt("ok", "still here").dump());
  auto frames = frames_until_ended(socket, 1);
  CHECK(frames.front()["type"] == "started");
  CHECK(frames.back()["type"] == "result");
  CHECK(frames.back()["result"] == "still here");
}

TEST_CASE("a client that floods the socket is disconnected with a close code") {
  Server server(examples());
  SECTION("malformed frames in a row close with 1008") {
    WebSocketClient socket(server.port, "/agents/echo/ws-flood");
    REQUIRE(next_frame(socket)["type"] == "ready");
    for (int i = 0; i < 15; ++i) socket.send("garbage");
    // A valid frame resets the count.
    socket.send(R"({"version":1,"type":"ping","requestId":"alive"})");
    for (int i = 0; i < 15; ++i) CHECK(next_frame(socket)["type"] == "error");
    CHECK(next_frame(socket)["type"] == "pong");
    for (int i = 0; i < 16; ++i) socket.send("garbage");
    for (int i = 0; i < 16; ++i) CHECK(next_frame(socket)["type"] == "error");
    CHECK_FALSE(socket.next(10s));
    CHECK(socket.close_code() == 1008);
    CHECK(socket.close_reason() == "too many malformed frames");
  }
  SECTION("a message over twice the body limit closes with 1009") {
    WebSocketClient socket(server.port, "/agents/echo/ws-huge");
    REQUIRE(next_frame(socket)["type"] == "ready");
    socket.send(prompt("huge", std::string(2 * kBodyLimit + 1, 'x')).dump());
    CHECK_FALSE(socket.next(10s));
    CHECK(socket.close_code() == 1009);
  }
}

TEST_CASE("a client that leaves mid-prompt does not cancel the prompt") {
  Server server(examples());
  std::string submission;
  {
    WebSocketClient socket(server.port, "/agents/slow-echo/ws-gone");
    REQUIRE(next_frame(socket)["type"] == "ready");
    socket.send(prompt("slow", "finish me").dump());
    json started = next_frame(socket);
    REQUIRE(started["type"] == "started");
    submission = started["submissionId"];
    socket.drop();
  }
  HttpClient client("127.0.0.1", server.port);
  const json record = wait_settled(client, "/agents/slow-echo/ws-gone/submissions/" + submission);
  CHECK(record["state"] == "completed");
  CHECK(record["result"] == "finish me");
  auto listed = client.request("GET", "/agents/slow-echo/ws-gone/submissions").json();
  REQUIRE(listed["submissions"].size() == 1);
  CHECK(listed["submissions"][0]["state"] == "completed");
}

TEST_CASE("sockets to unknown or hidden targets, and plain GETs, answer the error envelope") {
  Server server(examples());
  HttpClient client("127.0.0.1", server.port);
  auto not_exposed = client.request("GET", "/agents/scripted-tools/x", "", upgrade_headers());
  CHECK(not_exposed.status == 404);
  CHECK(not_exposed.json()["error"]["type"] == "agent_not_found");
  auto unknown = client.request("GET", "/agents/nobody/x", "", upgrade_headers());
  CHECK(unknown.status == 404);
  CHECK(unknown.json()["error"]["type"] == "agent_not_found");
  auto workflow = client.request("GET", "/workflows/nothing", "", upgrade_headers());
  CHECK(workflow.status == 404);
  CHECK(workflow.json()["error"]["type"] == "workflow_not_found");

  auto plain = client.request("GET", "/agents/echo/x");
  CHECK(plain.status == 400);
  CHECK(plain.json()["error"]["type"] == "invalid_request");
  CHECK(plain.json()["error"]["message"].get<std::string>().find("WebSocket") !=
        std::string::npos);
  HeaderList old_version = upgrade_headers();
  old_version[2].second = "8";
  auto version = client.request("GET", "/agents/echo/x", "", old_version);
  CHECK(version.status == 400);
  CHECK(version.header("Sec-WebSocket-Version") == "13");
  // The connection stays usable for HTTP after a refused handshake.
  CHECK(client.request("GET", "/agents/echo/x/submissions").status == 200);

  CHECK_THROWS_WITH(WebSocketClient(server.port, "/agents/nobody/x"),
                    Catch::Contains("HTTP 404"));
}

TEST_CASE("a workflow socket runs one invocation, then closes") {
  TempDir project;
  write(project / "agents" / "echo.toml", "model = \"sluice/echo\"\n");
  write(project / "workflows" / "greet.toml",
        "agent = \"echo\"\nprompt = \"Greet {{payload.name}}.\"\nexpose = [\"websocket\"]\n");
  write(project / "workflows" / "hidden.toml",
        "agent = \"echo\"\nprompt = \"Hi.\"\nexpose = [\"http\"]\n");
  Server server(project.path());

  SECTION("started, events, result, close") {
    WebSocketClient socket(server.port, "/workflows/greet");
    CHECK(next_frame(socket) ==
          json{{"version", 1}, {"type", "ready"}, {"target", "workflow"}, {"name", "greet"}});
    socket.send(R"({"version":1,"type":"ping"})");
    CHECK(next_frame(socket)["type"] == "pong");
    socket.send(
        R"({"version":1,"type":"invoke","requestId":"w1","payload":{"name":"Ada"}})");
    json started = next_frame(socket);
    REQUIRE(started["type"] == "started");
    CHECK(started["requestId"] == "w1");
    const std::string run_id = started["runId"];
    CHECK(run_id.rfind("workflow:greet:", 0) == 0);
    socket.send(R"({"version":1,"type":"invoke","requestId":"w2"})");
    std::vector<json> events;
    bool refused_second = false;
    json last;
    while (true) {
      last = next_frame(socket);
      if (last["type"] == "event") {
        events.push_back(last["event"]);
      } else if (last["type"] == "error" && last["requestId"] == "w2") {
        refused_second = true;
      } else {
        break;
      }
    }
    CHECK(refused_second);
    CHECK(last["type"] == "result");
    CHECK(last["requestId"] == "w1");
    CHECK(last["result"] == json{{"text", "Greet Ada."}});
    REQUIRE(!events.empty());
    for (size_t i = 0; i < events.size(); ++i) {
      CHECK(events[i]["eventIndex"] == i);
      CHECK(events[i]["runId"] == run_id);
    }
    CHECK(events.front()["type"] == "run_start");
    CHECK(events.back()["type"] == "run_end");
    CHECK_FALSE(socket.next(10s));
    CHECK(socket.close_code() == 1000);
  }
  SECTION("a payload the workflow refuses answers an error, then closes") {
    WebSocketClient socket(server.port, "/workflows/greet");
    REQUIRE(next_frame(socket)["type"] == "ready");
    socket.send(R"({"version":1,"type":"invoke","requestId":"bad","payload":{}})");
    json error = next_frame(socket);
    CHECK(error["type"] == "error");
    CHECK(error["requestId"] == "bad");
    CHECK(error["error"]["type"] == "validation_failed");
    CHECK_FALSE(socket.next(10s));
    CHECK(socket.close_code() == 1000);
  }
  SECTION("a workflow not exposed on WebSocket is not found") {
    HttpClient client("127.0.0.1", server.port);
    auto hidden = client.request("GET", "/workflows/hidden", "", upgrade_headers());
    CHECK(hidden.status == 404);
    CHECK(hidden.json()["error"]["type"] == "workflow_not_found");
  }
}
