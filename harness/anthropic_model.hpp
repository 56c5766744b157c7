#pragma once
// anthropic/<model>: the Messages API, streamed (SSE), with tools.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/model.hpp"
#include "harness/provider_options.hpp"
#include "harness/runtime_context.hpp"

namespace sluice::harness {

// The API requires max_tokens; this is used when model_options has none.
inline constexpr int64_t kAnthropicDefaultMaxTokens = 4096;

// model_id is the part after "anthropic/".
std::shared_ptr<Model> make_anthropic_model(const RuntimeContext& runtime, std::string model_id,
                                            ProviderOptions options);

// The request body of one turn (exposed for tests).
nlohmann::json anthropic_request_body(const std::string& model_id, const ProviderOptions& options,
                                      const TurnRequest& request);

}  // namespace sluice::harness
