// The real `sluice serve` binary with openai/* and anthropic/* agents whose
// providers are fakes on loopback (support/fake_provider.hpp), over real HTTP:
// a tool conversation as each provider's wire format carries it, retries of
// transient failures, and a conversation that survives a restart.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <fstream>
#include <map>
#include <sstream>

#include "support/agent_events.hpp"
#include "support/fake_provider.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

const HeaderList kJson = {{"Content-Type", "application/json"}};
const std::string kCommand = "echo hi > f.txt";
const std::string kToolResult = "exit code: 0\n(no output)\n";  // what bash answers for kCommand

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// agents/NAME.toml for a provider model with bash in a local sandbox under dir.
void write_agent(const TempDir& dir, const std::string& name, const std::string& model,
                 const std::string& model_options = "", const std::string& top_level = "") {
  write(dir / "project" / "agents" / (name + ".toml"),
        "model = \"" + model + "\"\ninstructions = \"Use the shell.\"\nexpose = [\"http\"]\n" +
            "tools = [\"bash\"]\nmax_turns = 4\n" + top_level + "[sandbox]\nkind = \"local\"\ncwd = \"" +
            (dir / "sandbox" / "{id}").string() + "\"\n[model_options]\n" + model_options);
}

// `sluice serve` over dir/project with both providers pointed at `fake`.
class Serve {
 public:
  Serve(const TempDir& dir, const FakeServer& fake, std::map<std::string, std::string> env = {},
        const std::string& log = "serve")
      : port_(free_port()) {
    env["PORT"] = std::to_string(port_);
    env["OPENAI_BASE_URL"] = fake.url() + "/v1";
    env["OPENAI_API_KEY"] = "sk-e2e";
    env["ANTHROPIC_BASE_URL"] = fake.url();
    env["ANTHROPIC_API_KEY"] = "ak-e2e";
    env.try_emplace("SLUICE_RETRY_BASE_DELAY_MS", "20");  // fast retries unless a test wants more
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
    options.env = std::move(env);
    options.stderr_path = dir / (log + ".err");
    process_ = std::make_unique<Process>(std::move(options));
    REQUIRE(wait_for_http_ok(port_, "/readyz", 20s, process_.get()));
  }

  uint16_t port() const { return port_; }
  Process& process() { return *process_; }
  std::string log() const { return process_->stderr_text(); }

