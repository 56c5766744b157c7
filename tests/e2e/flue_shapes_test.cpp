// The real `sluice serve` binary answers in the shapes Flue's 0.10 client
// accepts (support/flue_shapes.hpp): the SSE frame set of a prompt, its
// closing frames when it completes and when it fails, every message of both
// WebSocket kinds, the admin lists, run records, summaries and events.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <thread>

#include "support/flue_shapes.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/websocket_client.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// echo and a tool-using scripted agent, an agent whose every turn fails (an
// OpenAI model without a key), and a workflow over each of echo and the
// failing agent.
struct Server {
  Server() : port(free_port()) {
    write(dir / "project/agents/echo.toml",
          "model = \"sluice/echo\"\nexpose = [\"http\", \"websocket\"]\n");
    write(dir / "project/agents/tools.toml",
          "model = \"sluice/scripted\"\nexpose = [\"http\"]\ntools = [\"bash\"]\n"
          "[sandbox]\nkind = \"local\"\ncwd = \"" +
              (dir / "work").string() +
              "\"\n"
              "[model_options]\nloop = true\n"
              "[[model_options.turns]]\ntext = \"Looking.\"\n"
              "tool_calls = [{ name = \"bash\", args = { command = \"echo found\" } }]\n"
              "[[model_options.turns]]\ntext = \"I saw {last_tool_result}\"\n");
    write(dir / "project/agents/broken.toml",
          "model = \"openai/gpt-test\"\nexpose = [\"http\", \"websocket\"]\nmax_attempts = 1\n");
    write(dir / "project/agents/hidden.toml", "model = \"sluice/echo\"\n");
    write(dir / "project/workflows/greet.toml",
          "agent = \"echo\"\nprompt = \"Hello {{payload.name}}\"\n"
          "expose = [\"http\", \"websocket\"]\n");
    write(dir / "project/workflows/fails.toml",
          "agent = \"broken\"\nprompt = \"Hello\"\nexpose = [\"http\", \"websocket\"]\n");
    std::filesystem::create_directories(dir / "work");
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
    options.env = {{"PORT", std::to_string(port)}, {"OPENAI_BASE_URL", "http://127.0.0.1:9/v1"}};
    options.stdout_path = dir / "serve.out";
    options.stderr_path = dir / "serve.err";
    process.emplace(std::move(options));
    REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &*process));
  }

  TempDir dir;
  uint16_t port;
  std::optional<Process> process;
};

void require_no_problems(const flue::Problems& problems, const json& value) {
  INFO("value: " << value.dump());
  for (const auto& problem : problems) INFO(problem);
  CHECK(problems.empty());
}

// Every frame of one prompt's SSE answer.
std::vector<SseEvent> prompt_frames(HttpClient& client, const std::string& agent,
                                    const std::string& id, const std::string& message) {
  SseStream stream =
      client.open_sse("POST", "/agents/" + agent + "/" + id, json{{"message", message}}.dump(),
                      {{"Content-Type", "application/json"}});
  REQUIRE(stream.status() == 200);
  std::vector<SseEvent> frames;
  while (auto frame = stream.next(30s)) frames.push_back(*frame);
  CHECK(stream.complete());
  return frames;
}

// The frames before the last as agent events: named by their type, numbered
// by their eventIndex from 0, each of a Flue shape.
std::vector<json> check_event_frames(const std::vector<SseEvent>& frames,
                                     const std::string& instance_id) {
  std::vector<json> events;
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    const json data = frames[i].json();
    require_no_problems(flue::agent_event(data, instance_id), data);
    CHECK(frames[i].event == data.value("type", ""));
    CHECK(frames[i].id == std::to_string(i));
    CHECK(data["eventIndex"] == i);
    events.push_back(data);
  }
  return events;
}

std::vector<std::string> types_of(const std::vector<json>& events) {
  std::vector<std::string> types;
  for (const auto& event : events) types.push_back(event["type"]);
  return types;
}

json wait_run_ended(HttpClient& client, const std::string& run_id) {
  json run;
  for (int i = 0; i < 500; ++i) {
    run = client.request("GET", "/runs/" + run_id).json();
    if (run["status"] != "active") break;
    std::this_thread::sleep_for(20ms);
  }
  return run;
}

}  // namespace

