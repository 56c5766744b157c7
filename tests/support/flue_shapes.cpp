#include "support/flue_shapes.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace sluice::test::flue {
namespace {

using nlohmann::json;

// Reads one object and records what is missing or of the wrong type.
class Shape {
 public:
  Shape(const json& value, std::string path, Problems& problems)
      : value_(value), path_(std::move(path)), problems_(problems) {
    if (!value_.is_object()) fail(path_, "is not an object: " + value_.dump());
  }

  bool ok() const { return value_.is_object(); }
  bool has(const std::string& key) const { return ok() && value_.contains(key); }

  void string(const std::string& key) { required(key, &json::is_string, "a string"); }
  void number(const std::string& key) { required(key, &json::is_number, "a number"); }
  void boolean(const std::string& key) { required(key, &json::is_boolean, "a boolean"); }
  void array(const std::string& key) { required(key, &json::is_array, "an array"); }
  void any(const std::string& key) {
    if (ok() && !value_.contains(key)) fail(at(key), "is missing");
  }
  void optional_string(const std::string& key) { optional(key, &json::is_string, "a string"); }
  void optional_number(const std::string& key) { optional(key, &json::is_number, "a number"); }
  void optional_boolean(const std::string& key) { optional(key, &json::is_boolean, "a boolean"); }
  void optional_object(const std::string& key) { optional(key, &json::is_object, "an object"); }
  void literal(const std::string& key, const json& expected) {
    if (!ok()) return;
    if (!value_.contains(key) || value_.at(key) != expected) {
      fail(at(key), "must be " + expected.dump() + ", is " +
                        (value_.contains(key) ? value_.at(key).dump() : "missing"));
    }
  }
  void one_of(const std::string& key, const std::set<std::string>& allowed) {
    string(key);
    if (has(key) && value_.at(key).is_string() && !allowed.contains(value_.at(key))) {
      fail(at(key), "is not one of the allowed values: " + value_.at(key).dump());
    }
  }
  void absent(const std::string& key) {
    if (has(key)) fail(at(key), "must be absent, is " + value_.at(key).dump());
  }
  // The object's keys are exactly `allowed` (required ones are checked apart).
  void only(const std::set<std::string>& allowed) {
    if (!ok()) return;
    for (const auto& [key, unused] : value_.items()) {
      if (!allowed.contains(key)) fail(at(key), "is not a field of this message");
    }
  }
  const json& at_key(const std::string& key) const { return value_.at(key); }
  std::string at(const std::string& key) const { return path_ + "." + key; }
  void fail(const std::string& where, const std::string& what) {
    problems_.push_back(where + " " + what);
  }

 private:
  void required(const std::string& key, bool (json::*test)() const noexcept, const char* what) {
    if (!ok()) return;
    if (!value_.contains(key))
      return fail(at(key), std::string("is missing (must be ") + what + ")");
    if (!(value_.at(key).*test)()) {
      fail(at(key), std::string("must be ") + what + ", is " + value_.at(key).dump());
    }
  }
  void optional(const std::string& key, bool (json::*test)() const noexcept, const char* what) {
    if (has(key) && !(value_.at(key).*test)()) {
      fail(at(key), std::string("must be absent or ") + what + ", is " + value_.at(key).dump());
    }
  }

