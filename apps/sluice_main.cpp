// The sluice command line: `sluice serve` runs one node.
#include <sys/prctl.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "node/node.hpp"

namespace {

int serve(const std::string& project_dir) {
  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  sluice::node::NodeConfig config = sluice::node::NodeConfig::from_environment(
      [](const char* name) { return std::getenv(name); });
  config.project_dir = project_dir;
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  sluice::node::Node node(std::move(config));
  node.start();
  // The models and sandboxes have read what they need: provider keys leave the
  // environment, and the process becomes non-dumpable, so a shell command run
  // by an agent can read them neither from its environment nor from /proc.
  // Their bytes are wiped first: /proc/PID/environ shows the environment block
  // the process started with, whatever unsetenv does to the variable list.
  for (const char* secret : {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}) {
    if (char* value = std::getenv(secret)) std::memset(value, 0, std::strlen(value));
    unsetenv(secret);
  }
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("received {}, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
  node.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sluice: durable LLM agents over HTTP, one actor per conversation session.",
               "sluice"};
  app.set_version_flag("--version", "sluice 0.1.0");
  app.require_subcommand(1);

  std::string project_dir = ".";
  CLI::App* serve_command = app.add_subcommand(
      "serve",
      "Run a node. Configuration comes only from the environment (HOST, PORT, DATABASE_URL, "
      "SLUICE_*; see the README).");
  serve_command->add_option("--project", project_dir,
                            "Project directory holding agents/NAME.toml (default: .)");

  CLI11_PARSE(app, argc, argv);
  // Logs go to stderr, leaving stdout for what a command prints as its result.
  spdlog::set_default_logger(spdlog::stderr_color_mt("sluice"));
  try {
    if (serve_command->parsed()) return serve(project_dir);
  } catch (const std::exception& error) {
    std::cerr << "sluice: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
