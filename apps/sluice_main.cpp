// The sluice command line: `serve` runs a node, `dev` runs one that reloads
// the project as it changes, `run` runs one workflow and prints its result.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "node/dotenv.hpp"
#include "node/node.hpp"
#include "node/project_watch.hpp"
#include "node/run_event_printer.hpp"
#include "node/serve.hpp"
#include "workflows/workflow.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Exit status: 1 for what went wrong at run time, 2 for what the caller asked
// wrongly (the usual Unix split, so scripts can tell them apart).
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr uint16_t kDevPort = 3583;

// One line of JSON; text that is not UTF-8 (a delta may split a character)
// is replaced rather than fatal.
std::string one_line(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Thrown for a request that cannot be carried out as asked (exit 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string project_dir = ".";
  std::string env_file;
  std::optional<uint16_t> port;
  std::string workflow;
  std::string payload = "null";
  bool json_events = false;
};

sluice::node::NodeConfig config_from_environment(const Options& options) {
  auto config = sluice::node::NodeConfig::from_environment(
      [](const char* name) { return std::getenv(name); });
  config.project_dir = options.project_dir;
  return config;
}

fs::path load_env_file(const Options& options) {
  return sluice::node::load_dotenv(options.project_dir, options.env_file);
}

int serve(const Options& options) {
  return sluice::node::serve_until_stopped(config_from_environment(options));
}

int dev(const Options& options) {
  if (const fs::path loaded = load_env_file(options); !loaded.empty()) {
    spdlog::info("dev: loaded {}", loaded.string());
  }
  auto config = config_from_environment(options);
  if (options.port) {
    config.http.port = *options.port;
  } else if (std::getenv("PORT") == nullptr) {
    config.http.port = kDevPort;
  }
  const fs::path project = options.project_dir;
  return sluice::node::serve_until_stopped(
      std::move(config), [project](sluice::node::Node& node) -> std::shared_ptr<void> {
        spdlog::info("dev: watching {} and {} for changes", (project / "agents").string(),
                     (project / "workflows").string());
        return std::make_shared<sluice::node::ProjectWatch>(project, [&node] {
          try {
            node.reload_project();  // logs what it now serves
          } catch (const std::exception& error) {
            spdlog::error("reload failed, still serving the previous definitions: {}",
                          error.what());
          }
        });
      });
}

std::string describe_error(const std::optional<std::string>& error_json) {
  const json error = error_json ? json::parse(*error_json, nullptr, false) : json();
  if (!error.is_object()) return "the run failed";
  std::string text = error.value("type", "error") + ": " + error.value("message", "");
  if (const auto details = error.value("details", ""); !details.empty())
    text += " (" + details + ")";
  return text;
}

int run(const Options& options) {
  json payload = json::parse(options.payload, nullptr, false);
  if (payload.is_discarded()) {
    throw UsageError("--payload is not valid JSON: " + options.payload);
  }
  load_env_file(options);
  auto config = config_from_environment(options);
  config.serve_http = false;
  // stderr is the run's progress view: node chatter only when asked for.
  spdlog::set_level(
      spdlog::level::from_str(std::getenv("SLUICE_LOG_LEVEL") ? config.log_level : "error"));
  sluice::node::Node node(std::move(config));
  node.start();
  sluice::node::hide_provider_keys();

  sluice::node::RunEventPrinter printer(std::cerr);
  const bool json_events = options.json_events;
  sluice::persistence::RunRecord record;
  try {
    record = node.run_workflow(options.workflow, std::move(payload),
                               [&printer, json_events](const json& event) {
                                 if (json_events) {
                                   std::cerr << one_line(event) << '\n' << std::flush;
                                 } else {
                                   printer.print(event);
                                 }
                               });
  } catch (const sluice::workflows::WorkflowError& error) {
    node.stop();
    throw UsageError(error.error.type + ": " + error.error.message);
  }
  printer.finish();
  node.stop();
  if (record.status != sluice::persistence::RunStatus::completed) {
    std::cerr << "sluice: " << describe_error(record.error_json) << "\n";
    return kFailed;
  }
  const json result = record.result_json ? json::parse(*record.result_json) : json();
  std::cout << one_line(result) << std::endl;
  return 0;
}

// --- the command line -----------------------------------------------------------------

constexpr const char* kRootFooter = R"(
Examples:
  sluice dev                                    serve ./agents and ./workflows on :3583
  sluice run greet --payload '{"name":"Ada"}'   run one workflow, print its result
  PORT=8080 DATABASE_URL=/var/lib/sluice.db sluice serve

Run `sluice COMMAND --help` for a command's options, environment and exit status.
A project is a directory with agents/NAME.toml and workflows/NAME.toml files;
README.md describes them, the HTTP API and every environment variable.)";

