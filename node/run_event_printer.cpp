#include "node/run_event_printer.hpp"

#include <set>

namespace sluice::node {
namespace {

using nlohmann::json;

constexpr size_t kMaxShown = 200;

// Steps of a turn that say nothing the surrounding lines do not.
const std::set<std::string>& quiet_types() {
  static const std::set<std::string> types = {
      "turn_start",    "turn_request",    "turn_end",    "turn",
      "message_start", "message_update",  "message_end", "thinking_start",
      "thinking_end",  "operation_start", "agent_start", "agent_end",
      "idle"};
  return types;
}

// Identity and bookkeeping fields, left out of the generic rendering.
const std::set<std::string>& plumbing_fields() {
  static const std::set<std::string> fields = {
      "type",    "eventIndex", "timestamp",   "runId",  "instanceId",
      "session", "dispatchId", "operationId", "turnId", "submissionId"};
  return fields;
}

// One line, at most kMaxShown characters (UTF-8 sequences kept whole).
std::string shorten(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() <= kMaxShown) return text;
  size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string compact(const json& value) {
  return shorten(value.is_string() ? value.get<std::string>()
                                   : value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string text_field(const json& event, const char* name) {
  const auto it = event.find(name);
  return it != event.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string duration(const json& event) {
  const auto it = event.find("durationMs");
  return it != event.end() && it->is_number() ? " in " + it->dump() + " ms" : "";
}

std::string describe_error(const json& error) {
  if (!error.is_object()) return compact(error);
  std::string text = text_field(error, "type") + ": " + text_field(error, "message");
  const std::string details = text_field(error, "details");
  if (!details.empty()) text += " (" + details + ")";
  return shorten(text);
}

std::string generic(const json& event) {
  json rest = json::object();
  for (const auto& [key, value] : event.items()) {
    if (plumbing_fields().count(key) == 0) rest[key] = value;
  }
  const std::string type = text_field(event, "type");
  return "[" + (type.empty() ? std::string("event") : type) + "]" +
         (rest.empty() ? "" : " " + compact(rest));
}

}  // namespace

void RunEventPrinter::print(const json& event) {
  const std::string type = text_field(event, "type");
  if (type == "text_delta") return stream("> ", text_field(event, "delta"));
  if (type == "thinking_delta") return stream("(thinking) ", text_field(event, "delta"));
  if (quiet_types().count(type) != 0) return;

  if (type == "run_start") {
    line("[run_start] " + text_field(event, "runId"));
  } else if (type == "run_end") {
    const bool failed = event.value("isError", false);
    line("[run_end] " + std::string(failed ? "errored" : "completed") + duration(event) +
         (failed ? ": " + describe_error(event.value("error", json())) : ""));
  } else if (type == "log") {
    const json attributes = event.value("attributes", json::object());
    line("log " + text_field(event, "level") + ": " + text_field(event, "message") +
         (attributes.empty() ? "" : " " + compact(attributes)));
  } else if (type == "tool_start") {
    const std::string name = text_field(event, "toolName");
    tool_names_[text_field(event, "toolCallId")] = name;
    line("[tool] " + name + " " + compact(event.value("args", json::object())));
  } else if (type == "tool_call") {
    const auto found = tool_names_.find(text_field(event, "toolCallId"));
    const std::string name = found == tool_names_.end() ? "tool" : found->second;
    line("[tool] " + name + (event.value("isError", false) ? " failed" : " done") +
         duration(event) + ": " + compact(event.value("result", json())));
  } else if (type == "operation" && event.value("isError", false)) {
    line("[operation] failed" + duration(event) + ": " +
         describe_error(event.value("error", json())));
  } else if (type == "operation") {
    return;  // a prompt that completed: its text has been shown
  } else {
    line(generic(event));
  }
}

void RunEventPrinter::finish() {
  if (open_prefix_.empty()) return;
  out_ << '\n' << std::flush;
  open_prefix_.clear();
  pending_breaks_ = 0;
}

void RunEventPrinter::stream(const std::string& prefix, const std::string& text) {
  if (text.empty()) return;
  if (open_prefix_ != prefix) {
    finish();
    out_ << prefix;
    open_prefix_ = prefix;
  }
  for (const char c : text) {
    // Line breaks are written only when text follows them, so text ending in
    // one leaves no empty prefixed line behind.
    if (c == '\n') {
      ++pending_breaks_;
      continue;
    }
    for (; pending_breaks_ > 0; --pending_breaks_) out_ << '\n' << prefix;
    out_ << c;
  }
  out_ << std::flush;
}

void RunEventPrinter::line(const std::string& text) {
  finish();
  out_ << text << '\n' << std::flush;
}

}  // namespace sluice::node
