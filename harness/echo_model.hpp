#pragma once
// sluice/echo: the offline model. It answers with the text of the last user
// item, streamed as a few deltas, after model_options.delay_ms (default 0)
// (delivery: canned_model.hpp).
#include <chrono>
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "harness/model.hpp"
#include "harness/runtime_context.hpp"

namespace sluice::harness {

inline constexpr int64_t kMaxEchoDelayMs = 600000;

struct EchoOptions {
  std::chrono::milliseconds delay{0};
};

// From a model_options object; throws ModelConfigError naming the key
// (unknown keys included).
EchoOptions parse_echo_options(const nlohmann::json& options);

std::shared_ptr<Model> make_echo_model(const RuntimeContext& runtime, EchoOptions options);

}  // namespace sluice::harness
