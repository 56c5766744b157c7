// `sluice run`'s progress view: what a human reads for a run's events.
#include <catch2/catch.hpp>

#include <sstream>

#include "node/run_event_printer.hpp"

using nlohmann::json;
using sluice::node::RunEventPrinter;

namespace {

std::string render(const std::vector<json>& events) {
  std::ostringstream out;
  RunEventPrinter printer(out);
  for (const auto& event : events) printer.print(event);
  printer.finish();
  return out.str();
}

json delta(const std::string& text) {
  return {{"type", "text_delta"}, {"delta", text}, {"runId", "r"}, {"eventIndex", 3}};
}

}  // namespace

TEST_CASE("run events: text deltas stream on one prefixed line", "[printer]") {
  CHECK(render({{{"type", "run_start"}, {"runId", "workflow:greet:01J"}},
                {{"type", "turn_start"}, {"turnId", "turn_1"}},
                delta("Say "),
                delta("Ada"),
                {{"type", "message_end"}},
                {{"type", "run_end"}, {"isError", false}, {"durationMs", 12}, {"result", "x"}}}) ==
        "[run_start] workflow:greet:01J\n"
        "> Say Ada\n"
        "[run_end] completed in 12 ms\n");
  // Line breaks in the text keep the prefix; a final one leaves no empty line.
  CHECK(render({delta("one\n\ntw"), delta("o\n")}) == "> one\n> \n> two\n");
  CHECK(render({{{"type", "thinking_delta"}, {"delta", "hmm"}}, delta("ok")}) ==
        "(thinking) hmm\n> ok\n");
}

TEST_CASE("run events: logs, tools, failures and unknown events", "[printer]") {
  CHECK(render({{{"type", "log"},
                 {"level", "info"},
                 {"message", "hello"},
                 {"attributes", json::object()}},
                {{"type", "log"},
                 {"level", "warn"},
                 {"message", "careful"},
                 {"attributes", {{"n", 2}}}}}) == "log info: hello\nlog warn: careful {\"n\":2}\n");

  CHECK(render({delta("let me look"),
                {{"type", "tool_start"},
                 {"toolName", "bash"},
                 {"toolCallId", "c1"},
                 {"args", {{"command", "ls"}}}},
                {{"type", "tool_call"},
                 {"toolCallId", "c1"},
                 {"isError", true},
                 {"result", "no such\nfile"},
                 {"durationMs", 4}}}) ==
        "> let me look\n"
        "[tool] bash {\"command\":\"ls\"}\n"
        "[tool] bash failed in 4 ms: no such file\n");

  const json error = {
      {"type", "provider_error"}, {"message", "The model failed."}, {"details", "retry later"}};
  CHECK(render({{{"type", "operation"}, {"isError", false}, {"result", "fine"}},
                {{"type", "operation"}, {"isError", true}, {"error", error}, {"durationMs", 7}},
                {{"type", "run_end"}, {"isError", true}, {"error", error}}}) ==
        "[operation] failed in 7 ms: provider_error: The model failed. (retry later)\n"
        "[run_end] errored: provider_error: The model failed. (retry later)\n");

  CHECK(
      render(
          {{{"type", "compaction"}, {"runId", "r"}, {"eventIndex", 9}, {"reason", "overflow"}}}) ==
      "[compaction] {\"reason\":\"overflow\"}\n");
  const std::string long_text(500, 'x');
  CHECK(render({{{"type", "log"},
                 {"level", "info"},
                 {"message", "m"},
                 {"attributes", {{"k", long_text}}}}})
            .size() < 260);
}
