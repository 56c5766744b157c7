#include "sandbox/tool_arguments.hpp"

namespace sluice::sandbox {
namespace {

using nlohmann::json;

bool present(const json& arguments, const std::string& name) {
  auto it = arguments.find(name);
  return it != arguments.end() && !it->is_null();
}

std::string quoted(const std::string& name) {
  return "\"" + name + "\"";
}

bool is_negative(const json& integer) {
  return !integer.is_number_unsigned() && integer.get<int64_t>() < 0;
}

// a < b for JSON integers. nlohmann's own comparison converts an unsigned
// number to signed first, which makes 2^64-1 smaller than 1.
bool less_than(const json& a, const json& b) {
  if (is_negative(a) != is_negative(b)) return is_negative(a);
  if (is_negative(a)) return a.get<int64_t>() < b.get<int64_t>();
  return a.get<uint64_t>() < b.get<uint64_t>();
}

// The problem with one present value, or "".
std::string value_problem(const std::string& name, const json& property, const json& value) {
  const std::string type = property.value("type", "");
  if (type == "string" && !value.is_string()) return quoted(name) + " must be a string";
  if (type == "boolean" && !value.is_boolean()) return quoted(name) + " must be true or false";
  if (type == "integer") {
    if (!value.is_number_integer()) return quoted(name) + " must be an integer";
    if (property.contains("minimum") && less_than(value, property["minimum"])) {
      return quoted(name) + " must be at least " + property["minimum"].dump();
    }
    if (property.contains("maximum") && less_than(property["maximum"], value)) {
      return quoted(name) + " must be at most " + property["maximum"].dump();
    }
  }
  return {};
}

}  // namespace

std::string argument_problem(const json& schema, const json& arguments) {
  if (!arguments.is_object()) return "the arguments must be a JSON object";
  const json& properties = schema.at("properties");
  for (const json& required : schema.value("required", json::array())) {
    if (!present(arguments, required)) return quoted(required) + " is required";
  }
  for (const auto& [name, value] : arguments.items()) {
    auto property = properties.find(name);
    if (property == properties.end()) {
      std::string expected;
      for (const auto& [known, ignored] : properties.items()) {
        expected += (expected.empty() ? "" : ", ") + known;
      }
      return "unknown argument " + quoted(name) + " (expected: " + expected + ")";
    }
    if (value.is_null()) continue;
    std::string problem = value_problem(name, *property, value);
    if (!problem.empty()) return problem;
  }
  return {};
}

std::string string_argument(const json& arguments, const char* name, const std::string& fallback) {
  return present(arguments, name) ? arguments[name].get<std::string>() : fallback;
}

int64_t integer_argument(const json& arguments, const char* name, int64_t fallback) {
  return present(arguments, name) ? arguments[name].get<int64_t>() : fallback;
}

}  // namespace sluice::sandbox
