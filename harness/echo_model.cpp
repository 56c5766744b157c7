#include "harness/echo_model.hpp"

#include <string>

#include "harness/canned_model.hpp"
#include "harness/model_runtime.hpp"

namespace sluice::harness {
namespace {

// Input tokens count everything the model was shown; the answer is the text of
// the last user item.
TurnResult answer(const TurnRequest& request) {
  TurnResult result;
  result.input_tokens = count_words(request.instructions);
  for (const auto& item : request.conversation) {
    result.input_tokens +=
        count_words(item.text) + count_words(item.args_json) + count_words(item.result_json);
    if (item.type == "user") result.text = item.text;
  }
  result.output_tokens = count_words(result.text);
  return result;
}

std::string describe(const nlohmann::json& value) {
  return std::string(value.type_name()) + " " + value.dump();
}

}  // namespace

EchoOptions parse_echo_options(const nlohmann::json& options) {
  EchoOptions parsed;
  for (const auto& [key, value] : options.items()) {
    if (key != "delay_ms") {
      throw ModelConfigError("model_options." + key,
                             "unknown option for sluice/echo; known options: delay_ms");
    }
    if (!value.is_number_integer() || value < 0 || value > kMaxEchoDelayMs) {
      throw ModelConfigError("model_options.delay_ms",
                             "expected a whole number of milliseconds from 0 to " +
                                 std::to_string(kMaxEchoDelayMs) + ", got " + describe(value));
    }
    parsed.delay = std::chrono::milliseconds(value.get<int64_t>());
  }
  return parsed;
}

std::shared_ptr<Model> make_echo_model(const RuntimeContext& runtime, EchoOptions options) {
  return make_canned_model(runtime, options.delay, answer);
}

}  // namespace sluice::harness
