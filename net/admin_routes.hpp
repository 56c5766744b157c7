#pragma once
// GET /admin/cluster: the members (live or expired), what each owns and how
// much unsettled work that holds, read from the shared database, so every node
// gives the same answer. On a single node it lists that node alone.
// GET /admin/agents: the agents this node serves and their transports.
// GET /admin/sessions/:name/:id: one instance's sessions, read from storage.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/project_view.hpp"
#include "net/route_table.hpp"
#include "persistence/executor.hpp"

namespace sluice::net {

struct AdminServices {
  persistence::StorageExecutor* storage = nullptr;
  std::string self_node_id;
  bool cluster = false;
  int64_t lease_ms = 0;
  std::function<std::vector<std::string>()> view;  // this node's live members
  const harness::ProjectView* project = nullptr;  // its agents, by name
};

void add_admin_routes(RouteTable& table, AdminServices services);

}  // namespace sluice::net
