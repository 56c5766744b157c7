#pragma once
// Reading workflow runs, from any node (the store is the truth):
// GET /runs/:runId, /runs/:runId/events, /runs/:runId/stream (SSE, resumes
// after Last-Event-ID), GET /admin/runs (newest first, cursor pages) and
// GET /admin/runs/:runId.
#include <chrono>

#include "net/route_table.hpp"
#include "persistence/executor.hpp"
#include "workflows/run_hub.hpp"

namespace sluice::net {

struct RunRouteDeps {
  persistence::StorageExecutor* storage = nullptr;
  // Announces runs this node owns, so their streams need not wait for a poll.
  workflows::RunHub* hub = nullptr;
  // How often an open stream looks for events in the store.
  std::chrono::milliseconds poll_interval{250};
};

// The routes keep a poll thread; the table must go before the storage and hub.
void add_run_routes(RouteTable& table, RunRouteDeps deps);

}  // namespace sluice::net
