#include "net/storage_reads.hpp"

#include "net/responses.hpp"

namespace sluice::net {

void respond_from_storage(persistence::StorageExecutor& storage,
                          std::shared_ptr<Responder> responder,
                          std::function<HttpResponse(persistence::Transaction&)> work) {
  storage.submit<HttpResponse>(
      [work = std::move(work)](persistence::Transaction& txn) { return work(txn); },
      [responder](persistence::StorageResult<HttpResponse> result) {
        if (auto* response = std::get_if<HttpResponse>(&result)) {
          responder->respond(std::move(*response));
        } else {
          responder->respond(error_response(make_error("unavailable", "Storage is unavailable.")));
        }
      });
}

}  // namespace sluice::net
