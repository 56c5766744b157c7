#pragma once
// The model interface: one call is one model turn. Models never block the
// caller: they report stream deltas and the outcome to a TurnObserver from
// whatever thread they run on (the ModelRuntime's thread for built-in models,
// the HTTP client's thread for providers).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"

namespace sluice::harness {

// One item of the conversation the model sees, in order.
struct ConversationItem {
  std::string type;  // user, assistant, tool_call, tool_result, interruption
  std::string text;
  std::string tool_name;
  std::string tool_call_id;
  std::string args_json;
  std::string result_json;
  bool is_error = false;
};

// A tool the model may call: its arguments are described by a JSON schema
// ({"type":"object","properties":{...},"required":[...]}), as providers expect.
struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json parameters;
};

struct ToolCall {
  std::string id;         // the provider's id, echoed back with the result
  std::string name;
  std::string args_json;  // JSON text of the arguments
};

// Why a turn is asked for: the conversation's next reply, or a summary of the
// conversation's oldest part when it outgrew the context window (compaction).
// Providers treat both alike; offline models answer a summary request with a
// summary rather than the next step of their script.
enum class TurnPurpose { reply, summary };

struct TurnRequest {
  std::string instructions;
  std::vector<ConversationItem> conversation;
  std::vector<ToolSpec> tools;
  TurnPurpose purpose = TurnPurpose::reply;
};

struct TurnResult {
  std::string text;  // the assistant text of this turn
  // When not empty the turn is not final: the caller runs the tools and
  // starts another turn with their results in the conversation.
  std::vector<ToolCall> tool_calls;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

// meta.reason of a failed turn whose conversation exceeds the model's context
// window: the caller may compact the history and try again.
inline constexpr const char* kReasonContextOverflow = "context_overflow";

class TurnObserver {
 public:
  virtual ~TurnObserver() = default;
  virtual void on_text_delta(std::string_view delta) = 0;
  // Exactly one of these ends the turn.
  virtual void on_finished(TurnResult result) = 0;
  // transient: a retry after backoff may succeed (429, 5xx, reset, stalled stream).
  virtual void on_failed(PublicError error, bool transient) = 0;
};

class TurnHandle {
 public:
  virtual ~TurnHandle() = default;
  // After cancel() the observer may still see at most one call, which the caller ignores.
  virtual void cancel() = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::shared_ptr<TurnHandle> start_turn(TurnRequest request,
                                                 std::shared_ptr<TurnObserver> observer) = 0;
};

}  // namespace sluice::harness
