// anthropic/* and openai/* against fake providers (support/fake_provider.hpp):
// real HTTP servers on loopback that speak the real wire formats and whose
// answers each test scripts byte for byte, so streams can be split, stalled,
// cut or refused where a test wants.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "harness/anthropic_model.hpp"
#include "harness/model_runtime.hpp"
#include "harness/openai_model.hpp"
#include "harness/providers.hpp"
#include "support/fake_provider.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;
using sluice::harness::ConversationItem;
using sluice::harness::ModelConfigError;
using sluice::harness::ModelRuntime;
using sluice::harness::ProviderSettings;
using sluice::harness::TurnObserver;
using sluice::harness::TurnRequest;
using sluice::harness::TurnResult;
using sluice::harness::validate_model;
using sluice::test::FakeServer;
using sluice::test::RecordedRequest;
using sluice::test::Reply;
using sluice::test::sse;

namespace {

struct Outcome {
  std::vector<std::string> deltas;
  std::optional<TurnResult> result;
  std::optional<sluice::PublicError> error;
  bool transient = false;
  int calls = 0;
};

class Recorder : public TurnObserver {
 public:
  void on_text_delta(std::string_view delta) override {
    std::lock_guard lock(mutex_);
    outcome_.deltas.emplace_back(delta);
    ++outcome_.calls;
    changed_.notify_all();
  }
  void on_finished(TurnResult result) override {
    std::lock_guard lock(mutex_);
    outcome_.result = std::move(result);
    ++outcome_.calls;
    changed_.notify_all();
  }
  void on_failed(sluice::PublicError error, bool transient) override {
    std::lock_guard lock(mutex_);
    outcome_.error = std::move(error);
    outcome_.transient = transient;
    ++outcome_.calls;
    changed_.notify_all();
  }
  // Waits for the outcome (generous: the machine may be loaded).
  Outcome wait(std::chrono::milliseconds timeout = 30s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return outcome_.result || outcome_.error; });
    return outcome_;
  }
  Outcome now() {
    std::lock_guard lock(mutex_);
    return outcome_;
  }
  bool wait_delta(std::chrono::milliseconds timeout = 30s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return !outcome_.deltas.empty(); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  Outcome outcome_;
};

ProviderSettings settings_for(const std::string& url) {
  ProviderSettings settings;
  settings.openai_api_key = "sk-test";
  settings.openai_base_url = url + "/v1";
  settings.anthropic_api_key = "ak-test";
  settings.anthropic_base_url = url;
  return settings;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& part : parts) all += part;
  return all;
}

// Designated initializers would trip -Wmissing-field-initializers.
ConversationItem item(std::string type, std::string text, std::string tool_name = "",
                      std::string tool_call_id = "", std::string args_json = "",
                      std::string result_json = "", bool is_error = false) {
  ConversationItem made;
  made.type = std::move(type);
  made.text = std::move(text);
  made.tool_name = std::move(tool_name);
  made.tool_call_id = std::move(tool_call_id);
  made.args_json = std::move(args_json);
  made.result_json = std::move(result_json);
  made.is_error = is_error;
  return made;
}

TurnRequest hello() {
  TurnRequest request;
  request.instructions = "Be brief.";
  request.conversation.push_back(item("user", "hello"));
  return request;
}

// A conversation with every item type and a tool.
TurnRequest tool_conversation() {
  TurnRequest request;
  request.instructions = "Use tools.";
  request.conversation = {
      item("user", "weather in Paris and Rome?"),
      item("assistant", "Checking."),
      item("tool_call", "", "weather", "c1", R"({"city":"Paris"})"),
      item("tool_call", "", "weather", "c2", R"({"city":"Rome"})"),
      item("tool_result", "", "weather", "c1", "", R"("sunny")"),
      item("tool_result", "", "weather", "c2", "", R"({"code":500})", true),
      item("interruption", "the server restarted"),
  };
  request.tools.push_back({"weather", "Weather of a city",
                           json{{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}});
  return request;
}

Outcome run_turn(ModelRuntime& runtime, const std::string& model, const json& options,
                 TurnRequest request = hello()) {
  auto recorder = std::make_shared<Recorder>();
  auto handle = runtime.make_model(model, options)->start_turn(std::move(request), recorder);
  return recorder->wait();
}

std::string openai_chunk(const json& delta, const json& finish = nullptr) {
  return sse("", {{"id", "x"}, {"object", "chat.completion.chunk"},
                  {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}});
}

void openai_text_stream(Reply& reply) {
  reply.stream_head();
  reply.chunk(openai_chunk({{"role", "assistant"}, {"content", ""}}));
  reply.chunk(openai_chunk({{"content", "Hel"}}));
  // One event split across two chunks, and two events in one chunk.
  const std::string split = openai_chunk({{"content", "lo "}});
  reply.chunk(split.substr(0, 10));
  reply.chunk(split.substr(10) + openai_chunk({{"content", "there"}}));
  reply.chunk(openai_chunk(json::object(), "stop"));
  reply.chunk(sse("", {{"choices", json::array()}, {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 3}}}}));
  reply.chunk("data: [DONE]\n\n");
  reply.end();
}

}  // namespace

