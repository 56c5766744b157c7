#pragma once
// The tools an agent's model may call, as the session actor sees them: their
// specs (sent with every turn) and a blocking call. Calls run on the
// ToolRunner's threads, never on an actor or io thread.
#include <memory>
#include <string>
#include <vector>

#include "harness/model.hpp"

namespace sluice::harness {

struct ToolOutcome {
  std::string content;  // what the model is shown
  bool is_error = false;
};

class ToolBox {
 public:
  virtual ~ToolBox() = default;
  virtual const std::vector<ToolSpec>& specs() const = 0;
  // Never throws: an unknown tool or bad arguments come back as is_error.
  virtual ToolOutcome call(const std::string& name, const std::string& args_json) = 0;
};

}  // namespace sluice::harness