constexpr const char* kServeFooter = R"(
Environment (read only from the environment; .env files are not loaded):
  PORT (3000), HOST (127.0.0.1), DATABASE_URL (unset: in-memory SQLite),
  SLUICE_AUTH_TOKEN, SLUICE_LOG_LEVEL (info), provider keys such as
  ANTHROPIC_API_KEY and OPENAI_API_KEY, and the SLUICE_* limits in README.md.

Stops gracefully on SIGINT or SIGTERM: running work is released at a turn
boundary and taken up again by the next start.

Exit status: 0 stopped by a signal; 1 could not start (bad configuration,
invalid definition, storage unreachable); 2 bad command line.)";

constexpr const char* kDevFooter = R"(
Environment: as `sluice serve`, loaded first from DIR/.env (or --env FILE);
variables already exported win over the file. PORT defaults to 3583 here;
--port wins over PORT.

While it runs, changes to agents/*.toml and workflows/*.toml are loaded
without dropping accepted work. A broken file is reported on stderr (file and
key) and the previous definitions keep serving.

Exit status: 0 stopped by SIGINT or SIGTERM; 1 could not start (malformed
.env, bad configuration, invalid definition); 2 bad command line.)";

constexpr const char* kRunFooter = R"(
Runs on a private node without an HTTP listener. Progress goes to stderr as
the events happen (text, or JSON lines with --json); the result, as JSON, is
the last line of stdout:
  sluice run greet --payload '{"name":"Ada"}' | tail -n 1

Environment: as `sluice serve` (DATABASE_URL unset: in-memory SQLite, gone at
exit), loaded first from DIR/.env (or --env FILE); variables already exported
win over the file. SLUICE_LOG_LEVEL unset: node logs show errors only.

Exit status: 0 the run completed; 1 the run errored (its error is printed)
or the node could not start (malformed .env, bad configuration, invalid
definition); 2 bad command line, --payload not JSON, unknown workflow or a
payload the workflow refuses.)";

void add_project_options(CLI::App& command, Options& options, bool with_env) {
  command
      .add_option("--project", options.project_dir,
                  "Project directory, with agents/ and workflows/ (default: .)")
      ->type_name("DIR")
      ->group("Project");
  if (!with_env) return;
  command
      .add_option("--env", options.env_file,
                  "Load FILE instead of DIR/.env; it must exist (default: DIR/.env if present)")
      ->type_name("FILE")
      ->group("Project");
}

int dispatch(CLI::App& app, const CLI::App& serve_command, const CLI::App& dev_command,
             const CLI::App& run_command, const Options& options) {
  // Logs go to stderr, leaving stdout for what a command prints as its result.
  spdlog::set_default_logger(spdlog::stderr_color_mt("sluice"));
  try {
    if (serve_command.parsed()) return serve(options);
    if (dev_command.parsed()) return dev(options);
    if (run_command.parsed()) return run(options);
  } catch (const UsageError& error) {
    std::cerr << "sluice: " << error.what() << "\n";
    return kUsage;
  } catch (const std::exception& error) {
    std::cerr << "sluice: " << error.what() << "\n";
    return kFailed;
  }
  std::cerr << app.help();
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sluice: durable LLM agents and workflows over HTTP, one actor per session.",
               "sluice"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(0, 1);
  app.footer(kRootFooter);
  app.get_formatter()->column_width(22);
  app.get_formatter()->label("SUBCOMMAND", "COMMAND");

  Options options;
  CLI::App* serve_command =
      app.add_subcommand("serve", "Run a node, configured by its environment only");
  serve_command->footer(kServeFooter);
  add_project_options(*serve_command, options, false);

  CLI::App* dev_command =
      app.add_subcommand("dev", "Run a node for development: .env, port 3583, live reload");
  dev_command->footer(kDevFooter);
  add_project_options(*dev_command, options, true);
  dev_command
      ->add_option("--port", options.port,
                   "Listen on port N, 0 for any free one (default: $PORT, else 3583)")
      ->type_name("N")
      ->check(CLI::Range(0, 65535).description(""));

  CLI::App* run_command =
      app.add_subcommand("run", "Run one workflow locally and print its result");
  run_command->footer(kRunFooter);
  run_command->add_option("WORKFLOW", options.workflow, "Name of the workflow to run")
      ->type_name("")
      ->required();
  run_command->add_option("--payload", options.payload, "The run's payload (default: null)")
      ->type_name("JSON");
  run_command->add_flag("--json", options.json_events,
                        "Progress as JSON lines, one event each, instead of text");
  add_project_options(*run_command, options, true);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& done) {  // --help, --version
    return app.exit(done);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kUsage;
  }
  return dispatch(app, *serve_command, *dev_command, *run_command, options);
}