TEST_CASE("openai: streams text and usage, sends the key and the request", "[provider][openai]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) { openai_text_stream(reply); });
  ModelRuntime runtime(settings_for(server.url()));
  const auto outcome =
      run_turn(runtime, "openai/gpt-test", {{"temperature", 0.5}, {"max_tokens", 99}, {"stop", {"END"}}});
  REQUIRE(outcome.result);
  CHECK(outcome.result->text == "Hello there");
  CHECK(joined(outcome.deltas) == "Hello there");
  CHECK(outcome.deltas.size() == 3);
  CHECK(outcome.result->input_tokens == 12);
  CHECK(outcome.result->output_tokens == 3);
  CHECK(outcome.result->tool_calls.empty());

  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].target == "/v1/chat/completions");
  CHECK(requests[0].headers.at("authorization") == "Bearer sk-test");
  CHECK(requests[0].headers.at("content-type") == "application/json");
  const auto body = json::parse(requests[0].body);
  CHECK(body["model"] == "gpt-test");
  CHECK(body["stream"] == true);
  CHECK(body["stream_options"]["include_usage"] == true);
  CHECK(body["temperature"] == 0.5);
  CHECK(body["max_tokens"] == 99);
  CHECK(body["stop"] == json{"END"});
  CHECK(body["messages"] == json::parse(R"([{"role":"system","content":"Be brief."},
                                            {"role":"user","content":"hello"}])"));
  CHECK_FALSE(body.contains("tools"));
}

TEST_CASE("openai: maps tools and a conversation with tool results", "[provider][openai]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) { openai_text_stream(reply); });
  ModelRuntime runtime(settings_for(server.url()));
  REQUIRE(run_turn(runtime, "openai/gpt-test", nullptr, tool_conversation()).result);
  const auto body = json::parse(server.requests().at(0).body);
  CHECK(body["tools"] == json::parse(R"([{"type":"function","function":{"name":"weather",
      "description":"Weather of a city",
      "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])"));
  CHECK(body["messages"] == json::parse(R"([
    {"role":"system","content":"Use tools."},
    {"role":"user","content":"weather in Paris and Rome?"},
    {"role":"assistant","content":"Checking.","tool_calls":[
      {"id":"c1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"c2","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},
    {"role":"tool","tool_call_id":"c1","content":"sunny"},
    {"role":"tool","tool_call_id":"c2","content":"Error: {\"code\":500}"},
    {"role":"user","content":"[Note from the system: the server restarted]"}])"));
}

TEST_CASE("openai: assembles tool calls from argument fragments", "[provider][openai]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) {
    reply.stream_head();
    reply.chunk(openai_chunk({{"content", "Let me check."}}));
    reply.chunk(openai_chunk({{"tool_calls", {{{"index", 0}, {"id", "call_a"}, {"type", "function"},
                                               {"function", {{"name", "weather"}, {"arguments", ""}}}}}}}));
    reply.chunk(openai_chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "{\"ci"}}}}}}}));
    reply.chunk(openai_chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "ty\":\"Paris\"}"}}}}}}}));
    reply.chunk(openai_chunk({{"tool_calls", {{{"index", 1}, {"id", "call_b"},
                                               {"function", {{"name", "time"}, {"arguments", "{}"}}}}}}}));
    reply.chunk(openai_chunk(json::object(), "tool_calls"));
    reply.chunk("data: [DONE]\n\n");
    reply.end();
  });
  ModelRuntime runtime(settings_for(server.url()));
  const auto outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.result);
  CHECK(outcome.result->text == "Let me check.");
  REQUIRE(outcome.result->tool_calls.size() == 2);
  CHECK(outcome.result->tool_calls[0].id == "call_a");
  CHECK(outcome.result->tool_calls[0].name == "weather");
  CHECK(json::parse(outcome.result->tool_calls[0].args_json) == json{{"city", "Paris"}});
  CHECK(outcome.result->tool_calls[1].id == "call_b");
  CHECK(outcome.result->tool_calls[1].name == "time");
  CHECK(outcome.result->tool_calls[1].args_json == "{}");
}

