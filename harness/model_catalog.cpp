#include "harness/model_catalog.hpp"

#include <string_view>

#include "harness/anthropic_model.hpp"
#include "harness/echo_model.hpp"
#include "harness/model_runtime.hpp"
#include "harness/openai_model.hpp"
#include "harness/provider_options.hpp"
#include "harness/scripted_model.hpp"

namespace sluice::harness {
namespace {

struct ModelFactory {
  std::string_view name;  // "provider/model", or "provider/*" for every model of a provider
  // Both get the whole "provider/model" name and an options object, and throw
  // ModelConfigError for options the model cannot take (make checks them too).
  void (*validate)(std::string_view model, const nlohmann::json& options);
  std::shared_ptr<Model> (*make)(const RuntimeContext& runtime, std::string_view model,
                                 const nlohmann::json& options);
};

const ModelFactory kCatalog[] = {
    {"sluice/echo",
     [](std::string_view, const nlohmann::json& options) { parse_echo_options(options); },
     [](const RuntimeContext& runtime, std::string_view, const nlohmann::json& options) {
       return make_echo_model(runtime, parse_echo_options(options));
     }},
    {"sluice/scripted",
     [](std::string_view, const nlohmann::json& options) { parse_scripted_options(options); },
     [](const RuntimeContext& runtime, std::string_view, const nlohmann::json& options) {
       return make_scripted_model(runtime, parse_scripted_options(options));
     }},
    {"anthropic/*",
     [](std::string_view, const nlohmann::json& options) {
       parse_provider_options("anthropic", options);
     },
     [](const RuntimeContext& runtime, std::string_view model, const nlohmann::json& options) {
       return make_anthropic_model(runtime, std::string(model.substr(model.find('/') + 1)),
                                   parse_provider_options("anthropic", options));
     }},
    {"openai/*",
     [](std::string_view, const nlohmann::json& options) { parse_provider_options("openai", options); },
     [](const RuntimeContext& runtime, std::string_view model, const nlohmann::json& options) {
       return make_openai_model(runtime, std::string(model.substr(model.find('/') + 1)),
                                parse_provider_options("openai", options));
     }},
};

std::string known_models() {
  std::string list;
  for (const auto& factory : kCatalog) {
    if (!list.empty()) list += ", ";
    list += factory.name;
  }
  return list;
}

const ModelFactory& find_factory(const std::string& model) {
  const auto slash = model.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == model.size()) {
    throw ModelConfigError("model", "expected \"provider/model\", got \"" + model +
                                        "\"; known models: " + known_models());
  }
  const std::string provider = model.substr(0, slash);
  for (const auto& factory : kCatalog) {
    if (factory.name == model || factory.name == provider + "/*") return factory;
  }
  for (const auto& factory : kCatalog) {
    if (factory.name.starts_with(provider + "/")) {
      throw ModelConfigError("model", "unknown model \"" + model + "\" of provider \"" + provider +
                                          "\"; known models: " + known_models());
    }
  }
  throw ModelConfigError("model",
                         "unknown provider \"" + provider + "\"; known models: " + known_models());
}

// Options arrive from TOML as an object; C++ callers may pass null for none.
nlohmann::json options_object(const nlohmann::json& options) {
  if (options.is_null()) return nlohmann::json::object();
  if (!options.is_object()) {
    throw ModelConfigError("model_options",
                           std::string("expected a table of options, got ") + options.type_name());
  }
  return options;
}

}  // namespace

void validate_model(const std::string& model, const nlohmann::json& options) {
  find_factory(model).validate(model, options_object(options));
}

std::shared_ptr<Model> make_catalog_model(const RuntimeContext& runtime, const std::string& model,
                                          const nlohmann::json& options) {
  return find_factory(model).make(runtime, model, options_object(options));
}

}  // namespace sluice::harness