 private:
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

// --- the providers' wire formats ------------------------------------------------------

std::string openai_chunk(const json& delta, const json& finish = nullptr) {
  return sse("", {{"id", "c"},
                  {"object", "chat.completion.chunk"},
                  {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}});
}

void openai_end(Reply& reply, const char* finish, int input_tokens, int output_tokens) {
  reply.chunk(openai_chunk(json::object(), finish));
  reply.chunk(sse(
      "", {{"choices", json::array()},
           {"usage", {{"prompt_tokens", input_tokens}, {"completion_tokens", output_tokens}}}}));
  reply.chunk("data: [DONE]\n\n");
  reply.end();
}

void openai_text(Reply& reply, const std::string& text) {
  reply.stream_head();
  reply.chunk(openai_chunk({{"role", "assistant"}, {"content", text.substr(0, 3)}}));
  reply.chunk(openai_chunk({{"content", text.substr(3)}}));
  openai_end(reply, "stop", 30, 4);
}

// "Let me write it." and a bash call with its arguments in fragments.
void openai_tool_call(Reply& reply) {
  reply.stream_head();
  reply.chunk(openai_chunk({{"role", "assistant"}, {"content", "Let me "}}));
  reply.chunk(openai_chunk({{"content", "write it."}}));
  reply.chunk(openai_chunk({{"tool_calls",
                             {{{"index", 0},
                               {"id", "call_1"},
                               {"type", "function"},
                               {"function", {{"name", "bash"}, {"arguments", ""}}}}}}}));
  const std::string args = json{{"command", kCommand}}.dump();
  for (const auto& part : {args.substr(0, 5), args.substr(5)}) {
    reply.chunk(
        openai_chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", part}}}}}}}));
  }
  openai_end(reply, "tool_calls", 11, 7);
}

void anthropic_start(Reply& reply, int input_tokens) {
  reply.stream_head();
  reply.chunk(sse("message_start",
                  {{"type", "message_start"},
                   {"message",
                    {{"id", "msg"},
                     {"role", "assistant"},
                     {"content", json::array()},
                     {"usage", {{"input_tokens", input_tokens}, {"output_tokens", 1}}}}}}));
}

void anthropic_text_block(Reply& reply, int index, const std::string& text) {
  reply.chunk(sse("content_block_start", {{"type", "content_block_start"},
                                          {"index", index},
                                          {"content_block", {{"type", "text"}, {"text", ""}}}}));
  for (const auto& part : {text.substr(0, 3), text.substr(3)}) {
    reply.chunk(sse("content_block_delta", {{"type", "content_block_delta"},
                                            {"index", index},
                                            {"delta", {{"type", "text_delta"}, {"text", part}}}}));
  }
  reply.chunk(sse("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}));
}

void anthropic_end(Reply& reply, const char* stop_reason, int output_tokens) {
  reply.chunk(
      sse("message_delta", {{"type", "message_delta"},
                            {"delta", {{"stop_reason", stop_reason}, {"stop_sequence", nullptr}}},
                            {"usage", {{"output_tokens", output_tokens}}}}));
  reply.chunk(sse("message_stop", {{"type", "message_stop"}}));
  reply.end();
}

void anthropic_text(Reply& reply, const std::string& text) {
  anthropic_start(reply, 30);
  anthropic_text_block(reply, 0, text);
  anthropic_end(reply, "end_turn", 4);
}

void anthropic_tool_call(Reply& reply) {
  anthropic_start(reply, 11);
  anthropic_text_block(reply, 0, "Let me write it.");
  reply.chunk(sse(
      "content_block_start",
      {{"type", "content_block_start"},
       {"index", 1},
       {"content_block",
        {{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "bash"}, {"input", json::object()}}}}));
  const std::string args = json{{"command", kCommand}}.dump();
  for (const auto& part : {std::string(), args.substr(0, 5), args.substr(5)}) {
    reply.chunk(sse("content_block_delta",
                    {{"type", "content_block_delta"},
                     {"index", 1},
                     {"delta", {{"type", "input_json_delta"}, {"partial_json", part}}}}));
  }
  reply.chunk(sse("content_block_stop", {{"type", "content_block_stop"}, {"index", 1}}));
  anthropic_end(reply, "tool_use", 7);
}

struct Wire {
  std::string model;
  std::string path;  // where the provider's requests go
  std::string tool_call_id;
  void (*tool_call)(Reply&);
  void (*text)(Reply&, const std::string&);
};

const Wire kOpenAi{"openai/gpt-test", "/v1/chat/completions", "call_1", openai_tool_call,
                   openai_text};
const Wire kAnthropic{"anthropic/claude-test", "/v1/messages", "toolu_1", anthropic_tool_call,
                      anthropic_text};

// --- the conversation ------------------------------------------------------------------

std::vector<json> read_events(SseStream& stream) {
  std::vector<json> events;
  while (auto event = stream.next(20s)) {
    json data = event->json();
    CHECK(data.value("type", "") == event->event);
    events.push_back(std::move(data));
  }
  return events;
}


// One prompt over SSE that makes the model call bash, then answer; then a
// second prompt in the same session. Checks what every provider shares and
// returns the requests the fake received, for the wire-format checks.
std::vector<RecordedRequest> tool_conversation(const Wire& wire) {
  TempDir dir("sluice-provider-e2e");
  write_agent(dir, "coder", wire.model, "temperature = 0.25\n");
  std::atomic<int> calls{0};
  FakeServer fake([&](const RecordedRequest&, Reply& reply) {
    const int n = calls++;
    if (n == 0)
      wire.tool_call(reply);
    else
      wire.text(reply, n == 1 ? "Wrote f.txt." : "Still here.");
  });
  Serve serve(dir, fake);
  HttpClient client("127.0.0.1", serve.port());

  auto stream =
      client.open_sse("POST", "/agents/coder/alice", R"({"message":"make f.txt"})", kJson);
  REQUIRE(stream.status() == 200);
  const std::string submission = stream.header("X-Sluice-Submission-Id");
  CHECK_FALSE(submission.empty());
  const auto events = read_events(stream);
  INFO(json(events).dump(1) << "\n" << serve.log());
  CHECK(milestones(events) == std::vector<std::string>{"agent_start", "turn_start", "text_delta",
                                                       "turn", "tool_start", "tool_call",
                                                       "turn_start", "text_delta", "turn", "operation",
                                                       "idle"});
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i]["eventIndex"] == i);

  // Each model turn's text arrived in pieces, as the fake streamed it.
  const auto starts = of_type(events, "turn_start");
  REQUIRE(starts.size() == 2);
  std::map<std::string, std::string> texts;
  for (const auto& delta : of_type(events, "text_delta")) {
    texts[delta["turnId"].get<std::string>()] += delta["delta"].get<std::string>();
  }
  CHECK(texts[starts[0]["turnId"]] == "Let me write it.");
  CHECK(texts[starts[1]["turnId"]] == "Wrote f.txt.");
  CHECK(of_type(events, "text_delta").size() == 4);
  const auto tool_start = of_type(events, "tool_start");
  REQUIRE(tool_start.size() == 1);
  CHECK(tool_start[0]["toolName"] == "bash");
  CHECK(tool_start[0]["toolCallId"] == wire.tool_call_id);
  CHECK(tool_start[0]["args"] == json{{"command", kCommand}});
  const auto tool_call = of_type(events, "tool_call");
  REQUIRE(tool_call.size() == 1);
  CHECK(tool_call[0]["toolCallId"] == wire.tool_call_id);
  CHECK(tool_call[0]["isError"] == false);
  CHECK(tool_call[0]["result"] == kToolResult);
  const auto turns = of_type(events, "turn");
  REQUIRE(turns.size() == 2);
  CHECK(turns[0]["usage"]["input"] == 11);
  CHECK(turns[0]["usage"]["output"] == 7);
  CHECK(turns[1]["usage"]["input"] == 30);
  CHECK(turns[1]["usage"]["totalTokens"] == 34);
  const auto result = of_type(events, "operation");
  REQUIRE(result.size() == 1);
  CHECK(result[0]["result"] == "Wrote f.txt.");
  CHECK(result[0]["submissionId"] == submission);
  CHECK(of_type(events, "idle").at(0)["submissionId"] == submission);

  // The command ran in the agent instance's sandbox folder.
  CHECK(read(dir / "sandbox" / "alice" / "f.txt") == "hi\n");

  const json history = client.request("GET", "/agents/coder/alice/history").json()["entries"];
  INFO(history.dump(1));
  REQUIRE(history.size() == 5);
  CHECK(history[0]["type"] == "user");
  CHECK(history[0]["text"] == "make f.txt");
  CHECK(history[1]["type"] == "assistant");
  CHECK(history[1]["text"] == "Let me write it.");
  CHECK(history[2]["type"] == "tool_call");
  CHECK(history[2]["toolName"] == "bash");
  CHECK(history[2]["toolCallId"] == wire.tool_call_id);
  CHECK(history[2]["args"] == json{{"command", kCommand}});
  CHECK(history[3]["type"] == "tool_result");
  CHECK(history[3]["toolCallId"] == wire.tool_call_id);
  CHECK(history[3]["result"] == kToolResult);
  CHECK(history[3]["isError"] == false);
  CHECK(history[4]["type"] == "assistant");
  CHECK(history[4]["text"] == "Wrote f.txt.");

  auto again = client.request("POST", "/agents/coder/alice", R"({"message":"and again?"})", kJson);
  INFO(again.body);
  CHECK(again.status == 200);
  CHECK(again.json() == json{{"result", "Still here."}});

  const auto requests = fake.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& request : requests) {
    CHECK(request.method == "POST");
    CHECK(request.target == wire.path);
    const json body = json::parse(request.body);
    CHECK(body["model"] == wire.model.substr(wire.model.find('/') + 1));
    CHECK(body["stream"] == true);
    CHECK(body["temperature"] == 0.25);
    REQUIRE(body["tools"].size() == 1);
  }
  return requests;
}

json messages(const RecordedRequest& request) {
  return json::parse(request.body)["messages"];
}

json first(const json& list, size_t count) {
  return json(std::vector<json>(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(count)));
}

}  // namespace

