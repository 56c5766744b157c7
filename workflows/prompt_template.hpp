#pragma once
// The prompt of a declarative workflow: text with {{payload.field}} (or
// {{payload.a.b}}, or {{payload}} for all of it) replaced from the run's
// payload. A string value goes in as it is; any other value as its JSON text.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::workflows {

struct RenderedPrompt {
  std::string text;
  std::optional<std::string> problem;  // set when a placeholder cannot be filled
};

RenderedPrompt render_prompt(const std::string& prompt, const nlohmann::json& payload);

// A problem with the template itself (unclosed "{{", a placeholder not under
// payload), for load time; nullopt when it is well formed.
std::optional<std::string> check_prompt_template(const std::string& prompt);

}  // namespace sluice::workflows
