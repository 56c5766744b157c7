#pragma once
// A small pool of threads for tool calls, which block (child processes, file
// I/O, remote sandboxes). The callback runs on the pool thread; callers hand
// it back to their actor.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "harness/tool_box.hpp"

namespace sluice::harness {

class ToolRunner {
 public:
  explicit ToolRunner(size_t threads);
  ~ToolRunner();  // waits for running calls; queued ones still run
  ToolRunner(const ToolRunner&) = delete;
  ToolRunner& operator=(const ToolRunner&) = delete;

  void run(std::shared_ptr<ToolBox> tools, std::string name, std::string args_json,
           std::function<void(ToolOutcome)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::harness
