#pragma once
// /healthz (process alive), /readyz (storage reachable and lease held),
// /metrics (Prometheus text).
#include <functional>

#include <nlohmann/json.hpp>

#include "core/metrics.hpp"
#include "net/route_table.hpp"

namespace sluice::net {

struct Readiness {
  bool ready = false;
  nlohmann::json checks;  // {"storage": true, "lease": false, ...}
};

struct OperationalServices {
  std::function<Readiness()> readiness;
  const Metrics* metrics = nullptr;
};

void add_operational_routes(RouteTable& table, OperationalServices services);

}  // namespace sluice::net
