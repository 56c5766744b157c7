#include "node/node_config.hpp"

#include <unistd.h>

#include <charconv>
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

 private:
  const std::function<const char*(const char*)>& lookup_;
};

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') return "sluice-node";
  return buffer;
}

}  // namespace

NodeConfig NodeConfig::from_environment(const std::function<const char*(const char*)>& lookup) {
  const Reader env(lookup);
  NodeConfig config;
  config.database_url = env.text("DATABASE_URL", "");
  config.auth_token = env.text("SLUICE_AUTH_TOKEN", "");
  config.node_id = env.text("SLUICE_NODE_ID", host_name());
  config.log_level = env.text("SLUICE_LOG_LEVEL", "info");

  config.http.host = env.text("HOST", "127.0.0.1");
  config.http.port = static_cast<uint16_t>(env.integer("PORT", 3000, 0, 65535));
  config.http.max_body_bytes =
      static_cast<size_t>(env.integer("SLUICE_MAX_BODY_BYTES", 1 << 20, 1, 1LL << 30));
  config.http.header_timeout = env.millis("SLUICE_HEADER_TIMEOUT_MS", config.http.header_timeout);
  config.http.idle_timeout = env.millis("SLUICE_IDLE_TIMEOUT_MS", config.http.idle_timeout);
  config.http.io_threads = static_cast<int>(env.integer("SLUICE_IO_THREADS", 1, 1, 64));
  config.actor_threads = static_cast<size_t>(env.integer("SLUICE_ACTOR_THREADS", 2, 1, 64));

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
  return config;
}

}  // namespace sluice::node
