#include "harness/agent_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "harness/model_runtime.hpp"
#include "harness/project.hpp"
#include "harness/toml_values.hpp"

namespace sluice::harness {
namespace {

constexpr std::string_view kExposeExpectation = R"(an array of strings ("http", "websocket"))";

[[noreturn]] void wrong_type(const std::string& key, std::string_view expected,
                             const toml::node& value) {
  throw TomlValueError(key, "expected " + std::string(expected) + ", got " + toml_type_name(value));
}

std::string string_value(const std::string& key, const toml::node& value) {
  const auto* text = value.as_string();
  if (text == nullptr) wrong_type(key, "a string", value);
  return text->get();
}

void apply_model(const toml::node& value, AgentDefinition& agent) {
  agent.model = string_value("model", value);
}

void apply_instructions(const toml::node& value, AgentDefinition& agent) {
  agent.instructions = string_value("instructions", value);
}

void apply_expose(const toml::node& value, AgentDefinition& agent) {
  const Transports transports = parse_expose(value);
  agent.expose_http = transports.http;
  agent.expose_websocket = transports.websocket;
}

void apply_model_options(const toml::node& value, AgentDefinition& agent) {
  if (!value.is_table()) wrong_type("model_options", "a table", value);
  agent.model_options = toml_to_json(value, "model_options");
}

void apply_tools(const toml::node& value, AgentDefinition& agent) {
  const auto* names = value.as_array();
  if (names == nullptr) wrong_type("tools", "an array of tool names", value);
  agent.tools.emplace();
  for (const auto& name : *names) agent.tools->push_back(string_value("tools", name));
}

int64_t bounded_integer(const std::string& key, const toml::node& value, int64_t low,
                        int64_t high) {
  const auto* number = value.as_integer();
  if (number == nullptr || number->get() < low || number->get() > high) {
    wrong_type(key, "a whole number from " + std::to_string(low) + " to " + std::to_string(high),
               value);
  }
  return number->get();
}

void apply_max_turns(const toml::node& value, AgentDefinition& agent) {
  agent.max_turns = static_cast<int>(bounded_integer("max_turns", value, 1, 1000));
}

void apply_timeout(const toml::node& value, AgentDefinition& agent) {
  agent.timeout_s = bounded_integer("timeout_s", value, 1, 7 * 86'400);
}

void apply_max_attempts(const toml::node& value, AgentDefinition& agent) {
  agent.max_attempts = static_cast<int>(bounded_integer("max_attempts", value, 1, 100));
}

void apply_sandbox(const toml::node& value, AgentDefinition& agent) {
  const auto* table = value.as_table();
  if (table == nullptr) wrong_type("sandbox", "a table", value);
  SandboxDefinition& sandbox = agent.sandbox;
  for (const auto& [key, item] : *table) {
    const std::string name(key.str());
    const std::string dotted = "sandbox." + name;
    if (name == "kind") {
      sandbox.kind = string_value(dotted, item);
      if (sandbox.kind != "none" && sandbox.kind != "local" && sandbox.kind != "remote") {
        throw TomlValueError(
            dotted, "expected \"none\", \"local\" or \"remote\", got \"" + sandbox.kind + "\"");
      }
    } else if (name == "cwd") {
      sandbox.cwd = string_value(dotted, item);
    } else if (name == "isolation") {
      sandbox.isolation = string_value(dotted, item);
      if (sandbox.isolation != "auto" && sandbox.isolation != "bubblewrap" &&
          sandbox.isolation != "none") {
        throw TomlValueError(dotted, "expected \"auto\", \"bubblewrap\" or \"none\", got \"" +
                                         sandbox.isolation + "\"");
      }
    } else if (name == "url") {
      sandbox.url = string_value(dotted, item);
    } else if (name == "token") {
      sandbox.token = string_value(dotted, item);
    } else if (name == "env") {
      const auto* env = item.as_table();
      if (env == nullptr) wrong_type(dotted, "a table of strings", item);
      for (const auto& [variable, text] : *env) {
        sandbox.env[std::string(variable.str())] =
            string_value(dotted + "." + std::string(variable.str()), text);
      }
    } else {
      throw TomlValueError(dotted,
                           "unknown key; known keys: kind, cwd, isolation, env, url, token");
    }
  }
  if (sandbox.kind == "remote" && sandbox.url.empty()) {
    throw TomlValueError("sandbox.url", "a remote sandbox needs the url of its server");
  }
}

struct KeyRule {
  std::string_view key;
  void (*apply)(const toml::node& value, AgentDefinition& agent);
  std::string_view when_missing;  // the problem to report if absent; empty: optional
};

// Every top-level key an agent file may hold; anything else is rejected, so a
// typo never passes silently. A new key is one row here.
constexpr KeyRule kKeys[] = {
    {"model", apply_model, R"(missing; every agent needs one, e.g. model = "sluice/echo")"},
    {"instructions", apply_instructions, ""},
    {"expose", apply_expose, ""},
    {"model_options", apply_model_options, ""},
    {"tools", apply_tools, ""},
    {"max_turns", apply_max_turns, ""},
    {"timeout_s", apply_timeout, ""},
    {"max_attempts", apply_max_attempts, ""},
    {"sandbox", apply_sandbox, ""},
};

const KeyRule* find_rule(std::string_view key) {
  for (const auto& rule : kKeys) {
    if (rule.key == key) return &rule;
  }
  return nullptr;
}

std::string known_keys() {
  std::string list;
  for (const auto& rule : kKeys) {
    if (!list.empty()) list += ", ";
    list += rule.key;
  }
  return list;
}

void apply_keys(const toml::table& table, AgentDefinition& agent) {
  for (const auto& [key, value] : table) {
    const KeyRule* rule = find_rule(key.str());
    if (rule == nullptr) {
      throw TomlValueError(std::string(key.str()), "unknown key; known keys: " + known_keys());
    }
    rule->apply(value, agent);
  }
  for (const auto& rule : kKeys) {
    if (!rule.when_missing.empty() && !table.contains(rule.key)) {
      throw TomlValueError(std::string(rule.key), std::string(rule.when_missing));
    }
  }
}

void validate_agent_model(const AgentDefinition& agent) {
  try {
    validate_model(agent.model, agent.model_options);
  } catch (const ModelConfigError& error) {
    // A model that reports without a key is reporting about the model itself.
    if (error.key().empty()) throw TomlValueError("model", error.what());
    throw TomlValueError(error.key(), error.problem());
  }
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ProjectError(file.string() + ": cannot read the file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

toml::table parse_toml_file(const std::filesystem::path& file) {
  const std::string text = read_text(file);
  try {
    return toml::parse(text, file.string());
  } catch (const toml::parse_error& error) {
    throw ProjectError(file.string() + ": TOML syntax error at line " +
                       std::to_string(error.source().begin.line) + ", column " +
                       std::to_string(error.source().begin.column) + ": " +
                       std::string(error.description()));
  }
}

Transports parse_expose(const toml::node& value) {
  Transports result;
  const auto* transports = value.as_array();
  if (transports == nullptr) wrong_type("expose", kExposeExpectation, value);
  for (const auto& transport : *transports) {
    const auto* text = transport.as_string();
    if (text == nullptr) wrong_type("expose", kExposeExpectation, transport);
    if (text->get() == "http") {
      result.http = true;
    } else if (text->get() == "websocket") {
      result.websocket = true;
    } else {
      throw TomlValueError("expose", "unknown transport \"" + text->get() + "\"; expected " +
                                         std::string(kExposeExpectation));
    }
  }
  return result;
}

AgentDefinition load_agent_file(const std::filesystem::path& file, const std::string& name) {
  const toml::table table = parse_toml_file(file);
  AgentDefinition agent;
  agent.name = name;
  agent.source_file = file.string();
  try {
    apply_keys(table, agent);
    validate_agent_model(agent);
  } catch (const TomlValueError& error) {
    throw ProjectError(file.string() + ": key '" + error.key + "': " + error.problem);
  }
  return agent;
}

}  // namespace sluice::harness
