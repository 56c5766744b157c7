#pragma once
// Where models run: a small asio io_context on its own thread, for timers
// (sluice/echo's delay) and, later, provider HTTP clients. Never a CAF or
// front-end thread.
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/agent_definition.hpp"
#include "harness/model.hpp"

namespace sluice::harness {

struct ModelConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ModelRuntime {
 public:
  ModelRuntime();
  ~ModelRuntime();  // stops the thread
  ModelRuntime(const ModelRuntime&) = delete;
  ModelRuntime& operator=(const ModelRuntime&) = delete;

  // Builds the model an agent names ("sluice/echo", ...). Throws ModelConfigError
  // naming the problem (unknown provider, bad option) so project loading can
  // report it with the file and key.
  std::shared_ptr<Model> make_model(const std::string& model, const nlohmann::json& options);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::harness
