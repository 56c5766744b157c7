#include "workflows/prompt_template.hpp"

#include <functional>

namespace sluice::workflows {
namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Walks the template; `fill` gets each placeholder's trimmed path and returns
// its text, or nullopt with `problem` set.
std::optional<std::string> walk(
    const std::string& prompt, std::string* out,
    const std::function<std::optional<std::string>(const std::string& path)>& fill) {
  size_t at = 0;
  while (true) {
    const size_t open = prompt.find("{{", at);
    if (open == std::string::npos) {
      if (out) out->append(prompt, at);
      return std::nullopt;
    }
    const size_t close = prompt.find("}}", open + 2);
    if (close == std::string::npos) return "an unclosed \"{{\" in the prompt";
    if (out) out->append(prompt, at, open - at);
    const std::string path = trimmed(prompt.substr(open + 2, close - open - 2));
    if (path != "payload" && path.rfind("payload.", 0) != 0) {
      return "the placeholder {{" + path + "}} must name the payload, as {{payload.field}}";
    }
    if (auto problem = fill(path)) return problem;
    at = close + 2;
  }
}

}  // namespace

std::optional<std::string> check_prompt_template(const std::string& prompt) {
  return walk(prompt, nullptr, [](const std::string&) { return std::nullopt; });
}

RenderedPrompt render_prompt(const std::string& prompt, const nlohmann::json& payload) {
  RenderedPrompt rendered;
  rendered.problem =
      walk(prompt, &rendered.text, [&](const std::string& path) -> std::optional<std::string> {
        const nlohmann::json* value = &payload;
        size_t at = std::string("payload").size();
        while (at < path.size()) {
          const size_t next = path.find('.', at + 1);
          const std::string field =
              path.substr(at + 1, next == std::string::npos ? next : next - at - 1);
          if (!value->is_object() || !value->contains(field)) {
            return "the payload has no field " + path.substr(std::string("payload.").size()) +
                   " (the prompt uses {{" + path + "}})";
          }
          value = &(*value)[field];
          at = next == std::string::npos ? path.size() : next;
        }
        rendered.text += value->is_string() ? value->get<std::string>() : value->dump();
        return std::nullopt;
      });
  if (rendered.problem) rendered.text.clear();
  return rendered;
}

}  // namespace sluice::workflows