TEST_CASE("openai: 429 is transient and carries Retry-After", "[provider][openai]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) {
    reply.full(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})", {{"Retry-After", "7"}});
  });
  ModelRuntime runtime(settings_for(server.url()));
  const auto outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK(outcome.error->type == "provider_error");
  CHECK(outcome.error->message == "openai: HTTP 429: requests: Rate limit reached");
  CHECK(outcome.error->meta["retryAfterMs"] == 7000);
  CHECK(outcome.error->meta["status"] == 429);
  CHECK(outcome.error->meta["provider"] == "openai");
}

TEST_CASE("openai: 500 is transient, 401 and 400 are not", "[provider][openai]") {
  int status = 500;
  FakeServer server([&status](const RecordedRequest&, Reply& reply) {
    reply.full(status, R"({"error":{"message":"bad thing","type":"t"}})");
  });
  ModelRuntime runtime(settings_for(server.url()));
  auto outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK_FALSE(outcome.error->meta.contains("retryAfterMs"));
  for (const int permanent : {400, 401, 403, 404}) {
    status = permanent;
    outcome = run_turn(runtime, "openai/gpt-test", nullptr);
    REQUIRE(outcome.error);
    CHECK_FALSE(outcome.transient);
    CHECK(outcome.error->message == "openai: HTTP " + std::to_string(permanent) + ": t: bad thing");
  }
  // Every answer had a length and kept the connection: one connection served them all.
  CHECK(server.connections() == 1);
}

TEST_CASE("openai: an error chunk or malformed data mid-stream fails the turn", "[provider][openai]") {
  bool malformed = false;
  FakeServer server([&malformed](const RecordedRequest&, Reply& reply) {
    reply.stream_head();
    reply.chunk(openai_chunk({{"content", "par"}}));
    reply.chunk(malformed ? "data: {not json\n\n" : sse("", {{"error", {{"message", "model crashed"}}}}));
    reply.end();
  });
  ModelRuntime runtime(settings_for(server.url()));
  auto outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.error->message == "openai: error in stream: model crashed");
  CHECK(joined(outcome.deltas) == "par");
  malformed = true;
  outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK_FALSE(outcome.transient);
  CHECK(outcome.error->message.starts_with("openai: malformed stream chunk"));
}

TEST_CASE("openai: a stalled stream times out transiently", "[provider][openai]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) {
    reply.stream_head();
    reply.chunk(openai_chunk({{"content", "thinking"}}));
    reply.stall();
  });
  ModelRuntime runtime(settings_for(server.url()));
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = run_turn(runtime, "openai/gpt-test", {{"idle_timeout_ms", 300}});
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK(outcome.error->message == "openai: the response stalled: no data for 300 ms");
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);
}

TEST_CASE("openai: a cut stream and a refused connection are transient", "[provider][openai]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) {
    reply.stream_head();
    reply.chunk(openai_chunk({{"content", "half"}}));
    reply.closed = true;  // the handler returns: the server closes mid-stream
  });
  ModelRuntime runtime(settings_for(server.url()));
  auto outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);

  unsigned short unused = 0;
  {
    FakeServer gone([](const RecordedRequest&, Reply&) {});
    unused = gone.port();
  }
  ModelRuntime nowhere(settings_for("http://127.0.0.1:" + std::to_string(unused)));
  outcome = run_turn(nowhere, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK(outcome.error->message.starts_with("openai: connection failed: "));
}