TEST_CASE("openai agent: a tool conversation over SSE, its history, and the next prompt",
          "[provider-e2e]") {
  const auto requests = tool_conversation(kOpenAi);
  const json tools = json::parse(requests[0].body)["tools"];
  CHECK(tools[0]["type"] == "function");
  CHECK(tools[0]["function"]["name"] == "bash");
  CHECK(tools[0]["function"]["parameters"]["required"] == json{"command"});
  CHECK(json::parse(requests[0].body)["messages"] ==
        json::parse(R"([{"role":"system","content":"Use the shell."},
                        {"role":"user","content":"make f.txt"}])"));

  // The whole conversation so far, the tool's result as a "tool" message.
  const json third = messages(requests[2]);
  INFO(third.dump(1));
  REQUIRE(third.size() == 6);
  CHECK(third[0] == json{{"role", "system"}, {"content", "Use the shell."}});
  CHECK(third[1] == json{{"role", "user"}, {"content", "make f.txt"}});
  CHECK(third[2]["role"] == "assistant");
  CHECK(third[2]["content"] == "Let me write it.");
  REQUIRE(third[2]["tool_calls"].size() == 1);
  const json call = third[2]["tool_calls"][0];
  CHECK(call["id"] == "call_1");
  CHECK(call["type"] == "function");
  CHECK(call["function"]["name"] == "bash");
  CHECK(json::parse(call["function"]["arguments"].get<std::string>()) ==
        json{{"command", kCommand}});
  CHECK(third[3] == json{{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", kToolResult}});
  CHECK(third[4] == json{{"role", "assistant"}, {"content", "Wrote f.txt."}});
  CHECK(third[5] == json{{"role", "user"}, {"content", "and again?"}});
  // The tool round's request was the same conversation up to the tool result.
  CHECK(messages(requests[1]) == first(third, 4));
}

TEST_CASE("anthropic agent: a tool conversation over SSE, its history, and the next prompt",
          "[provider-e2e]") {
  const auto requests = tool_conversation(kAnthropic);
  const json first_body = json::parse(requests[0].body);
  CHECK(first_body["system"] == "Use the shell.");
  CHECK(first_body["tools"][0]["name"] == "bash");
  CHECK(first_body["tools"][0]["input_schema"]["required"] == json{"command"});
  CHECK(requests[0].headers.at("x-api-key") == "ak-e2e");

  const json third = messages(requests[2]);
  INFO(third.dump(1));
  CHECK(json::parse(requests[2].body)["system"] == "Use the shell.");
  CHECK(third == json::parse(R"([
    {"role":"user","content":[{"type":"text","text":"make f.txt"}]},
    {"role":"assistant","content":[{"type":"text","text":"Let me write it."},
      {"type":"tool_use","id":"toolu_1","name":"bash","input":{"command":"echo hi > f.txt"}}]},
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
                               "content":"exit code: 0\n(no output)\n"}]},
    {"role":"assistant","content":[{"type":"text","text":"Wrote f.txt."}]},
    {"role":"user","content":[{"type":"text","text":"and again?"}]}])"));
  CHECK(messages(requests[1]) == first(third, 3));
}

