#include "harness/openai_model.hpp"

#include <map>
#include <utility>

#include "core/untrusted_json.hpp"
#include "harness/provider_common.hpp"
#include "harness/provider_turn.hpp"
#include "harness/providers.hpp"

namespace sluice::harness {
namespace {

using json = nlohmann::json;

json messages_of(const TurnRequest& request) {
  json messages = json::array();
  if (!request.instructions.empty()) {
    messages.push_back({{"role", "system"}, {"content", request.instructions}});
  }
  // Tool calls join the assistant message right before them, as the API expects
  // one assistant message carrying both its text and its calls.
  bool assistant_open = false;
  for (const auto& item : request.conversation) {
    if (item.type == "assistant") {
      messages.push_back({{"role", "assistant"}, {"content", item.text}});
      assistant_open = true;
    } else if (item.type == "tool_call") {
      if (!assistant_open) {
        messages.push_back({{"role", "assistant"}, {"content", nullptr}});
        assistant_open = true;
      }
      auto& message = messages.back();
      if (!message.contains("tool_calls")) message["tool_calls"] = json::array();
      message["tool_calls"].push_back(
          {{"id", item.tool_call_id},
           {"type", "function"},
           {"function",
            {{"name", item.tool_name}, {"arguments", item.args_json.empty() ? "{}" : item.args_json}}}});
    } else if (item.type == "tool_result") {
      // The API has no error flag for tool messages: say it in the content.
      const std::string text = tool_result_text(item.result_json);
      messages.push_back({{"role", "tool"},
                          {"tool_call_id", item.tool_call_id},
                          {"content", item.is_error ? "Error: " + text : text}});
      assistant_open = false;
    } else if (item.type == "interruption") {
      messages.push_back({{"role", "user"}, {"content", interruption_note(item.text)}});
      assistant_open = false;
    } else {  // user
      messages.push_back({{"role", "user"}, {"content", item.text}});
      assistant_open = false;
    }
  }
  return messages;
}

struct PartialCall {
  std::string id;
  std::string name;
  std::string arguments;
};

class OpenAiTurn : public ProviderTurn {
 public:
  using ProviderTurn::ProviderTurn;

 protected:
  void on_event(std::string_view, std::string_view data) override {
    if (data == "[DONE]") {
      complete();
      return;
    }
    const auto chunk = parse_untrusted_json(data).value;
    if (!chunk.is_object()) {
      fail("malformed stream chunk: " + std::string(data.substr(0, 200)), false);
      return;
    }
    // OpenAI-compatible servers report failures after the headers this way.
    if (chunk.contains("error")) {
      const auto& error = chunk["error"];
      const std::string message =
          error.is_object() ? error.value("message", error.dump()) : error.dump();
      fail("error in stream: " + message, false);
      return;
    }
    try {
      read_chunk(chunk);
    } catch (const json::exception& error) {
      fail(std::string("malformed stream chunk: ") + error.what(), false);
    }
  }

  void on_stream_end() override {
    // Some compatible servers end without [DONE]; a finish_reason still proves completion.
    if (finish_reason_.empty()) {
      fail("the stream ended before the response was complete", true);
    } else {
      complete();
    }
  }

 private:
  void read_chunk(const json& chunk) {
    if (chunk.contains("usage") && chunk["usage"].is_object()) {
      const auto& usage = chunk["usage"];
      result_.input_tokens = usage.value("prompt_tokens", int64_t{0});
      result_.output_tokens = usage.value("completion_tokens", int64_t{0});
    }
    if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty()) return;
    const auto& choice = chunk["choices"][0];
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
      finish_reason_ = choice["finish_reason"].get<std::string>();
    }
    if (!choice.contains("delta") || !choice["delta"].is_object()) return;
    const auto& delta_json = choice["delta"];
    if (delta_json.contains("content") && delta_json["content"].is_string()) {
      const auto& text = delta_json["content"].get_ref<const std::string&>();
      result_.text += text;
      delta(text);
    }
    if (delta_json.contains("tool_calls") && delta_json["tool_calls"].is_array()) {
      for (const auto& call : delta_json["tool_calls"]) {
        auto& partial = calls_[call.value("index", 0)];
        if (call.contains("id") && call["id"].is_string()) partial.id = call["id"];
        if (call.contains("function") && call["function"].is_object()) {
          const auto& function = call["function"];
          if (function.contains("name") && function["name"].is_string()) {
            partial.name += function["name"].get<std::string>();
          }
          if (function.contains("arguments") && function["arguments"].is_string()) {
            partial.arguments += function["arguments"].get<std::string>();
          }
        }
      }
    }
  }

  void complete() {
    for (auto& [index, call] : calls_) {
      if (call.name.empty()) {
        fail("a streamed tool call has no name", false);
        return;
      }
      result_.tool_calls.push_back(
          {call.id, call.name, call.arguments.empty() ? "{}" : std::move(call.arguments)});
    }
    finish(std::move(result_));
  }

  TurnResult result_;
  std::map<int, PartialCall> calls_;  // by the stream's index, in order
  std::string finish_reason_;
};

class OpenAiModel : public Model {
 public:
  OpenAiModel(const RuntimeContext& runtime, std::string model_id, ProviderOptions options)
      : runtime_(runtime), model_id_(std::move(model_id)), options_(std::move(options)) {}

  std::shared_ptr<TurnHandle> start_turn(TurnRequest request,
                                         std::shared_ptr<TurnObserver> observer) override {
    auto& access = runtime_.providers.openai();
    HttpStreamRequest http;
    http.path = "/chat/completions";
    http.headers = {{"Authorization", "Bearer " + access.api_key},
                    {"Content-Type", "application/json"},
                    {"Accept", "text/event-stream"}};
    http.body = openai_request_body(model_id_, options_, request).dump();
    http.idle_timeout = options_.idle_timeout;
    return start_streamed_turn<OpenAiTurn>(runtime_, access, "openai", std::move(http),
                                           std::move(observer));
  }

 private:
  RuntimeContext runtime_;
  std::string model_id_;
  ProviderOptions options_;
};

}  // namespace

json openai_request_body(const std::string& model_id, const ProviderOptions& options,
                         const TurnRequest& request) {
  json body = {{"model", model_id},
               {"messages", messages_of(request)},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const auto& tool : request.tools) {
      tools.push_back({{"type", "function"},
                       {"function",
                        {{"name", tool.name},
                         {"description", tool.description},
                         {"parameters", tool.parameters.is_null() ? json{{"type", "object"}} : tool.parameters}}}});
    }
    body["tools"] = std::move(tools);
  }
  if (options.max_tokens) body["max_tokens"] = *options.max_tokens;
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.top_p) body["top_p"] = *options.top_p;
  if (!options.stop.empty()) body["stop"] = options.stop;
  return body;
}

std::shared_ptr<Model> make_openai_model(const RuntimeContext& runtime, std::string model_id,
                                         ProviderOptions options) {
  return std::make_shared<OpenAiModel>(runtime, std::move(model_id), std::move(options));
}

}  // namespace sluice::harness
