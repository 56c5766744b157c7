#pragma once
// The coordinator: keeps this node's lease alive (one row per node, so the cost
// does not grow with idle sessions), reconciles at start-up and keeps scanning
// for sessions whose owner is gone, handing each to the router, whose session
// actor then applies PROTOCOL.md's recovery rules. In a cluster it also reads
// the membership at every renewal and tells the router when the live members
// change (and scans for orphans at once, since a member may just have died).
// A lease that lapsed (the node was paused or cut off) is taken up again under
// the same incarnation: whatever others claimed meanwhile is fenced against us.
// With each scan it also ends the workflow runs whose node is gone (they are
// never replayed), and with a retention set it purges old settled work.
//
// Messages: (shutdown_atom) -> stops the timers and replies once the node row
// is removed.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/session_context.hpp"

namespace sluice::actors {

struct CoordinatorOptions {
  std::chrono::milliseconds lease{3000};          // how long a node's lease lasts
  std::chrono::milliseconds renew_every{1000};    // renewal period
  std::chrono::milliseconds reclaim_every{1000};  // orphan scan period
  int reclaim_batch = 500;                        // sessions handed over per scan
  bool cluster = false;                           // read and publish the membership
  int interrupted_batch = 100;                    // lost nodes' runs ended per scan
  // Settled submissions, idempotency keys and ended runs older than this are
  // purged (history stays); zero keeps everything.
  std::chrono::milliseconds retention{0};
  std::chrono::milliseconds purge_every{3'600'000};  // with a retention: purge period
  // A run of a lost node was ended here, its run_end at last_index, so this
  // node's readers of it can finish. Called on a CAF thread: must not block.
  std::function<void(const std::string& run_id, int64_t last_index)> on_run_ended;
};

// Shared with /readyz: true while the node holds its lease and storage answers.
struct NodeHealth {
  std::atomic<bool> lease_held{false};
  std::atomic<bool> storage_ok{false};
  std::atomic<bool> joined{false};  // a live member of the cluster (always true on one node)

  // The live members as this node last saw them (node ids), for /admin/cluster.
  void set_view(std::vector<std::string> node_ids) {
    std::lock_guard lock(view_mutex_);
    view_ = std::move(node_ids);
  }
  std::vector<std::string> view() const {
    std::lock_guard lock(view_mutex_);
    return view_;
  }

 private:
  mutable std::mutex view_mutex_;
  std::vector<std::string> view_;
};

caf::actor spawn_coordinator(caf::actor_system& system, SessionContextPtr context,
                             caf::actor router, CoordinatorOptions options,
                             std::shared_ptr<NodeHealth> health);

}  // namespace sluice::actors
