#include "harness/toml_values.hpp"

#include <cmath>

namespace sluice::harness {

std::string toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

nlohmann::json toml_to_json(const toml::node& node, const std::string& key) {
  if (const auto* table = node.as_table()) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& [name, value] : *table) {
      object[std::string(name.str())] = toml_to_json(value, key + "." + std::string(name.str()));
    }
    return object;
  }
  if (const auto* array = node.as_array()) {
    nlohmann::json items = nlohmann::json::array();
    for (size_t i = 0; i < array->size(); ++i) {
      items.push_back(toml_to_json((*array)[i], key + "[" + std::to_string(i) + "]"));
    }
    return items;
  }
  if (const auto* text = node.as_string()) return text->get();
  if (const auto* integer = node.as_integer()) return integer->get();
  if (const auto* boolean = node.as_boolean()) return boolean->get();
  if (const auto* number = node.as_floating_point()) {
    if (!std::isfinite(number->get())) throw TomlValueError(key, "nan and inf have no JSON form");
    return number->get();
  }
  throw TomlValueError(key, toml_type_name(node) + " values are not supported here; use a string");
}

}  // namespace sluice::harness
