#include "node/serve.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "node/agent_tools.hpp"
#include "node/node.hpp"

extern char** environ;

namespace sluice::node {
namespace {

// Read once at start-up into the server's memory, and needed by nobody's
// getenv afterwards: these leave the environment altogether.
constexpr const char* kSecrets[] = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SLUICE_AUTH_TOKEN",
                                    "SLUICE_CLUSTER_SECRET", "DATABASE_URL"};

// The initial environment block [env_start, env_end) from /proc/self/stat
// (fields 50 and 51): what /proc/PID/environ shows, whatever setenv and
// unsetenv did to the variable list since.
bool environment_block(uintptr_t& start, uintptr_t& end) {
  std::ifstream in("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(stat.substr(close + 2));  // from field 3 on
  std::string field;
  for (int number = 3; fields >> field; ++number) {
    if (number == 50) start = std::stoull(field);
    if (number == 51) {
      end = std::stoull(field);
      return start != 0 && end > start;
    }
  }
  return false;
}

}  // namespace

void hide_provider_keys() {
  remember_server_files();
  // Variables still pointing into the initial block move to the heap first
  // (one pointer store each, so a concurrent getenv sees the old string or
  // the new one), then the block is zeroed.
  uintptr_t start = 0, end = 0;
  if (environment_block(start, end)) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const auto at = reinterpret_cast<uintptr_t>(*entry);
      if (at >= start && at < end) *entry = ::strdup(*entry);  // lives as long as the process
    }
    std::memset(reinterpret_cast<void*>(start), 0, end - start);
  } else {
    spdlog::warn("cannot find the initial environment block; only the secrets are wiped");
  }
  for (const char* secret : kSecrets) {
    if (char* value = std::getenv(secret)) std::memset(value, 0, std::strlen(value));
    unsetenv(secret);
  }
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int serve_until_stopped(NodeConfig config, const StartedHook& on_started) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  spdlog::set_level(spdlog::level::from_str(config.log_level));
  Node node(std::move(config));
  node.start();
  hide_provider_keys();
  std::shared_ptr<void> companion = on_started ? on_started(node) : nullptr;
  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("received {}, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
  companion.reset();
  node.stop();
  return 0;
}

}  // namespace sluice::node