TEST_CASE("a completed SSE prompt is Flue's frame set: events, operation with the result, idle") {
  Server server;
  HttpClient client("127.0.0.1", server.port);
  const auto frames = prompt_frames(client, "echo", "sse-ok", "hello");
  REQUIRE(frames.size() >= 3);
  const std::vector<json> events = check_event_frames(frames, "sse-ok");
  CHECK(types_of(events) == std::vector<std::string>{"operation_start", "agent_start", "turn_start",
                                                     "message_start", "text_delta", "message_end",
                                                     "turn", "agent_end", "operation"});
  const json& operation = events.back();
  CHECK(operation["operationKind"] == "prompt");
  CHECK(operation["result"] == "hello");
  CHECK(operation["isError"] == false);
  CHECK(events[4]["text"] == "hello");
  CHECK(events[7]["messages"] ==
        json::array({{{"role", "user"}, {"content", "hello"}},
                     {{"role", "assistant"},
                      {"content", json::array({{{"type", "text"}, {"text", "hello"}}})}}}));
  // The last frame is idle, an agent event like the others.
  const SseEvent& last = frames.back();
  CHECK(last.event == "idle");
  const json idle = last.json();
  require_no_problems(flue::agent_event(idle, "sse-ok"), idle);
  CHECK(idle["type"] == "idle");
  CHECK(last.id == std::to_string(frames.size() - 1));
  for (const auto& frame : frames) CHECK(frame.event != "result");
}

TEST_CASE("a tool conversation's SSE events have Flue's shapes") {
  Server server;
  HttpClient client("127.0.0.1", server.port);
  const auto frames = prompt_frames(client, "tools", "sse-tools", "look");
  REQUIRE(frames.back().event == "idle");
  const std::vector<json> events = check_event_frames(frames, "sse-tools");
  std::vector<json> tool_calls, turns;
  for (const auto& event : events) {
    if (event["type"] == "tool_call") tool_calls.push_back(event);
    if (event["type"] == "turn") turns.push_back(event);
  }
  REQUIRE(tool_calls.size() == 1);
  CHECK(tool_calls[0]["toolName"] == "bash");
  REQUIRE(turns.size() == 2);
  CHECK(turns[0]["stopReason"] == "toolUse");
  CHECK(turns[0]["output"]["content"][1]["type"] == "toolCall");
  CHECK(turns[0]["output"]["content"][1]["arguments"] == json{{"command", "echo found"}});
  const json agent_end = events[events.size() - 2];
  REQUIRE(agent_end["type"] == "agent_end");
  CHECK(agent_end["messages"].size() == 4);  // user, assistant with a call, tool result, assistant
  CHECK(agent_end["messages"][2]["role"] == "toolResult");
  CHECK(agent_end["messages"][2]["toolName"] == "bash");
}

TEST_CASE("a failed SSE prompt ends with one error frame Flue's client reads, and no idle") {
  Server server;
  HttpClient client("127.0.0.1", server.port);
  const auto frames = prompt_frames(client, "broken", "sse-fail", "hello");
  REQUIRE(frames.size() >= 2);
  const std::vector<json> events = check_event_frames(frames, "sse-fail");
  REQUIRE(!events.empty());
  CHECK(events.back()["type"] == "operation");
  CHECK(events.back()["isError"] == true);
  const SseEvent& last = frames.back();
  CHECK(last.event == "error");
  const json data = last.json();
  require_no_problems(flue::agent_stream_error(data, "sse-fail"), data);
  CHECK(data["error"]["meta"].contains("submissionId"));
  for (const auto& frame : frames) CHECK(frame.event != "idle");
}

TEST_CASE("every agent socket message has Flue's shape and none names a run") {
  Server server;
  WebSocketClient socket(server.port, "/agents/echo/ws-shape");
  std::vector<json> messages;
  auto next = [&] {
    auto message = socket.next(30s);
    REQUIRE(message);
    require_no_problems(flue::agent_socket_message(*message, "echo", "ws-shape"), *message);
    messages.push_back(*message);
    return *message;
  };
  CHECK(next() == json{{"version", 1},
                       {"type", "ready"},
                       {"target", "agent"},
                       {"name", "echo"},
                       {"instanceId", "ws-shape"}});
  socket.send(R"({"version":1,"type":"ping","requestId":"p"})");
  CHECK(next() == json{{"version", 1}, {"type", "pong"}, {"requestId", "p"}});
  socket.send(R"({"version":1,"type":"prompt","requestId":"r1","message":"hi"})");
  json message;
  do message = next();
  while (message["type"] == "started" || message["type"] == "event");
  CHECK(message["type"] == "result");
  CHECK(message["result"] == "hi");
  socket.send(R"({"version":1,"type":"prompt","requestId":"r2"})");  // no message: an error
  CHECK(next()["type"] == "error");
  socket.close();

  WebSocketClient failing(server.port, "/agents/broken/ws-fail");
  REQUIRE(failing.next(30s));
  failing.send(R"({"version":1,"type":"prompt","requestId":"f","message":"hi"})");
  std::optional<json> last;
  while ((last = failing.next(30s)) && (*last)["type"] != "error") {
    require_no_problems(flue::agent_socket_message(*last, "broken", "ws-fail"), *last);
  }
  REQUIRE(last);
  require_no_problems(flue::agent_socket_message(*last, "broken", "ws-fail"), *last);
  CHECK((*last)["requestId"] == "f");
}

