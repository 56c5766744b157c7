#include "harness/provider_options.hpp"

#include "harness/model_runtime.hpp"

namespace sluice::harness {
namespace {

constexpr int64_t kMaxTokensLimit = 1000000;
constexpr int64_t kMinIdleMs = 100;
constexpr int64_t kMaxIdleMs = 600000;
constexpr size_t kMaxStops = 16;
constexpr const char* kKnown = "max_tokens, temperature, top_p, stop, idle_timeout_ms";

std::string describe(const nlohmann::json& value) {
  return std::string(value.type_name()) + " " + value.dump();
}

int64_t whole_number(const std::string& key, const nlohmann::json& value, int64_t low,
                     int64_t high, const std::string& unit) {
  if (!value.is_number_integer() || value < low || value > high) {
    throw ModelConfigError("model_options." + key, "expected a whole number of " + unit + " from " +
                                                       std::to_string(low) + " to " +
                                                       std::to_string(high) + ", got " +
                                                       describe(value));
  }
  return value.get<int64_t>();
}

double number(const std::string& key, const nlohmann::json& value, double high,
              const std::string& high_text) {
  if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > high) {
    throw ModelConfigError("model_options." + key,
                           "expected a number from 0 to " + high_text + ", got " + describe(value));
  }
  return value.get<double>();
}

}  // namespace

ProviderOptions parse_provider_options(std::string_view provider, const nlohmann::json& options) {
  ProviderOptions parsed;
  const bool anthropic = provider == "anthropic";
  for (const auto& [key, value] : options.items()) {
    if (key == "max_tokens") {
      parsed.max_tokens = whole_number(key, value, 1, kMaxTokensLimit, "tokens");
    } else if (key == "temperature") {
      parsed.temperature = anthropic ? number(key, value, 1.0, "1") : number(key, value, 2.0, "2");
    } else if (key == "top_p") {
      parsed.top_p = number(key, value, 1.0, "1");
    } else if (key == "idle_timeout_ms") {
      parsed.idle_timeout =
          std::chrono::milliseconds(whole_number(key, value, kMinIdleMs, kMaxIdleMs, "milliseconds"));
    } else if (key == "stop") {
      bool ok = value.is_array() && !value.empty() && value.size() <= kMaxStops;
      for (const auto& item : value) ok = ok && item.is_string() && !item.get<std::string>().empty();
      if (!ok) {
        throw ModelConfigError("model_options.stop",
                               "expected a list of 1 to " + std::to_string(kMaxStops) +
                                   " non-empty strings, got " + describe(value));
      }
      parsed.stop = value.get<std::vector<std::string>>();
    } else {
      throw ModelConfigError("model_options." + key, "unknown option for " + std::string(provider) +
                                                         " models; known options: " + kKnown);
    }
  }
  return parsed;
}

}  // namespace sluice::harness