TEST_CASE("a 429 with Retry-After is retried no sooner than the provider asked", "[provider-e2e]") {
  TempDir dir("sluice-provider-e2e");
  write_agent(dir, "chat", "openai/gpt-test");
  std::atomic<int> calls{0};
  FakeServer fake([&](const RecordedRequest&, Reply& reply) {
    if (calls++ == 0) {
      reply.full(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})",
                 {{"Retry-After", "1"}});
    } else {
      openai_text(reply, "after the wait");
    }
  });
  Serve serve(dir, fake);
  HttpClient client("127.0.0.1", serve.port());
  auto response = client.request("POST", "/agents/chat/r", R"({"message":"hi"})", kJson);
  INFO(response.body << "\n" << serve.log());
  CHECK(response.status == 200);
  CHECK(response.json() == json{{"result", "after the wait"}});
  const auto requests = fake.requests();
  REQUIRE(requests.size() == 2);
  // The backoff alone would be about 20-60 ms: the wait is the provider's.
  CHECK(requests[1].received - requests[0].received >= 950ms);
  CHECK(requests[1].body == requests[0].body);
}

TEST_CASE("a provider failing every attempt answers 502 once the retry budget is spent",
          "[provider-e2e]") {
  TempDir dir("sluice-provider-e2e");
  // The agent's own budget wins over the server's.
  write_agent(dir, "chat", "openai/gpt-test", "", "max_attempts = 3\n");
  FakeServer fake([](const RecordedRequest&, Reply& reply) {
    reply.full(500, R"({"error":{"message":"upstream broke","type":"server_error"}})");
  });
  Serve serve(dir, fake, {{"SLUICE_MAX_ATTEMPTS", "6"}});
  HttpClient client("127.0.0.1", serve.port());
  auto response = client.request("POST", "/agents/chat/r", R"({"message":"hi"})", kJson);
  INFO(response.body << "\n" << serve.log());
  CHECK(response.status == 502);
  const json error = response.json()["error"];
  CHECK(error["type"] == "provider_error");
  CHECK(error["meta"]["reason"] == "exhausted_retry_budget");
  CHECK(error["meta"]["submissionId"] == response.header("X-Sluice-Submission-Id"));
  CHECK(error["message"].get<std::string>().find("HTTP 500") != std::string::npos);
  CHECK(fake.requests().size() == 3);

  const json record =
      client
          .request("GET", "/agents/chat/r/submissions/" + response.header("X-Sluice-Submission-Id"))
          .json();
  CHECK(record["state"] == "failed");
  CHECK(record["attempts"] == 3);
  const json history = client.request("GET", "/agents/chat/r/history").json()["entries"];
  REQUIRE(history.size() == 2);
  CHECK(history[0]["type"] == "user");
  CHECK(history[1]["type"] == "interruption");
}

