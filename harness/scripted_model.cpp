#include "harness/scripted_model.hpp"

#include <fstream>
#include <sstream>

#include "harness/canned_model.hpp"
#include "harness/echo_model.hpp"
#include "harness/model_runtime.hpp"

namespace sluice::harness {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

TurnResult answer(const ScriptedOptions& script, const TurnRequest& request) {
  size_t assistant_turns = 0, users = 0;
  std::string last_user, last_tool_result;
  int64_t input_tokens = count_words(request.instructions);
  for (const auto& item : request.conversation) {
    input_tokens += count_words(item.text) + count_words(item.args_json) +
                    count_words(item.result_json);
  }
  // Summaries are exempt from the limit, so a test controls exactly which
  // reply turns overflow.
  if (request.purpose == TurnPurpose::summary) {
    return {"Summary of " + std::to_string(input_tokens) + " words of earlier conversation.",
            {},
            input_tokens,
            8};
  }
  if (script.context_words > 0 && input_tokens > script.context_words) {
    throw CannedAnswerError("sluice/scripted: the conversation has " +
                                std::to_string(input_tokens) + " words, over context_words " +
                                std::to_string(script.context_words),
                            {{"reason", kReasonContextOverflow}});
  }
  for (const auto& item : request.conversation) {
    if (item.type == "assistant") ++assistant_turns;
    if (item.type == "user") {
      ++users;
      last_user = item.text;
    }
    if (item.type == "tool_result") {
      // Results are recorded as JSON; a text result reads better as its text.
      const auto value = nlohmann::json::parse(item.result_json, nullptr, false);
      last_tool_result = value.is_string() ? value.get<std::string>() : item.result_json;
    }
  }
  size_t index = assistant_turns;
  if (index >= script.turns.size()) {
    if (!script.loop || script.turns.empty()) {
      throw CannedAnswerError("the script of sluice/scripted has " +
                              std::to_string(script.turns.size()) + " turn(s) and all were used");
    }
    index %= script.turns.size();
  }
  const ScriptedTurn& turn = script.turns[index];
  TurnResult result;
  result.text = turn.text;
  replace_all(result.text, "{last_user}", last_user);
  replace_all(result.text, "{users}", std::to_string(users));
  replace_all(result.text, "{last_tool_result}", last_tool_result);
  for (size_t i = 0; i < turn.tool_calls.size(); ++i) {
    ToolCall call = turn.tool_calls[i];
    call.id = "call_" + std::to_string(assistant_turns) + "_" + std::to_string(i);
    result.tool_calls.push_back(std::move(call));
  }
  result.input_tokens = input_tokens;
  result.output_tokens = count_words(result.text);
  return result;
}

std::vector<ScriptedTurn> parse_turns(const nlohmann::json& turns, const std::string& where) {
  if (!turns.is_array() || turns.empty()) {
    throw ModelConfigError(where, "expected a non-empty list of turns");
  }
  std::vector<ScriptedTurn> out;
  for (size_t i = 0; i < turns.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const auto& turn = turns[i];
    if (!turn.is_object()) throw ModelConfigError(at, "expected a table with text and/or tool_calls");
    ScriptedTurn parsed;
    for (const auto& [key, value] : turn.items()) {
      if (key == "text" && value.is_string()) {
        parsed.text = value.get<std::string>();
      } else if (key == "tool_calls" && value.is_array()) {
        for (const auto& call : value) {
          if (!call.is_object() || !call.contains("name") || !call["name"].is_string()) {
            throw ModelConfigError(at + ".tool_calls", "each call needs a string \"name\"");
          }
          const nlohmann::json args = call.value("args", nlohmann::json::object());
          if (!args.is_object()) throw ModelConfigError(at + ".tool_calls", "\"args\" must be a table");
          parsed.tool_calls.push_back({"", call["name"].get<std::string>(), args.dump()});
        }
      } else {
        throw ModelConfigError(at + "." + key,
                               "expected text (a string) or tool_calls (a list of {name, args})");
      }
    }
    out.push_back(std::move(parsed));
  }
  return out;
}

}  // namespace

ScriptedOptions parse_scripted_options(const nlohmann::json& options) {
  ScriptedOptions parsed;
  bool have_turns = false;
  for (const auto& [key, value] : options.items()) {
    if (key == "turns") {
      parsed.turns = parse_turns(value, "model_options.turns");
      have_turns = true;
    } else if (key == "script") {
      if (!value.is_string()) throw ModelConfigError("model_options.script", "expected a file path");
      std::ifstream file(value.get<std::string>());
      if (!file) {
        throw ModelConfigError("model_options.script",
                               "cannot read \"" + value.get<std::string>() + "\"");
      }
      std::stringstream text;
      text << file.rdbuf();
      const nlohmann::json script = nlohmann::json::parse(text.str(), nullptr, false);
      if (script.is_discarded() || !script.is_object() || !script.contains("turns")) {
        throw ModelConfigError("model_options.script",
                               "\"" + value.get<std::string>() +
                                   "\" is not a JSON object with \"turns\"");
      }
      parsed.turns = parse_turns(script["turns"], "model_options.script turns");
      parsed.loop = script.value("loop", false);
      have_turns = true;
    } else if (key == "loop") {
      if (!value.is_boolean()) throw ModelConfigError("model_options.loop", "expected true or false");
      parsed.loop = value.get<bool>();
    } else if (key == "delay_ms") {
      parsed.delay = parse_echo_options({{"delay_ms", value}}).delay;
    } else if (key == "context_words") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1) {
        throw ModelConfigError("model_options.context_words", "expected a whole number above 0");
      }
      parsed.context_words = value.get<int64_t>();
    } else {
      throw ModelConfigError("model_options." + key,
                             "unknown option for sluice/scripted; known options: script, turns, "
                             "loop, delay_ms, context_words");
    }
  }
  if (!have_turns) {
    throw ModelConfigError("model_options", "sluice/scripted needs script (a file) or turns");
  }
  return parsed;
}

std::shared_ptr<Model> make_scripted_model(const RuntimeContext& runtime, ScriptedOptions options) {
  const auto delay = options.delay;
  return make_canned_model(runtime, delay,
                           [script = std::move(options)](const TurnRequest& request) {
                             return answer(script, request);
                           });
}

}  // namespace sluice::harness
