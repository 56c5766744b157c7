#pragma once
// Tools written as C++ functions, for agents defined in code:
//
//   auto tools = std::make_shared<FunctionTools>();
//   tools->add({"add_note", "Remember a note.", schema},
//              [notes](const nlohmann::json& args) -> ToolOutcome { ... });
//
// A function that throws gives the model an error result with the message.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/tool_box.hpp"

namespace sluice::harness {

class FunctionTools : public ToolBox {
 public:
  using Function = std::function<ToolOutcome(const nlohmann::json& args)>;

  // Adding is for set-up: not thread-safe against calls.
  void add(ToolSpec spec, Function function);

  const std::vector<ToolSpec>& specs() const override { return specs_; }
  ToolOutcome call(const std::string& name, const std::string& args_json) override;

 private:
  std::vector<ToolSpec> specs_;
  std::vector<Function> functions_;  // in the order of specs_
};

}  // namespace sluice::harness
