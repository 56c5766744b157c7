#pragma once
// The workflow socket of PROTOCOL.md (GET /workflows/:name + Upgrade): one
// `invoke` starts one run; the socket answers started (runId), the run's
// events, then result or a run-scoped error, and closes. A closed socket drops
// the answers; the run goes on.
#include <memory>
#include <string>

#include "net/http_types.hpp"
#include "workflows/run_service.hpp"

namespace sluice::net {

struct WorkflowSocketTarget {
  workflows::RunStarter* runs = nullptr;
  std::string workflow;
  size_t max_frame_bytes = 1 << 20;
};

// Sends `ready` and returns the handler of the socket's frames.
std::shared_ptr<WebSocketHandler> open_workflow_socket(std::shared_ptr<WebSocket> socket,
                                                       WorkflowSocketTarget target);

}  // namespace sluice::net
