#include "sandbox/builtin_tools.hpp"
#include "sandbox/tool_arguments.hpp"

namespace sluice::sandbox {
namespace {

constexpr int64_t kMaxTimeoutMs = 600'000;

void append_stream(std::string& content, const char* tag, const std::string& text) {
  if (text.empty()) return;
  content += std::string("<") + tag + ">\n" + text;
  if (text.back() != '\n') content += '\n';
  content += std::string("</") + tag + ">\n";
}

ToolResult run_bash(Sandbox& sandbox, const nlohmann::json& arguments) {
  ExecRequest request;
  request.command = string_argument(arguments, "command");
  int64_t timeout_ms = integer_argument(arguments, "timeout_ms", 0);
  if (timeout_ms > 0) request.timeout = std::chrono::milliseconds(timeout_ms);
  ExecResult result = sandbox.exec(request);

  std::string content = "exit code: " + std::to_string(result.exit_code) + "\n";
  append_stream(content, "stdout", result.stdout_text);
  append_stream(content, "stderr", result.stderr_text);
  if (result.stdout_text.empty() && result.stderr_text.empty()) content += "(no output)\n";
  // A failing command is a failed call to the model (as a failing test run
  // is); the output says why.
  return {content, result.exit_code != 0};
}

}  // namespace

Tool bash_tool() {
  return {"bash",
          "Run a shell command (/bin/sh -c) in the working directory; returns its exit code, "
          "stdout and stderr. Processes it starts do not outlive it.",
          {{"type", "object"},
           {"properties",
            {{"command", {{"type", "string"}, {"description", "The shell command to run"}}},
             {"timeout_ms",
              {{"type", "integer"},
               {"minimum", 1},
               {"maximum", kMaxTimeoutMs},
               {"description",
                "Kill the command after this many milliseconds (default: the sandbox's)"}}}}},
           {"required", {"command"}},
           {"additionalProperties", false}},
          run_bash};
}

}  // namespace sluice::sandbox
