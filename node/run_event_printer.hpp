#pragma once
// `sluice run`'s progress view: a workflow run's events as lines a human
// reads on a terminal. Agent text streams inline under one prefix instead of
// a line per delta; bookkeeping events (turn, message, operation starts) are
// left out. Not thread-safe: feed it from one thread at a time.
#include <cstddef>
#include <map>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::node {

class RunEventPrinter {
 public:
  explicit RunEventPrinter(std::ostream& out) : out_(out) {}

  void print(const nlohmann::json& event);
  // Ends a line of streamed text left open; call once the run is over.
  void finish();

 private:
  void stream(const std::string& prefix, const std::string& text);
  void line(const std::string& text);

  std::ostream& out_;
  std::string open_prefix_;    // the prefix of the streamed line left open, "" when none
  size_t pending_breaks_ = 0;  // line breaks of the streamed text not written yet
  std::map<std::string, std::string> tool_names_;  // by toolCallId, for tool_call
};

}  // namespace sluice::node