TEST_CASE("openai: cancel aborts the request and closes its connection", "[provider][openai]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) {
    reply.stream_head();
    reply.chunk(openai_chunk({{"content", "a"}}));
    reply.stall();  // returns when the client closes the connection
  });
  ModelRuntime runtime(settings_for(server.url()));
  auto recorder = std::make_shared<Recorder>();
  auto handle = runtime.make_model("openai/gpt-test", nullptr)->start_turn(hello(), recorder);
  REQUIRE(recorder->wait_delta());
  handle->cancel();
  // The next turn needs a new connection: the cancelled one is never pooled.
  auto next = std::make_shared<Recorder>();
  runtime.make_model("openai/gpt-test", nullptr)->start_turn(hello(), next);
  REQUIRE(server.wait_requests(2));
  std::this_thread::sleep_for(200ms);
  const auto outcome = recorder->now();
  CHECK_FALSE(outcome.result);
  CHECK_FALSE(outcome.error);
  CHECK(server.connections() == 2);
}

TEST_CASE("openai: requests beyond the concurrency cap wait for a slot", "[provider][openai]") {
  std::atomic<int> served{0};
  FakeServer server([&served](const RecordedRequest&, Reply& reply) {
    std::this_thread::sleep_for(300ms);
    ++served;
    openai_text_stream(reply);
  });
  auto settings = settings_for(server.url());
  settings.max_concurrent_per_provider = 2;
  ModelRuntime runtime(settings);
  auto model = runtime.make_model("openai/gpt-test", nullptr);
  std::vector<std::shared_ptr<Recorder>> recorders;
  std::vector<std::shared_ptr<sluice::harness::TurnHandle>> handles;
  for (int i = 0; i < 4; ++i) {
    recorders.push_back(std::make_shared<Recorder>());
    handles.push_back(model->start_turn(hello(), recorders.back()));
  }
  for (auto& recorder : recorders) CHECK(recorder->wait().result);
  CHECK(served == 4);
  CHECK(server.connections() == 2);  // two at a time, each connection reused
}

TEST_CASE("a provider without a key fails its turns, not the server", "[provider]") {
  ProviderSettings settings;  // no keys
  ModelRuntime runtime(settings);
  CHECK_NOTHROW(validate_model("openai/gpt-test", nullptr));
  auto outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK_FALSE(outcome.transient);
  CHECK(outcome.error->message ==
        "openai: no API key: set OPENAI_API_KEY in the server's environment and restart it");
  outcome = run_turn(runtime, "anthropic/claude-test", nullptr);
  REQUIRE(outcome.error);
  CHECK_FALSE(outcome.transient);
  CHECK(outcome.error->message.find("ANTHROPIC_API_KEY") != std::string::npos);
}

TEST_CASE("provider options are validated by name", "[provider]") {
  CHECK_NOTHROW(validate_model("anthropic/claude-x", {{"max_tokens", 100}, {"temperature", 1},
                                                      {"top_p", 0.9}, {"stop", {"a", "b"}},
                                                      {"idle_timeout_ms", 5000}}));
  CHECK_NOTHROW(validate_model("openai/gpt-x", {{"temperature", 1.7}}));
  CHECK_THROWS_WITH(validate_model("anthropic/claude-x", {{"temperature", 1.5}}),
                    "model_options.temperature: expected a number from 0 to 1, got number 1.5");
  CHECK_THROWS_WITH(validate_model("openai/gpt-x", {{"max_tokens", 0}}),
                    "model_options.max_tokens: expected a whole number of tokens from 1 to 1000000, got number 0");
  CHECK_THROWS_WITH(validate_model("openai/gpt-x", {{"stop", "END"}}),
                    "model_options.stop: expected a list of 1 to 16 non-empty strings, got string \"END\"");
  CHECK_THROWS_WITH(validate_model("openai/gpt-x", {{"top_p", "high"}}),
                    "model_options.top_p: expected a number from 0 to 1, got string \"high\"");
  CHECK_THROWS_WITH(validate_model("openai/gpt-x", {{"delay_ms", 5}}),
                    "model_options.delay_ms: unknown option for openai models; known options: "
                    "max_tokens, temperature, top_p, stop, idle_timeout_ms");
}