  const json& value_;
  std::string path_;
  Problems& problems_;
};

const std::set<std::string> kPurposes = {"agent", "compaction", "compaction_prefix"};
const std::set<std::string> kOperationKinds = {"prompt", "skill", "task", "shell", "compact"};

void usage(Shape& event, const std::string& key, Problems& problems) {
  if (!event.has(key)) return;
  Shape u(event.at_key(key), event.at(key), problems);
  for (const char* field : {"input", "output", "cacheRead", "cacheWrite", "totalTokens"}) {
    u.number(field);
  }
  if (!u.has("cost")) return u.fail(event.at(key) + ".cost", "is missing");
  Shape cost(u.at_key("cost"), u.at("cost"), problems);
  for (const char* field : {"input", "output", "cacheRead", "cacheWrite", "total"}) {
    cost.number(field);
  }
}

void assistant_message(Shape& event, const std::string& key, Problems& problems) {
  if (!event.has(key)) return;
  Shape message(event.at_key(key), event.at(key), problems);
  message.literal("role", "assistant");
  message.array("content");
  if (!message.has("content") || !message.at_key("content").is_array()) return;
  for (const auto& part : message.at_key("content")) {
    Shape p(part, message.at("content[]"), problems);
    p.one_of("type", {"text", "thinking", "toolCall"});
    if (p.has("type") && part["type"] == "text") p.string("text");
    if (p.has("type") && part["type"] == "toolCall") {
      p.string("id");
      p.string("name");
      p.optional_object("arguments");
      p.any("arguments");
    }
  }
}

// run_start and run_resume name their run the same way.
void run_identity(Shape& e, Problems& p) {
  e.string("runId");
  e.string("instanceId");
  e.string("workflowName");
  e.string("startedAt");
  if (!e.has("owner")) return e.fail(e.at("owner"), "is missing");
  Shape owner(e.at_key("owner"), e.at("owner"), p);
  owner.literal("kind", "workflow");
  owner.string("workflowName");
  owner.string("instanceId");
}

// The fields each event type requires beyond its base, as Flue 0.10's event
// schema has them.
using EventRule = std::function<void(Shape&, Problems&)>;
const std::map<std::string, EventRule>& event_rules() {
  static const std::map<std::string, EventRule> rules = {
      {"run_start",
       [](Shape& e, Problems& p) {
         run_identity(e, p);
         e.any("payload");
       }},
      {"run_resume", run_identity},
      {"run_end",
       [](Shape& e, Problems&) {
         e.string("runId");
         e.boolean("isError");
         e.number("durationMs");
       }},
      {"agent_start", [](Shape&, Problems&) {}},
      {"agent_end", [](Shape& e, Problems&) { e.array("messages"); }},
      {"turn_start",
       [](Shape& e, Problems&) {
         e.string("turnId");
         e.one_of("purpose", kPurposes);
       }},
      {"turn_request",
       [](Shape& e, Problems&) {
         e.string("turnId");
         e.one_of("purpose", kPurposes);
         e.string("model");
         e.string("provider");
         e.string("api");
         e.any("input");
       }},
      {"turn_end",
       [](Shape& e, Problems&) {
         e.string("turnId");
         e.one_of("purpose", kPurposes);
         e.any("message");
         e.array("toolResults");
       }},
      {"message_start", [](Shape& e, Problems&) { e.any("message"); }},
      {"message_update",
       [](Shape& e, Problems&) {
         e.any("message");
         e.any("assistantMessageEvent");
       }},
      {"message_end", [](Shape& e, Problems&) { e.any("message"); }},
      {"text_delta", [](Shape& e, Problems&) { e.string("text"); }},
      {"thinking_start", [](Shape&, Problems&) {}},
      {"thinking_delta", [](Shape& e, Problems&) { e.string("delta"); }},
      {"thinking_end", [](Shape& e, Problems&) { e.string("content"); }},
      {"tool_start",
       [](Shape& e, Problems&) {
         e.string("toolName");
         e.string("toolCallId");
       }},
      {"tool_call",
       [](Shape& e, Problems&) {
         e.string("toolName");
         e.string("toolCallId");
         e.boolean("isError");
         e.number("durationMs");
       }},
      {"turn",
       [](Shape& e, Problems& p) {
         e.string("turnId");
         e.one_of("purpose", kPurposes);
         e.number("durationMs");
         e.boolean("isError");
         e.optional_string("model");
         e.optional_string("provider");
         e.optional_string("stopReason");
         assistant_message(e, "output", p);
         usage(e, "usage", p);
       }},
      {"task_start",
       [](Shape& e, Problems&) {
         e.string("taskId");
         e.string("prompt");
       }},
      {"task",
       [](Shape& e, Problems&) {
         e.string("taskId");
         e.boolean("isError");
         e.number("durationMs");
       }},
      {"compaction_start",
       [](Shape& e, Problems&) {
         e.one_of("reason", {"threshold", "overflow", "manual"});
         e.number("estimatedTokens");
       }},
      {"compaction",
       [](Shape& e, Problems& p) {
         e.number("messagesBefore");
         e.number("messagesAfter");
         e.number("durationMs");
         usage(e, "usage", p);
       }},
      {"operation_start",
       [](Shape& e, Problems&) {
         e.string("operationId");
         e.one_of("operationKind", kOperationKinds);
       }},
      {"operation",
       [](Shape& e, Problems& p) {
         e.string("operationId");
         e.one_of("operationKind", kOperationKinds);
         e.number("durationMs");
         e.boolean("isError");
         usage(e, "usage", p);
       }},
      {"log",
       [](Shape& e, Problems&) {
         e.one_of("level", {"info", "warn", "error"});
         e.string("message");
         e.optional_object("attributes");
       }},
      {"idle", [](Shape&, Problems&) {}},
  };
  return rules;
}

// The base every event may carry, each of its own type when present.
void event_base(Shape& e) {
  for (const char* key : {"runId", "instanceId", "dispatchId", "timestamp", "session",
                          "parentSession", "taskId", "harness", "operationId", "turnId"}) {
    e.optional_string(key);
  }
  e.optional_number("eventIndex");
}

Problems any_event(const json& event, const std::string& path) {
  Problems problems;
  Shape e(event, path, problems);
  if (!e.ok()) return problems;
  e.string("type");
  event_base(e);
  if (!event.contains("type") || !event["type"].is_string()) return problems;
  const auto rule = event_rules().find(event["type"]);
  if (rule == event_rules().end()) {
    e.fail(e.at("type"), "is not a Flue event type: " + event["type"].dump());
    return problems;
  }
  rule->second(e, problems);
  return problems;
}

void append(Problems& to, const Problems& from) {
  to.insert(to.end(), from.begin(), from.end());
}

void owner(Shape& parent, Problems& problems, const std::string& run_id) {
  if (!parent.has("owner")) return parent.fail(parent.at("owner"), "is missing");
  Shape o(parent.at_key("owner"), parent.at("owner"), problems);
  o.literal("kind", "workflow");
  o.string("workflowName");
  o.literal("instanceId", run_id);
  o.only({"kind", "workflowName", "instanceId"});
}

}  // namespace