TEST_CASE("a stream that stalls mid-way is retried and then succeeds", "[provider-e2e]") {
  TempDir dir("sluice-provider-e2e");
  write_agent(dir, "chat", "anthropic/claude-test", "idle_timeout_ms = 500\n");
  std::atomic<int> calls{0};
  FakeServer fake([&](const RecordedRequest&, Reply& reply) {
    if (calls++ > 0) {
      anthropic_text(reply, "Recovered.");
      return;
    }
    anthropic_start(reply, 30);
    reply.chunk(sse("content_block_start", {{"type", "content_block_start"},
                                            {"index", 0},
                                            {"content_block", {{"type", "text"}, {"text", ""}}}}));
    reply.chunk(
        sse("content_block_delta", {{"type", "content_block_delta"},
                                    {"index", 0},
                                    {"delta", {{"type", "text_delta"}, {"text", "Thinking"}}}}));
    reply.stall();
  });
  Serve serve(dir, fake);
  HttpClient client("127.0.0.1", serve.port());
  auto stream = client.open_sse("POST", "/agents/chat/s", R"({"message":"hi"})", kJson);
  REQUIRE(stream.status() == 200);
  const auto events = read_events(stream);
  INFO(json(events).dump(1) << "\n" << serve.log());
  const auto starts = of_type(events, "turn_start");
  REQUIRE(starts.size() == 2);
  CHECK(starts[0]["attempt"] == 1);
  CHECK(starts[1]["attempt"] == 2);
  REQUIRE(of_type(events, "operation").size() == 1);
  CHECK(of_type(events, "operation")[0]["result"] == "Recovered.");
  CHECK(events.back()["type"] == "idle");

  const auto requests = fake.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].body == requests[0].body);  // the cut-off text is not part of the conversation
  const json history = client.request("GET", "/agents/chat/s/history").json()["entries"];
  REQUIRE(history.size() == 2);
  CHECK(history[1]["text"] == "Recovered.");
}

