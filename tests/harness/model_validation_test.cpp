// validate_model: every message starts with the key it is about, and unknown
// names list the models that exist.
#include <string>

#include <catch2/catch.hpp>

#include "harness/model_runtime.hpp"

using sluice::harness::ModelConfigError;
using sluice::harness::validate_model;

namespace {

// The ModelConfigError validate_model throws, or FAIL.
ModelConfigError rejection(const std::string& model, const nlohmann::json& options) {
  try {
    validate_model(model, options);
  } catch (const ModelConfigError& error) {
    return error;
  }
  FAIL("validate_model accepted " << model << " with " << options.dump());
  return ModelConfigError("unreachable: FAIL throws");
}

}  // namespace

TEST_CASE("sluice/echo accepts no options or a valid delay", "[model]") {
  CHECK_NOTHROW(validate_model("sluice/echo", nullptr));
  CHECK_NOTHROW(validate_model("sluice/echo", nlohmann::json::object()));
  CHECK_NOTHROW(validate_model("sluice/echo", {{"delay_ms", 0}}));
  CHECK_NOTHROW(validate_model("sluice/echo", {{"delay_ms", 600000}}));
  CHECK_NOTHROW(validate_model("sluice/echo", {{"delay_ms", 15u}}));
}

TEST_CASE("bad delays name model_options.delay_ms", "[model]") {
  for (const auto& bad : {nlohmann::json(-1), nlohmann::json(600001), nlohmann::json(1.5),
                          nlohmann::json("10"), nlohmann::json(true)}) {
    const auto error = rejection("sluice/echo", {{"delay_ms", bad}});
    CHECK(error.key() == "model_options.delay_ms");
    CHECK(std::string(error.what()) ==
          "model_options.delay_ms: expected a whole number of milliseconds from 0 to 600000, "
          "got " +
              std::string(bad.type_name()) + " " + bad.dump());
  }
}

TEST_CASE("unknown echo options are rejected by name", "[model]") {
  const auto error = rejection("sluice/echo", {{"delay_ms", 5}, {"temperature", 0.2}});
  CHECK(std::string(error.what()) ==
        "model_options.temperature: unknown option for sluice/echo; known options: delay_ms");
  CHECK(error.problem() == "unknown option for sluice/echo; known options: delay_ms");
}

TEST_CASE("options must be an object", "[model]") {
  CHECK(std::string(rejection("sluice/echo", nlohmann::json::array()).what()) ==
        "model_options: expected a table of options, got array");
}

TEST_CASE("unknown or malformed model names list the known models", "[model]") {
  CHECK(std::string(rejection("mistral/large", nullptr).what()) ==
        R"(model: unknown provider "mistral"; known models: sluice/echo, sluice/scripted, anthropic/*, openai/*)");
  CHECK(
      std::string(rejection("sluice/nope", nullptr).what()) ==
      R"(model: unknown model "sluice/nope" of provider "sluice"; known models: sluice/echo, sluice/scripted, anthropic/*, openai/*)");
  for (const std::string bad : {"echo", "", "/echo", "sluice/"}) {
    const auto error = rejection(bad, nullptr);
    CHECK(error.key() == "model");
    CHECK(std::string(error.what()) ==
          "model: expected \"provider/model\", got \"" + bad + "\"; known models: sluice/echo, sluice/scripted, anthropic/*, openai/*");
  }
}