const std::vector<std::string>& agent_event_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    for (const auto& [type, unused] : event_rules()) {
      if (type.rfind("run_", 0) != 0) out.push_back(type);
    }
    return out;
  }();
  return types;
}

Problems agent_event(const json& event, const std::string& instance_id) {
  Problems problems = any_event(event, "event");
  Shape e(event, "event", problems);
  if (!e.ok()) return problems;
  if (event.contains("type") && event["type"].is_string() &&
      std::string(event["type"]).rfind("run_", 0) == 0) {
    e.fail(e.at("type"), "is a run event in an agent stream");
  }
  e.literal("instanceId", instance_id);
  e.absent("runId");
  return problems;
}

Problems run_event(const json& event, bool persisted) {
  Problems problems = any_event(event, "event");
  if (!persisted) return problems;
  Shape e(event, "event", problems);
  e.string("runId");
  e.number("eventIndex");
  if (e.has("eventIndex") && event["eventIndex"].is_number() &&
      (!event["eventIndex"].is_number_integer() || event["eventIndex"].get<int64_t>() < 0)) {
    e.fail(e.at("eventIndex"), "must be a safe non-negative integer");
  }
  return problems;
}

Problems public_error(const json& error) {
  Problems problems;
  Shape e(error, "error", problems);
  e.string("type");
  e.string("message");
  e.string("details");
  e.optional_string("dev");
  e.optional_object("meta");
  e.only({"type", "message", "details", "dev", "meta"});
  return problems;
}

Problems agent_stream_error(const json& data, const std::string& instance_id) {
  Problems problems;
  Shape d(data, "data", problems);
  d.literal("type", "error");
  d.literal("instanceId", instance_id);
  d.only({"type", "instanceId", "error"});
  if (d.has("error")) {
    append(problems, public_error(data["error"]));
  } else {
    d.fail(d.at("error"), "is missing");
  }
  return problems;
}

Problems agent_socket_message(const json& message, const std::string& name,
                              const std::string& instance_id) {
  Problems problems;
  Shape m(message, "message", problems);
  if (!m.ok()) return problems;
  m.literal("version", 1);
  m.string("type");
  m.absent("runId");
  const std::string type = message.value("type", "");
  if (type == "ready") {
    m.literal("target", "agent");
    m.literal("name", name);
    m.literal("instanceId", instance_id);
    m.only({"version", "type", "target", "name", "instanceId"});
  } else if (type == "started") {
    m.string("requestId");
    // submissionId and sequence are ours: the admitted submission.
    m.only({"version", "type", "requestId", "submissionId", "sequence"});
  } else if (type == "event") {
    m.string("requestId");
    m.only({"version", "type", "requestId", "event"});
    if (m.has("event"))
      append(problems, agent_event(message["event"], instance_id));
    else
      m.fail(m.at("event"), "is missing");
  } else if (type == "result") {
    m.string("requestId");
    m.any("result");
    m.only({"version", "type", "requestId", "result", "submissionId"});
  } else if (type == "pong") {
    m.optional_string("requestId");
    m.only({"version", "type", "requestId"});
  } else if (type == "error") {
    m.optional_string("requestId");
    m.only({"version", "type", "requestId", "error"});
    if (m.has("error"))
      append(problems, public_error(message["error"]));
    else
      m.fail(m.at("error"), "is missing");
  } else {
    m.fail(m.at("type"),
           "is not an agent socket message type: " + message.value("type", json()).dump());
  }
  return problems;
}

