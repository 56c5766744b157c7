#pragma once
// Answering a request from storage: the read runs on the storage thread (never
// on an io thread) and the response is posted back through the Responder.
#include <functional>
#include <memory>

#include "net/http_types.hpp"
#include "persistence/executor.hpp"

namespace sluice::net {

void respond_from_storage(persistence::StorageExecutor& storage,
                          std::shared_ptr<Responder> responder,
                          std::function<HttpResponse(persistence::Transaction&)> work);

}  // namespace sluice::net
