#pragma once
// The offline models' common delivery: an answer computed from the request,
// streamed as a few deltas after a fixed delay, always on the runtime thread
// and never inside start_turn. sluice/echo and sluice/scripted differ only in
// how they compute the answer.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "harness/model.hpp"
#include "harness/runtime_context.hpp"

namespace sluice::harness {

// Thrown by an answer function: the turn fails (not transiently) with this
// message, and meta (e.g. {"reason": kReasonContextOverflow}) when given.
struct CannedAnswerError : std::runtime_error {
  explicit CannedAnswerError(const std::string& message, nlohmann::json error_meta = nullptr)
      : std::runtime_error(message), meta(std::move(error_meta)) {}
  nlohmann::json meta;
};

using Answer = std::function<TurnResult(const TurnRequest&)>;

std::shared_ptr<Model> make_canned_model(const RuntimeContext& runtime,
                                         std::chrono::milliseconds delay, Answer answer);

// Whitespace-separated words: the offline models' deterministic stand-in for tokens.
int64_t count_words(std::string_view text);

}  // namespace sluice::harness
