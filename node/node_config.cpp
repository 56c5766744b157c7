#include "node/node_config.hpp"

#include "core/text.hpp"
#include "persistence/open_database.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace sluice::node {
namespace {

class Reader {
 public:
  explicit Reader(const std::function<const char*(const char*)>& lookup) : lookup_(lookup) {}

  std::string text(const char* name, std::string fallback) const {
    const char* value = lookup_(name);
    return value ? std::string(value) : std::move(fallback);
  }

  int64_t integer(const char* name, int64_t fallback, int64_t min, int64_t max) const {
    const char* value = lookup_(name);
    if (value == nullptr || *value == '\0') return fallback;
    int64_t parsed = 0;
    const std::string_view view(value);
    auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), parsed);
    if (ec != std::errc() || end != view.data() + view.size() || parsed < min || parsed > max) {
      throw ConfigError(std::string(name) + "='" + value + "': expected an integer from " +
                        std::to_string(min) + " to " + std::to_string(max));
    }
    return parsed;
  }

  std::chrono::milliseconds millis(const char* name, std::chrono::milliseconds fallback) const {
    return std::chrono::milliseconds(integer(name, fallback.count(), 1, 86'400'000));
  }

  // A number of days, decimals allowed ("0.5" is twelve hours), as
  // milliseconds; unset, empty or 0 gives zero.
  std::chrono::milliseconds days(const char* name, double max) const {
    const char* value = lookup_(name);
    if (value == nullptr || *value == '\0') return std::chrono::milliseconds(0);
    double parsed = 0;
    const std::string_view view(value);
    auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), parsed,
                                     std::chars_format::fixed);
    if (ec != std::errc() || end != view.data() + view.size() || !(parsed >= 0) ||
        parsed > max) {
      throw ConfigError(std::string(name) + "='" + value +
                        "': expected a number of days from 0 to " +
                        std::to_string(static_cast<int64_t>(max)) + " (decimals allowed)");
    }
    const int64_t ms = std::llround(parsed * 86'400'000.0);
    return std::chrono::milliseconds(parsed > 0 ? std::max<int64_t>(ms, 1) : 0);
  }

 private:
  const std::function<const char*(const char*)>& lookup_;
};

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') return "sluice-node";
  return buffer;
}

// The first IPv4 address of an interface that is up and not loopback: what
// other containers or hosts on the cluster network reach this one on.
std::string own_ipv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found = "127.0.0.1";
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET) continue;
    if ((it->ifa_flags & IFF_UP) == 0 || (it->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* address = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    if (inet_ntop(AF_INET, &address->sin_addr, text, sizeof text)) {
      found = text;
      break;
    }
  }
  freeifaddrs(list);
  return found;
}

ClusterConfig read_cluster(const Reader& env, const std::string& database_url) {
  ClusterConfig cluster;
  cluster.secret = env.text("SLUICE_CLUSTER_SECRET", "");
  cluster.enabled = !cluster.secret.empty();
  cluster.port = static_cast<uint16_t>(env.integer("SLUICE_CLUSTER_PORT", 4100, 1, 65535));
  cluster.heartbeat = env.millis("SLUICE_CLUSTER_HEARTBEAT_MS", cluster.heartbeat);
  cluster.forward_timeout = env.millis("SLUICE_FORWARD_TIMEOUT_MS", cluster.forward_timeout);
  if (!cluster.enabled) return cluster;
  if (cluster.secret.size() < 16) {
    throw ConfigError("SLUICE_CLUSTER_SECRET must be at least 16 characters long");
  }
  if (persistence::is_in_memory(database_url)) {
    throw ConfigError(
        "SLUICE_CLUSTER_SECRET is set but DATABASE_URL is not: the nodes of a cluster share "
        "one database (postgres://...)");
  }
  cluster.advertise =
      env.text("SLUICE_ADVERTISE", own_ipv4() + ":" + std::to_string(cluster.port));
  const auto colon = cluster.advertise.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == cluster.advertise.size()) {
    throw ConfigError("SLUICE_ADVERTISE='" + cluster.advertise + "': expected host:port");
  }
  std::string host = cluster.advertise.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  cluster.bind_host = env.text("SLUICE_CLUSTER_BIND", host);
  return cluster;
}