namespace {

void anthropic_tool_stream(Reply& reply) {
  reply.stream_head();
  reply.chunk(sse("message_start", {{"type", "message_start"},
                                    {"message", {{"id", "msg_1"}, {"role", "assistant"}, {"content", json::array()},
                                                 {"usage", {{"input_tokens", 25}, {"output_tokens", 1}}}}}}));
  reply.chunk(sse("content_block_start", {{"type", "content_block_start"}, {"index", 0},
                                          {"content_block", {{"type", "text"}, {"text", ""}}}}));
  reply.chunk(sse("ping", {{"type", "ping"}}));
  reply.chunk(sse("content_block_delta", {{"type", "content_block_delta"}, {"index", 0},
                                          {"delta", {{"type", "text_delta"}, {"text", "Let me "}}}}));
  reply.chunk(sse("content_block_delta", {{"type", "content_block_delta"}, {"index", 0},
                                          {"delta", {{"type", "text_delta"}, {"text", "check."}}}}));
  reply.chunk(sse("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
  reply.chunk(sse("content_block_start", {{"type", "content_block_start"}, {"index", 1},
                                          {"content_block", {{"type", "tool_use"}, {"id", "toolu_1"},
                                                             {"name", "weather"}, {"input", json::object()}}}}));
  for (const char* part : {"", "{\"city\": ", "\"Par", "is\"}"}) {
    reply.chunk(sse("content_block_delta", {{"type", "content_block_delta"}, {"index", 1},
                                            {"delta", {{"type", "input_json_delta"}, {"partial_json", part}}}}));
  }
  reply.chunk(sse("content_block_stop", {{"type", "content_block_stop"}, {"index", 1}}));
  reply.chunk(sse("message_delta", {{"type", "message_delta"},
                                    {"delta", {{"stop_reason", "tool_use"}, {"stop_sequence", nullptr}}},
                                    {"usage", {{"output_tokens", 42}}}}));
  reply.chunk(sse("message_stop", {{"type", "message_stop"}}));
  reply.end();
}

}  // namespace

TEST_CASE("anthropic: streams text and a tool call, sends the headers and usage", "[provider][anthropic]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) { anthropic_tool_stream(reply); });
  ModelRuntime runtime(settings_for(server.url()));
  const auto outcome = run_turn(runtime, "anthropic/claude-test", nullptr);
  REQUIRE(outcome.result);
  CHECK(outcome.result->text == "Let me check.");
  CHECK(outcome.deltas == std::vector<std::string>{"Let me ", "check."});
  REQUIRE(outcome.result->tool_calls.size() == 1);
  CHECK(outcome.result->tool_calls[0].id == "toolu_1");
  CHECK(outcome.result->tool_calls[0].name == "weather");
  CHECK(json::parse(outcome.result->tool_calls[0].args_json) == json{{"city", "Paris"}});
  CHECK(outcome.result->input_tokens == 25);
  CHECK(outcome.result->output_tokens == 42);

  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].target == "/v1/messages");
  CHECK(requests[0].headers.at("x-api-key") == "ak-test");
  CHECK(requests[0].headers.at("anthropic-version") == "2023-06-01");
  CHECK(requests[0].headers.count("authorization") == 0);
  const auto body = json::parse(requests[0].body);
  CHECK(body["model"] == "claude-test");
  CHECK(body["max_tokens"] == 4096);
  CHECK(body["stream"] == true);
  CHECK(body["system"] == "Be brief.");
  CHECK(body["messages"] == json::parse(R"([{"role":"user","content":[{"type":"text","text":"hello"}]}])"));
}

TEST_CASE("anthropic: maps tools and merges the conversation into alternating turns",
          "[provider][anthropic]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) { anthropic_tool_stream(reply); });
  ModelRuntime runtime(settings_for(server.url()));
  REQUIRE(run_turn(runtime, "anthropic/claude-test", {{"max_tokens", 50}, {"stop", {"END"}}},
                   tool_conversation())
              .result);
  const auto body = json::parse(server.requests().at(0).body);
  CHECK(body["max_tokens"] == 50);
  CHECK(body["stop_sequences"] == json{"END"});
  CHECK(body["tools"] == json::parse(R"([{"name":"weather","description":"Weather of a city",
      "input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}])"));
  CHECK(body["messages"] == json::parse(R"([
    {"role":"user","content":[{"type":"text","text":"weather in Paris and Rome?"}]},
    {"role":"assistant","content":[{"type":"text","text":"Checking."},
      {"type":"tool_use","id":"c1","name":"weather","input":{"city":"Paris"}},
      {"type":"tool_use","id":"c2","name":"weather","input":{"city":"Rome"}}]},
    {"role":"user","content":[
      {"type":"tool_result","tool_use_id":"c1","content":"sunny"},
      {"type":"tool_result","tool_use_id":"c2","content":"{\"code\":500}","is_error":true},
      {"type":"text","text":"[Note from the system: the server restarted]"}]}])"));
}

