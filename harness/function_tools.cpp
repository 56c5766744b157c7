#include "harness/function_tools.hpp"

#include <exception>
#include <stdexcept>

#include "core/untrusted_json.hpp"

namespace sluice::harness {

void FunctionTools::add(ToolSpec spec, Function function) {
  for (const auto& existing : specs_) {
    if (existing.name == spec.name) {
      throw std::invalid_argument("a tool named \"" + spec.name + "\" is already defined");
    }
  }
  specs_.push_back(std::move(spec));
  functions_.push_back(std::move(function));
}

ToolOutcome FunctionTools::call(const std::string& name, const std::string& args_json) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name != name) continue;
    const auto args = parse_untrusted_json(args_json).value;
    if (args.is_discarded() || !args.is_object()) {
      return {"The arguments of " + name + " must be a JSON object, got: " + args_json, true};
    }
    try {
      return functions_[i](args);
    } catch (const std::exception& error) {
      return {name + " failed: " + error.what(), true};
    }
  }
  return {"There is no tool named \"" + name + "\".", true};
}

}  // namespace sluice::harness
