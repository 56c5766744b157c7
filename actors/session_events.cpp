#include "actors/session_events.hpp"

#include "core/clock.hpp"
#include "core/untrusted_json.hpp"

namespace sluice::actors {
namespace {

using nlohmann::json;

json text_content(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

// Arguments are an object in Flue's shape; anything else recorded is kept
// under "value" rather than dropped.
json tool_arguments(const std::string& args_json) {
  json args = parse_untrusted_json(args_json).value;
  if (args.is_object()) return args;
  return {{"value", args.is_discarded() ? json(args_json) : args}};
}

json tool_call_content(const std::string& id, const std::string& name,
                       const std::string& args_json) {
  return {{"type", "toolCall"}, {"id", id}, {"name", name}, {"arguments", tool_arguments(args_json)}};
}

// A recorded tool result as the text the model was shown.
std::string result_text(const std::string& result_json) {
  json result = json::parse(result_json, nullptr, false);
  if (result.is_string()) return result.get<std::string>();
  return result.is_discarded() ? result_json : result.dump();
}

}  // namespace

std::string operation_id(const persistence::SubmissionRecord& record) {
  return "op_" + record.id.substr(record.id.find('_') + 1);
}

json operation_outcome(const persistence::SubmissionRecord& record) {
  json fields = {{"operationKind", "prompt"},
                 {"isError", record.state != persistence::SubmissionState::completed},
                 {"durationMs", record.settled_at_ms - record.started_at_ms}};
  const auto& value = record.result_json ? record.result_json : record.error_json;
  if (value) fields[record.result_json ? "result" : "error"] = json::parse(*value);
  return fields;
}

json agent_event(const std::string& type, const persistence::SubmissionRecord& record,
                 json fields) {
  fields["type"] = type;
  fields["timestamp"] = iso8601(now_ms());
  fields["instanceId"] = record.key.instance;
  fields["session"] = record.key.session;
  fields["submissionId"] = record.id;
  fields["operationId"] = operation_id(record);
  if (!record.dispatch_id.empty()) fields["dispatchId"] = record.dispatch_id;
  return fields;
}

json prompt_usage(int64_t input_tokens, int64_t output_tokens) {
  return {{"input", input_tokens},
          {"output", output_tokens},
          {"cacheRead", 0},
          {"cacheWrite", 0},
          {"totalTokens", input_tokens + output_tokens},
          {"cost", {{"input", 0}, {"output", 0}, {"cacheRead", 0}, {"cacheWrite", 0}, {"total", 0}}}};
}

json assistant_message(const std::string& text, const std::vector<harness::ToolCall>& tool_calls) {
  json content = json::array();
  if (!text.empty()) content.push_back(text_content(text));
  for (const auto& call : tool_calls) {
    content.push_back(tool_call_content(call.id, call.name, call.args_json));
  }
  return {{"role", "assistant"}, {"content", std::move(content)}};
}

json submission_messages(const std::vector<persistence::HistoryEntry>& history, int64_t sequence) {
  auto first = history.end();
  while (first != history.begin() && std::prev(first)->sequence == sequence) --first;
  json messages = json::array();
  for (auto it = first; it != history.end(); ++it) {
    const persistence::HistoryEntry& entry = *it;
    if (entry.type == "user") {
      messages.push_back({{"role", "user"}, {"content", entry.text}});
    } else if (entry.type == "assistant") {
      messages.push_back(assistant_message(entry.text, {}));
    } else if (entry.type == "tool_call") {
      // A turn's calls follow its text: they belong to that assistant message.
      if (messages.empty() || messages.back()["role"] != "assistant") {
        messages.push_back(assistant_message("", {}));
      }
      messages.back()["content"].push_back(
          tool_call_content(entry.tool_call_id, entry.tool_name, entry.args_json));
    } else if (entry.type == "tool_result") {
      messages.push_back({{"role", "toolResult"},
                          {"toolCallId", entry.tool_call_id},
                          {"toolName", entry.tool_name},
                          {"content", json::array({text_content(result_text(entry.result_json))})},
                          {"isError", entry.is_error}});
    }
  }
  return messages;
}

}  // namespace sluice::actors