TEST_CASE("a conversation on a file database continues after a restart", "[provider-e2e]") {
  TempDir dir("sluice-provider-e2e");
  write_agent(dir, "chat", "openai/gpt-test");
  std::atomic<int> calls{0};
  FakeServer fake([&](const RecordedRequest&, Reply& reply) {
    openai_text(reply, calls++ == 0 ? "Noted: 42." : "It was 42.");
  });
  const std::map<std::string, std::string> env = {{"DATABASE_URL", (dir / "db.sqlite").string()},
                                                  {"SLUICE_NODE_ID", "restart"}};
  {
    Serve first(dir, fake, env, "first");
    HttpClient client("127.0.0.1", first.port());
    auto response = client.request("POST", "/agents/chat/m", R"({"message":"remember 42"})", kJson);
    INFO(response.body << "\n" << first.log());
    REQUIRE(response.status == 200);
    first.process().kill(SIGTERM);
    const auto status = first.process().wait(20s);
    REQUIRE(status);
    CHECK(status->exited_with(0));
  }
  Serve second(dir, fake, env, "second");
  HttpClient client("127.0.0.1", second.port());
  auto response = client.request("POST", "/agents/chat/m", R"({"message":"what number?"})", kJson);
  INFO(response.body << "\n" << second.log());
  CHECK(response.status == 200);
  CHECK(response.json() == json{{"result", "It was 42."}});

  const auto requests = fake.requests();
  REQUIRE(requests.size() == 2);
  CHECK(messages(requests[1]) == json::parse(R"([
    {"role":"system","content":"Use the shell."},
    {"role":"user","content":"remember 42"},
    {"role":"assistant","content":"Noted: 42."},
    {"role":"user","content":"what number?"}])"));
  CHECK(client.request("GET", "/agents/chat/m/history").json()["entries"].size() == 4);
}

TEST_CASE("a context overflow is summarised with the same model and the turn runs again",
          "[provider-e2e]") {
  TempDir dir("sluice-provider-e2e");
  write_agent(dir, "chat", "openai/gpt-test");
  std::atomic<int> calls{0};
  FakeServer fake([&](const RecordedRequest&, Reply& reply) {
    switch (calls++) {
      case 0:
        openai_text(reply, "First answer.");
        break;
      case 1:  // OpenAI's answer to a conversation over the model's context
        reply.full(400, R"({"error":{"message":"This model's maximum context length is 16 tokens.",)"
                        R"("type":"invalid_request_error","param":"messages",)"
                        R"("code":"context_length_exceeded"}})");
        break;
      case 2:
        openai_text(reply, "SUMMARY-X");
        break;
      default:
        openai_text(reply, "Second answer.");
    }
  });
  Serve serve(dir, fake);
  HttpClient client("127.0.0.1", serve.port());
  auto first = client.request("POST", "/agents/chat/o", R"({"message":"first question"})", kJson);
  REQUIRE(first.status == 200);
  auto second = client.request("POST", "/agents/chat/o", R"({"message":"second question"})", kJson);
  INFO(second.body << "\n" << serve.log());
  REQUIRE(second.status == 200);
  CHECK(second.json()["result"] == "Second answer.");

  const auto requests = fake.requests();
  REQUIRE(requests.size() == 4);
  // The summary request: its own instructions and the conversation as one transcript.
  const json summary = messages(requests[2]);
  REQUIRE(summary.size() == 2);
  CHECK(summary[0]["role"] == "system");
  CHECK(summary[0]["content"].get<std::string>().find("Summarise") != std::string::npos);
  const std::string transcript = summary[1]["content"];
  CHECK(transcript.find("[user] first question") != std::string::npos);
  CHECK(transcript.find("[assistant] First answer.") != std::string::npos);
  CHECK(transcript.find("second question") == std::string::npos);
  // The retried turn: the summary in place of the first exchange.
  const json retried = messages(requests[3]);
  REQUIRE(retried.size() == 3);
  CHECK(retried[1]["content"] == "[Summary of the earlier conversation]\nSUMMARY-X");
  CHECK(retried[2]["content"] == "second question");

  const json history = client.request("GET", "/agents/chat/o/history").json()["entries"];
  REQUIRE(history.size() == 5);
  CHECK(history[3]["type"] == "compaction");
  CHECK(history[3]["text"] == "SUMMARY-X");
  CHECK(history[3]["compactedThrough"] == 2);
  CHECK(history[4]["text"] == "Second answer.");
}