TEST_CASE("every workflow socket message has Flue's shape, with the runId at the top level") {
  Server server;
  WebSocketClient socket(server.port, "/workflows/greet");
  std::vector<json> messages;
  while (auto message = socket.next(30s)) {
    require_no_problems(flue::workflow_socket_message(*message, "greet"), *message);
    messages.push_back(*message);
    if (messages.size() == 1) {
      CHECK(*message ==
            json{{"version", 1}, {"type", "ready"}, {"target", "workflow"}, {"name", "greet"}});
      socket.send(R"({"version":1,"type":"invoke","requestId":"w1","payload":{"name":"Ada"}})");
    }
  }
  REQUIRE(messages.size() >= 4);
  CHECK(messages[1]["type"] == "started");
  const std::string run_id = messages[1]["runId"];
  for (size_t i = 1; i < messages.size(); ++i) CHECK(messages[i]["runId"] == run_id);
  CHECK(messages[2]["event"]["type"] == "run_start");
  CHECK(messages.back()["type"] == "result");
  CHECK(messages.back()["result"] == json{{"text", "Hello Ada"}});

  WebSocketClient failing(server.port, "/workflows/fails");
  REQUIRE(failing.next(30s));
  failing.send(R"({"version":1,"type":"invoke","requestId":"w2"})");
  std::optional<json> started, last;
  while (auto message = failing.next(30s)) {
    require_no_problems(flue::workflow_socket_message(*message, "fails"), *message);
    if ((*message)["type"] == "started") started = *message;
    last = *message;
  }
  REQUIRE(started);
  REQUIRE(last);
  CHECK((*last)["type"] == "error");
  CHECK((*last)["runId"] == (*started)["runId"]);
}

TEST_CASE("admin lists, run records, summaries and events have Flue's shapes") {
  Server server;
  HttpClient client("127.0.0.1", server.port);

  const json agents = client.request("GET", "/admin/agents").json();
  require_no_problems(flue::agent_list(agents), agents);
  std::map<std::string, json> transports;
  for (const auto& item : agents["items"]) transports[item["name"]] = item["transports"];
  CHECK(transports["echo"] == json{{"http", true}, {"websocket", true}});
  CHECK(transports["tools"] == json{{"http", true}});
  CHECK(transports["hidden"] == json::object());
  for (const auto& item : agents["items"]) {
    CHECK(item["created"] == true);
    CHECK(item["source"] == "agents/" + item["name"].get<std::string>() + ".toml");
  }

  const json ok = client
                      .request("POST", "/workflows/greet?wait=result", R"({"name":"Ada"})",
                               {{"Content-Type", "application/json"}})
                      .json();
  const std::string ok_id = ok["_meta"]["runId"];
  const json accepted =
      client.request("POST", "/workflows/fails", "{}", {{"Content-Type", "application/json"}})
          .json();
  CHECK(accepted == json{{"status", "accepted"}, {"runId", accepted["runId"]}});
  const std::string failed_id = accepted["runId"];

  const json ok_run = wait_run_ended(client, ok_id);
  require_no_problems(flue::run_record(ok_run), ok_run);
  CHECK(ok_run["owner"] ==
        json{{"kind", "workflow"}, {"workflowName", "greet"}, {"instanceId", ok_id}});
  CHECK(ok_run["status"] == "completed");
  const json failed_run = wait_run_ended(client, failed_id);
  require_no_problems(flue::run_record(failed_run), failed_run);
  CHECK(failed_run["status"] == "errored");
  CHECK(client.request("GET", "/admin/runs/" + ok_id).json() == ok_run);

  const json list = client.request("GET", "/admin/runs?limit=1").json();
  require_no_problems(flue::run_list(list), list);
  CHECK(list["items"].size() == 1);
  CHECK(list["nextCursor"].is_string());
  const json all = client.request("GET", "/admin/runs?limit=1000").json();
  require_no_problems(flue::run_list(all), all);
  CHECK(all["items"].size() == 2);
  CHECK_FALSE(all.contains("nextCursor"));

  for (const std::string& run_id : {ok_id, failed_id}) {
    const json events = client.request("GET", "/runs/" + run_id + "/events").json();
    REQUIRE(events["events"].size() >= 2);
    for (const auto& event : events["events"]) {
      require_no_problems(flue::run_event(event, true), event);
    }
    CHECK(events["events"][0]["type"] == "run_start");
    CHECK(events["events"].back()["type"] == "run_end");
  }
}
