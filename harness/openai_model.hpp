#pragma once
// openai/<model>: the Chat Completions API, streamed (SSE), with function tools.
// Works with any OpenAI-compatible server through OPENAI_BASE_URL.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/model.hpp"
#include "harness/provider_options.hpp"
#include "harness/runtime_context.hpp"

namespace sluice::harness {

// model_id is the part after "openai/".
std::shared_ptr<Model> make_openai_model(const RuntimeContext& runtime, std::string model_id,
                                         ProviderOptions options);

// The request body of one turn (exposed for tests).
nlohmann::json openai_request_body(const std::string& model_id, const ProviderOptions& options,
                                   const TurnRequest& request);

}  // namespace sluice::harness
