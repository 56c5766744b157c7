#pragma once
// [model_options] of the HTTP providers (anthropic/*, openai/*): the sampling
// settings both APIs share, plus how long a silent stream may stall.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::harness {

struct ProviderOptions {
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::vector<std::string> stop;
  // No byte for this long (connecting, waiting for headers, or mid-stream)
  // fails the turn transiently.
  std::chrono::milliseconds idle_timeout{60000};
};

// `provider` is "anthropic" or "openai": it sets the temperature range (0..1 and
// 0..2, as the APIs accept) and names the model in messages. Throws
// ModelConfigError naming model_options.<key>; unknown keys are rejected.
ProviderOptions parse_provider_options(std::string_view provider, const nlohmann::json& options);

}  // namespace sluice::harness