Problems workflow_socket_message(const json& message, const std::string& name) {
  Problems problems;
  Shape m(message, "message", problems);
  if (!m.ok()) return problems;
  m.literal("version", 1);
  m.string("type");
  const std::string type = message.value("type", "");
  if (type == "ready") {
    m.literal("target", "workflow");
    m.literal("name", name);
    m.only({"version", "type", "target", "name"});
  } else if (type == "started") {
    m.string("requestId");
    m.string("runId");
    m.only({"version", "type", "requestId", "runId"});
  } else if (type == "event") {
    m.string("requestId");
    m.string("runId");
    m.only({"version", "type", "requestId", "runId", "event"});
    if (m.has("event"))
      append(problems, run_event(message["event"], false));
    else
      m.fail(m.at("event"), "is missing");
  } else if (type == "result") {
    m.string("requestId");
    m.string("runId");
    m.any("result");
    m.only({"version", "type", "requestId", "runId", "result"});
  } else if (type == "error") {
    m.optional_string("requestId");
    m.optional_string("runId");
    m.only({"version", "type", "requestId", "runId", "error"});
    if (m.has("error"))
      append(problems, public_error(message["error"]));
    else
      m.fail(m.at("error"), "is missing");
  } else {
    m.fail(m.at("type"),
           "is not a workflow socket message type: " + message.value("type", json()).dump());
  }
  return problems;
}

Problems run_record(const json& record) {
  Problems problems;
  Shape r(record, "run", problems);
  if (!r.ok()) return problems;
  r.string("runId");
  owner(r, problems, record.value("runId", ""));
  r.one_of("status", {"active", "completed", "errored"});
  r.string("startedAt");
  r.optional_string("endedAt");
  r.optional_boolean("isError");
  r.optional_number("durationMs");
  if (record.value("status", "") == "active") {
    for (const char* key : {"endedAt", "isError", "durationMs", "result", "error"}) r.absent(key);
  } else {
    r.string("endedAt");
    r.boolean("isError");
    r.number("durationMs");
  }
  r.only({"runId", "owner", "status", "startedAt", "payload", "endedAt", "isError", "durationMs",
          "result", "error"});
  return problems;
}

Problems run_pointer(const json& summary) {
  Problems problems;
  Shape r(summary, "run", problems);
  if (!r.ok()) return problems;
  r.string("runId");
  owner(r, problems, summary.value("runId", ""));
  r.one_of("status", {"active", "completed", "errored"});
  r.string("startedAt");
  r.optional_string("endedAt");
  r.optional_number("durationMs");
  r.optional_boolean("isError");
  // error is ours: why an errored run failed.
  r.only({"runId", "owner", "status", "startedAt", "endedAt", "durationMs", "isError", "error"});
  return problems;
}

Problems agent_list(const json& body) {
  Problems problems;
  Shape b(body, "body", problems);
  b.array("items");
  b.only({"items"});
  if (!b.has("items") || !body["items"].is_array()) return problems;
  for (const auto& item : body["items"]) {
    Shape a(item, "items[]", problems);
    a.string("name");
    a.boolean("created");
    // model and source are ours.
    a.only({"name", "transports", "created", "model", "source"});
    if (!a.has("transports")) {
      a.fail(a.at("transports"), "is missing");
      continue;
    }
    Shape t(item["transports"], a.at("transports"), problems);
    t.only({"http", "websocket"});
    for (const char* transport : {"http", "websocket"}) {
      if (t.has(transport)) t.literal(transport, true);
    }
  }
  return problems;
}

Problems run_list(const json& body) {
  Problems problems;
  Shape b(body, "body", problems);
  b.array("items");
  b.optional_string("nextCursor");
  b.only({"items", "nextCursor"});
  if (!b.has("items") || !body["items"].is_array()) return problems;
  for (const auto& item : body["items"]) append(problems, run_pointer(item));
  return problems;
}

}  // namespace sluice::test::flue
