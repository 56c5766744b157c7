#pragma once
// Where models run: a small asio io_context on its own thread, for timers
// (sluice/echo's delay) and the provider HTTP clients (providers.hpp). Never a
// CAF or front-end thread.
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "harness/agent_definition.hpp"
#include "harness/model.hpp"

namespace sluice::harness {

struct ProviderSettings;

// what() begins with the key it is about: "model: ..." or "model_options.delay_ms: ...".
struct ModelConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
  ModelConfigError(std::string key, std::string problem)
      : std::runtime_error(key + ": " + problem),
        key_(std::move(key)),
        problem_(std::move(problem)) {}

  // Both empty when built from a single message.
  const std::string& key() const { return key_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string key_;
  std::string problem_;
};

// Checks that `model` names a known model and that `options` ([model_options], an
// object or null) suit it, without building anything. Throws ModelConfigError.
void validate_model(const std::string& model, const nlohmann::json& options);

// Models it makes must not start turns once it is destroyed. Destruction stops the
// thread: pending turns are dropped without calling their observers, and a turn
// being delivered at that moment makes no further observer call after the one
// in progress. Never destroy it from inside an observer callback.
class ModelRuntime {
 public:
  // Reads the providers' keys, base URLs and proxy from the environment, once.
  ModelRuntime();
  explicit ModelRuntime(const ProviderSettings& providers);
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
