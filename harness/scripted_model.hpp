#pragma once
// sluice/scripted: an offline model that replays a script of turns, so demos
// and tests can show tool use and multi-turn conversations with no key.
//
//   [model_options]
//   script = "scripts/demo.json"   # or inline: [[model_options.turns]] tables
//   delay_ms = 0
//
// The script is {"turns": [{"text": "...", "tool_calls": [{"name": "bash",
// "args": {"command": "ls"}}]}, ...]}. Which turn answers is decided by the
// conversation alone: the Nth assistant entry of the session gets turn N
// (so a restarted or moved session continues where it was). Past the last
// turn the model fails with a clear error, unless "loop": true starts over.
// Texts may use {last_user} (the last user message), {users} (how many user
// messages the session has) and {last_tool_result} (the last tool result).
// context_words = N makes a turn whose request holds more than N words fail
// as a context overflow, and a summary request is answered with a one-line
// summary, so compaction can be shown and tested offline.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/model.hpp"
#include "harness/runtime_context.hpp"

namespace sluice::harness {

struct ScriptedTurn {
  std::string text;
  std::vector<ToolCall> tool_calls;  // ids are filled per use
};

struct ScriptedOptions {
  std::vector<ScriptedTurn> turns;
  bool loop = false;
  std::chrono::milliseconds delay{0};
  int64_t context_words = 0;  // 0: unlimited
};

// From a model_options object (reading the script file when `script` is
// given); throws ModelConfigError naming the key.
ScriptedOptions parse_scripted_options(const nlohmann::json& options);

std::shared_ptr<Model> make_scripted_model(const RuntimeContext& runtime, ScriptedOptions options);

}  // namespace sluice::harness