// Half the process's descriptor limit, so that storage, peers, tool commands
// and the log keep descriptors when clients take all they may; at most 10,000.
int64_t default_max_connections() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 10'000;
  return std::clamp<int64_t>(static_cast<int64_t>(limit.rlim_cur / 2), 16, 10'000);
}

}  // namespace

NodeConfig NodeConfig::from_environment(const std::function<const char*(const char*)>& lookup) {
  const Reader env(lookup);
  NodeConfig config;
  config.database_url = env.text("DATABASE_URL", "");
  config.auth_token = env.text("SLUICE_AUTH_TOKEN", "");
  config.allowed_origins = split_comma_list(env.text("SLUICE_ALLOWED_ORIGINS", ""));
  config.node_id = env.text("SLUICE_NODE_ID", host_name());
  config.log_level = env.text("SLUICE_LOG_LEVEL", "info");

  config.http.host = env.text("HOST", "127.0.0.1");
  config.http.port = static_cast<uint16_t>(env.integer("PORT", 3000, 0, 65535));
  config.http.max_body_bytes =
      static_cast<size_t>(env.integer("SLUICE_MAX_BODY_BYTES", 1 << 20, 1, 1LL << 30));
  config.http.header_timeout = env.millis("SLUICE_HEADER_TIMEOUT_MS", config.http.header_timeout);
  config.http.idle_timeout = env.millis("SLUICE_IDLE_TIMEOUT_MS", config.http.idle_timeout);
  config.http.io_threads = static_cast<int>(env.integer("SLUICE_IO_THREADS", 1, 1, 64));
  config.http.max_connections = static_cast<size_t>(
      env.integer("SLUICE_MAX_CONNECTIONS", default_max_connections(), 1, 1'000'000));
  config.actor_threads = static_cast<size_t>(env.integer("SLUICE_ACTOR_THREADS", 2, 1, 64));
  config.workflow_threads =
      static_cast<size_t>(env.integer("SLUICE_WORKFLOW_THREADS", 16, 1, 1024));
  config.tool_threads = static_cast<size_t>(env.integer("SLUICE_TOOL_THREADS", 4, 1, 1024));

  auto& limits = config.limits;
  limits.max_queue_depth =
      static_cast<size_t>(env.integer("SLUICE_MAX_QUEUE_DEPTH", 10'000, 1, 10'000'000));
  limits.node_admission_limit = env.integer("SLUICE_NODE_ADMISSION_LIMIT", 100'000, 1, 100'000'000);
  limits.max_attempts = static_cast<int>(env.integer("SLUICE_MAX_ATTEMPTS", 3, 1, 100));
  limits.submission_timeout_ms =
      env.integer("SLUICE_SUBMISSION_TIMEOUT_MS", 600'000, 1, 7 * 86'400'000LL);
  limits.idle_passivate_ms = env.integer("SLUICE_SESSION_IDLE_MS", 30'000, 1, 86'400'000);
  limits.shutdown_grace_ms = env.integer("SLUICE_SHUTDOWN_GRACE_MS", 5'000, 0, 600'000);
  limits.retry_base_delay_ms = env.integer("SLUICE_RETRY_BASE_DELAY_MS", 500, 1, 600'000);

  auto& coordinator = config.coordinator;
  coordinator.lease = env.millis("SLUICE_LEASE_MS", coordinator.lease);
  coordinator.renew_every = env.millis("SLUICE_LEASE_RENEW_MS", coordinator.renew_every);
  coordinator.reclaim_every = env.millis("SLUICE_RECLAIM_INTERVAL_MS", coordinator.reclaim_every);
  if (coordinator.renew_every >= coordinator.lease) {
    throw ConfigError("SLUICE_LEASE_RENEW_MS must be shorter than SLUICE_LEASE_MS");
  }
  coordinator.retention = env.days("SLUICE_RETENTION_DAYS", 36'500);
  coordinator.purge_every = env.millis("SLUICE_RETENTION_INTERVAL_MS", coordinator.purge_every);
  config.cluster = read_cluster(env, config.database_url);
  coordinator.cluster = config.cluster.enabled;
  // Long enough for a holder to reach a turn boundary and hand over, or for a
  // dead holder's lease to run out.
  limits.claim_patience_ms = coordinator.lease.count() + limits.shutdown_grace_ms + 2'000;
  limits.forward_timeout_ms = config.cluster.forward_timeout.count();
  return config;
}

}  // namespace sluice::node
