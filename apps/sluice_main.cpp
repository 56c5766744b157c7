// The sluice command line: `sluice serve` runs one node.
#include <cstdlib>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "node/serve.hpp"

namespace {

int serve(const std::string& project_dir) {
  sluice::node::NodeConfig config = sluice::node::NodeConfig::from_environment(
      [](const char* name) { return std::getenv(name); });
  config.project_dir = project_dir;
  return sluice::node::serve_until_stopped(std::move(config));
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
