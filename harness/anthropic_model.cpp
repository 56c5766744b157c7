#include "harness/anthropic_model.hpp"

#include <map>
#include <utility>

#include "core/untrusted_json.hpp"
#include "harness/provider_common.hpp"
#include "harness/provider_turn.hpp"
#include "harness/providers.hpp"

namespace sluice::harness {
namespace {

using json = nlohmann::json;

// The API wants strictly alternating user/assistant messages: consecutive items
// of the same side become blocks of one message.
class MessageBuilder {
 public:
  void add(const std::string& role, json block) {
    if (messages_.empty() || messages_.back()["role"] != role) {
      messages_.push_back({{"role", role}, {"content", json::array()}});
    }
    auto& content = messages_.back()["content"];
    // tool_result blocks must open their user message, before any text.
    if (block["type"] == "tool_result") {
      auto position = content.begin();
      while (position != content.end() && (*position)["type"] == "tool_result") ++position;
      content.insert(position, std::move(block));
    } else {
      content.push_back(std::move(block));
    }
  }
  json take() { return std::move(messages_); }

 private:
  json messages_ = json::array();
};

json text_block(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

json messages_of(const TurnRequest& request) {
  MessageBuilder builder;
  for (const auto& item : request.conversation) {
    if (item.type == "assistant") {
      // Empty text blocks are rejected by the API.
      if (!item.text.empty()) builder.add("assistant", text_block(item.text));
    } else if (item.type == "tool_call") {
      auto input = parse_untrusted_json(item.args_json.empty() ? "{}" : item.args_json).value;
      if (!input.is_object()) input = json::object();  // the API only takes objects
      builder.add("assistant", {{"type", "tool_use"},
                                {"id", item.tool_call_id},
                                {"name", item.tool_name},
                                {"input", std::move(input)}});
    } else if (item.type == "tool_result") {
      json block = {{"type", "tool_result"},
                    {"tool_use_id", item.tool_call_id},
                    {"content", tool_result_text(item.result_json)}};
      if (item.is_error) block["is_error"] = true;
      builder.add("user", std::move(block));
    } else if (item.type == "interruption") {
      builder.add("user", text_block(interruption_note(item.text)));
    } else if (!item.text.empty()) {  // user
      builder.add("user", text_block(item.text));
    }
  }
  return builder.take();
}

// Error events the API sends mid-stream that a later attempt may not meet.
bool transient_error_type(const std::string& type) {
  return type == "overloaded_error" || type == "api_error" || type == "rate_limit_error" ||
         type == "timeout_error";
}

struct Block {
  std::string type;  // text, tool_use, thinking...
  std::string id;
  std::string name;
  std::string input_json;
};

class AnthropicTurn : public ProviderTurn {
 public:
  using ProviderTurn::ProviderTurn;

 protected:
  void on_event(std::string_view event, std::string_view data) override {
    if (event == "ping") return;
    const auto payload = parse_untrusted_json(data).value;
    if (!payload.is_object()) {
      fail("malformed stream event " + std::string(event) + ": " + std::string(data.substr(0, 200)), false);
      return;
    }
    try {
      read_event(event, payload);
    } catch (const json::exception& error) {
      fail("malformed stream event " + std::string(event) + ": " + error.what(), false);
    }
  }

  void on_stream_end() override { fail("the stream ended before message_stop", true); }

 private:
  void read_event(std::string_view event, const json& payload) {
    if (event == "message_start") {
      const auto& usage = payload.at("message").value("usage", json::object());
      result_.input_tokens = usage.value("input_tokens", int64_t{0}) +
                             usage.value("cache_creation_input_tokens", int64_t{0}) +
                             usage.value("cache_read_input_tokens", int64_t{0});
      result_.output_tokens = usage.value("output_tokens", int64_t{0});
    } else if (event == "content_block_start") {
      const auto& block = payload.at("content_block");
      auto& entry = blocks_[payload.at("index").get<int>()];
      entry.type = block.at("type").get<std::string>();
      entry.id = block.value("id", "");
      entry.name = block.value("name", "");
      if (entry.type == "text") add_text(block.value("text", ""));
    } else if (event == "content_block_delta") {
      const auto& delta_json = payload.at("delta");
      const std::string type = delta_json.at("type").get<std::string>();
      auto& entry = blocks_[payload.at("index").get<int>()];
      if (type == "text_delta") {
        add_text(delta_json.at("text").get<std::string>());
      } else if (type == "input_json_delta") {
        entry.input_json += delta_json.at("partial_json").get<std::string>();
      }
      // thinking and signature deltas are not part of the answer.
    } else if (event == "content_block_stop") {
      const auto found = blocks_.find(payload.at("index").get<int>());
      if (found != blocks_.end() && found->second.type == "tool_use") {
        auto& block = found->second;
        result_.tool_calls.push_back(
            {block.id, block.name, block.input_json.empty() ? "{}" : block.input_json});
      }
    } else if (event == "message_delta") {
      if (payload.contains("usage") && payload["usage"].is_object()) {
        // Cumulative: the last message_delta holds the turn's output tokens.
        result_.output_tokens = payload["usage"].value("output_tokens", result_.output_tokens);
      }
    } else if (event == "message_stop") {
      finish(std::move(result_));
    } else if (event == "error") {
      const auto& error = payload.value("error", json::object());
      const std::string type = error.value("type", "error");
      fail(type + ": " + error.value("message", "no details"), transient_error_type(type));
    }
    // Unknown events are skipped: the API versioning policy allows new ones.
  }

  void add_text(const std::string& text) {
    result_.text += text;
    delta(text);
  }

  TurnResult result_;
  std::map<int, Block> blocks_;
};

class AnthropicModel : public Model {
 public:
  AnthropicModel(const RuntimeContext& runtime, std::string model_id, ProviderOptions options)
      : runtime_(runtime), model_id_(std::move(model_id)), options_(std::move(options)) {}

  std::shared_ptr<TurnHandle> start_turn(TurnRequest request,
                                         std::shared_ptr<TurnObserver> observer) override {
    auto& access = runtime_.providers.anthropic();
    HttpStreamRequest http;
    http.path = "/v1/messages";
    http.headers = {{"x-api-key", access.api_key},
                    {"anthropic-version", "2023-06-01"},
                    {"Content-Type", "application/json"},
                    {"Accept", "text/event-stream"}};
    http.body = anthropic_request_body(model_id_, options_, request).dump();
    http.idle_timeout = options_.idle_timeout;
    return start_streamed_turn<AnthropicTurn>(runtime_, access, "anthropic", std::move(http),
                                              std::move(observer));
  }

 private:
  RuntimeContext runtime_;
  std::string model_id_;
  ProviderOptions options_;
};

}  // namespace

json anthropic_request_body(const std::string& model_id, const ProviderOptions& options,
                            const TurnRequest& request) {
  json body = {{"model", model_id},
               {"max_tokens", options.max_tokens.value_or(kAnthropicDefaultMaxTokens)},
               {"messages", messages_of(request)},
               {"stream", true}};
  if (!request.instructions.empty()) body["system"] = request.instructions;
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const auto& tool : request.tools) {
      tools.push_back({{"name", tool.name},
                       {"description", tool.description},
                       {"input_schema", tool.parameters.is_null() ? json{{"type", "object"}} : tool.parameters}});
    }
    body["tools"] = std::move(tools);
  }
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.top_p) body["top_p"] = *options.top_p;
  if (!options.stop.empty()) body["stop_sequences"] = options.stop;
  return body;
}

std::shared_ptr<Model> make_anthropic_model(const RuntimeContext& runtime, std::string model_id,
                                            ProviderOptions options) {
  return std::make_shared<AnthropicModel>(runtime, std::move(model_id), std::move(options));
}

}  // namespace sluice::harness
