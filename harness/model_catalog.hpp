#pragma once
// The models Sluice knows, by "provider/model" name. A provider plugs in with
// one row in the catalog table (model_catalog.cpp); nothing else dispatches on
// model names. validate_model (model_runtime.hpp) reads the same table.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/model.hpp"
#include "harness/runtime_context.hpp"

namespace sluice::harness {

// Validates like validate_model, then builds the model. Throws ModelConfigError.
std::shared_ptr<Model> make_catalog_model(const RuntimeContext& runtime, const std::string& model,
                                          const nlohmann::json& options);

}  // namespace sluice::harness