TEST_CASE("anthropic: error events, 529 and malformed events", "[provider][anthropic]") {
  std::string mode;
  FakeServer server([&mode](const RecordedRequest&, Reply& reply) {
    if (mode == "529") {
      reply.full(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                 {{"retry-after", "2"}});
      return;
    }
    reply.stream_head();
    reply.chunk(sse("message_start", {{"type", "message_start"}, {"message", {{"usage", {{"input_tokens", 1}}}}}}));
    if (mode == "overloaded") {
      reply.chunk(sse("error", {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}));
    } else if (mode == "invalid") {
      reply.chunk(sse("error", {{"type", "error"}, {"error", {{"type", "invalid_request_error"}, {"message", "nope"}}}}));
    } else {
      reply.chunk("event: content_block_start\ndata: {\"index\":0}\n\n");
    }
    reply.end();
  });
  ModelRuntime runtime(settings_for(server.url()));
  mode = "529";
  auto outcome = run_turn(runtime, "anthropic/claude-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK(outcome.error->message == "anthropic: HTTP 529: overloaded_error: Overloaded");
  CHECK(outcome.error->meta["retryAfterMs"] == 2000);
  mode = "overloaded";
  outcome = run_turn(runtime, "anthropic/claude-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK(outcome.error->message == "anthropic: overloaded_error: Overloaded");
  mode = "invalid";
  outcome = run_turn(runtime, "anthropic/claude-test", nullptr);
  REQUIRE(outcome.error);
  CHECK_FALSE(outcome.transient);
  CHECK(outcome.error->message == "anthropic: invalid_request_error: nope");
  mode = "malformed";
  outcome = run_turn(runtime, "anthropic/claude-test", nullptr);
  REQUIRE(outcome.error);
  CHECK_FALSE(outcome.transient);
  CHECK(outcome.error->message.starts_with("anthropic: malformed stream event content_block_start"));
}

TEST_CASE("anthropic: a stream without message_stop is transient", "[provider][anthropic]") {
  FakeServer server([](const RecordedRequest&, Reply& reply) {
    reply.stream_head();
    reply.chunk(sse("message_start", {{"type", "message_start"}, {"message", {{"usage", {{"input_tokens", 1}}}}}}));
    reply.end();
  });
  ModelRuntime runtime(settings_for(server.url()));
  const auto outcome = run_turn(runtime, "anthropic/claude-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK(outcome.error->message == "anthropic: the stream ended before message_stop");
}

TEST_CASE("https goes through HTTPS_PROXY with a CONNECT tunnel", "[provider][proxy]") {
  // The fake proxy refuses: enough to see the CONNECT the client sent and the
  // failure it reports; the tunnelled TLS itself is the system's OpenSSL.
  FakeServer proxy([](const RecordedRequest&, Reply& reply) { reply.full(403, "{}"); });
  ProviderSettings settings;
  settings.openai_api_key = "sk-test";
  settings.openai_base_url = "https://api.example.test/v1";
  settings.https_proxy = proxy.url();
  ModelRuntime runtime(settings);
  const auto outcome = run_turn(runtime, "openai/gpt-test", nullptr);
  REQUIRE(outcome.error);
  CHECK(outcome.transient);
  CHECK(outcome.error->message ==
        "openai: connection failed: the HTTPS proxy refused to tunnel to api.example.test:443: status 403");
  const auto requests = proxy.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].method == "CONNECT");
  CHECK(requests[0].target == "api.example.test:443");
}

TEST_CASE("SLUICE_PROVIDER_CONCURRENCY sets the per-provider cap, and a bad value is refused",
          "[provider]") {
  ::setenv("SLUICE_PROVIDER_CONCURRENCY", "128", 1);
  CHECK(ProviderSettings::from_environment().max_concurrent_per_provider == 128);
  ::setenv("SLUICE_PROVIDER_CONCURRENCY", "0", 1);
  CHECK_THROWS_WITH(ProviderSettings::from_environment(),
                    "SLUICE_PROVIDER_CONCURRENCY='0': expected a whole number from 1 to 4096");
  ::setenv("SLUICE_PROVIDER_CONCURRENCY", "12x", 1);
  CHECK_THROWS(ProviderSettings::from_environment());
  ::unsetenv("SLUICE_PROVIDER_CONCURRENCY");
  CHECK(ProviderSettings::from_environment().max_concurrent_per_provider == 64);
}
