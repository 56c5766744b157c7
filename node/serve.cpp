#include "node/serve.hpp"

#include <sys/prctl.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "node/node.hpp"

namespace sluice::node {

void hide_provider_keys() {
  // The models and sandboxes have read what they need. The bytes are wiped
  // first: /proc/PID/environ shows the environment block the process started
  // with, whatever unsetenv does to the variable list.
  for (const char* secret : {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}) {
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
