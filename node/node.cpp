#include "node/node.hpp"

#include <future>
#include <variant>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/coordinator_actor.hpp"
#include "actors/messages.hpp"
#include "actors/router_actor.hpp"
#include "actors/session_gateway.hpp"
#include "cluster/forwarder_actor.hpp"
#include "cluster/gate_actor.hpp"
#include "core/ids.hpp"
#include "core/metrics.hpp"
#include "harness/model_runtime.hpp"
#include "harness/project.hpp"
#include "harness/project_view.hpp"
#include "net/admin_routes.hpp"
#include "net/workflow_routes.hpp"
#include "node/agent_tools.hpp"
#include "net/agent_routes.hpp"
#include "net/front_door.hpp"
#include "net/http_server.hpp"
#include "net/openapi.hpp"
#include "net/operational_routes.hpp"
#include "net/responses.hpp"
#include "net/route_table.hpp"
#include "net/run_routes.hpp"
#include "net/websocket_routes.hpp"
#include "persistence/executor.hpp"
#include "persistence/open_database.hpp"
#include "workflows/run_engine.hpp"
#include "workflows/workflow_file.hpp"

namespace sluice::node {
namespace {

// What workflow runs may use of the project: its workflows, its agents and
// their sandboxes (a workflow's init(agent).fs and shell).
workflows::RunDefinitions run_definitions(const harness::Project& project,
                                          const workflows::WorkflowTable& table) {
  workflows::RunDefinitions definitions;
  definitions.workflows = table;
  for (const auto& [name, agent] : project.agents) {
    definitions.agents.insert(name);
    if (auto sandbox_for = make_sandbox_factory(agent)) definitions.sandboxes[name] = sandbox_for;
  }
  return definitions;
}

}  // namespace

// Everything a node serves from its project and its C++ definitions. Loading
// checks all of it and throws with a message naming the file and key.
struct Definitions {
  harness::Project project;
  workflows::WorkflowTable workflows;
};

Definitions load_definitions(const NodeConfig& config) {
  Definitions loaded{harness::load_project(config.project_dir), {}};
  for (const auto& agent : config.agents) harness::add_code_agent(loaded.project, agent);
  loaded.workflows = workflows::load_workflows(loaded.project);
  for (const auto& workflow : config.workflows) {
    workflows::add_code_workflow(loaded.workflows, workflow);
  }
  return loaded;
}

actors::AgentTable agent_table(const harness::Project& project, harness::ModelRuntime& models,
                               const actors::SessionLimits& limits) {
  actors::AgentTable table;
  for (const auto& [name, definition] : project.agents) {
    auto agent = std::make_shared<actors::AgentRuntime>();
    agent->definition = definition;
    agent->model = models.make_model(definition.model, definition.model_options);
    agent->make_tools = make_tool_factory(definition);
    agent->limits = actors::limits_for(definition, limits);
    table[name] = std::move(agent);
  }
  return table;
}

struct Node::Impl {
  NodeConfig config;
  Definitions initial;  // what start() serves first
  harness::ProjectView project{harness::Project{}};
  workflows::RunHub run_hub;
  std::unique_ptr<workflows::RunEngine> runs;
  std::shared_ptr<actors::SessionContext> context;
  harness::ModelRuntime models;
  // Tool calls block (child processes, files): threads of their own
  // (SLUICE_TOOL_THREADS; `config` is initialised first).
  harness::ToolRunner tools{config.tool_threads};
  Metrics metrics;
  std::unique_ptr<persistence::StorageExecutor> storage;
  std::shared_ptr<actors::NodeHealth> health = std::make_shared<actors::NodeHealth>();
  caf::actor_system_config caf_config;
  std::unique_ptr<caf::actor_system> system;
  caf::actor router;
  caf::actor coordinator;
  caf::actor forwarder;  // cluster mode only
  caf::actor gate;       // cluster mode only
  std::unique_ptr<actors::SessionGateway> gateway;
  net::RouteTable routes;
  std::unique_ptr<net::HttpServer> http;
  bool started = false;
  bool stopped = false;

  explicit Impl(NodeConfig c) : config(std::move(c)), initial(load_definitions(config)) {}
};

Node::Node(NodeConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  auto& impl = *impl_;
  if (persistence::is_in_memory(impl.config.database_url)) {
    spdlog::warn(
        "DATABASE_URL is not set: storage is in-memory SQLite and nothing survives a restart");
  }
  impl.storage = std::make_unique<persistence::StorageExecutor>(
      persistence::open_database(impl.config.database_url),
      persistence::StorageExecutor::Options{});
  spdlog::info("storage: {}", impl.storage->describe());
}

Node::~Node() {
  stop();
}

void Node::start() {
  auto& impl = *impl_;
  auto context = std::make_shared<actors::SessionContext>();
  impl.context = context;
  context->storage = impl.storage.get();
  context->node = {impl.config.node_id, new_ulid(), impl.config.cluster.advertise};
  context->limits = impl.config.limits;
  context->metrics = &impl.metrics;
  context->tool_runner = &impl.tools;
  context->agents->replace(agent_table(impl.initial.project, impl.models, impl.config.limits));
  const size_t agent_count = impl.initial.project.agents.size();
  const size_t workflow_count = impl.initial.workflows.size();
  workflows::RunDefinitions run_setup = run_definitions(impl.initial.project, impl.initial.workflows);
  impl.project.replace(std::move(impl.initial.project));
  impl.initial = {};

  const ClusterConfig& cluster = impl.config.cluster;
  auto registered = impl.storage->run_sync<bool>(
      [node = context->node,
       lease = impl.config.coordinator.lease.count()](persistence::Transaction& txn) {
        txn.register_node(node, lease);
        return true;
      });
  if (auto* error = std::get_if<persistence::StorageError>(&registered)) {
    throw std::runtime_error("cannot register this node in storage: " + error->message);
  }
  impl.health->lease_held = true;
  impl.health->storage_ok = true;
  impl.health->joined = !cluster.enabled;

  impl.caf_config.set("scheduler.policy", caf::atom("sharing"));
  impl.caf_config.set("scheduler.max-threads", impl.config.actor_threads);
  if (cluster.enabled) {
    // BASP heartbeats are off by default; without them a paused or dead peer
    // is never noticed and a forward to it would wait for ever.
    impl.caf_config.load<caf::io::middleman>();
    impl.caf_config.set("middleman.heartbeat-interval", caf::timespan{cluster.heartbeat});
    impl.caf_config.set("middleman.connection-timeout", caf::timespan{cluster.heartbeat * 4});
    impl.caf_config.set("middleman.workers", size_t{0});
  }
  impl.system = std::make_unique<caf::actor_system>(impl.caf_config);
  if (cluster.enabled) {
    auto sealer = std::make_shared<const cluster::Sealer>(cluster.secret);
    impl.forwarder = cluster::spawn_forwarder(
        *impl.system, {sealer, impl.storage.get(), cluster.forward_timeout.count(),
                       impl.config.limits.submission_timeout_ms});
    impl.router = actors::spawn_router(*impl.system, context, impl.forwarder);
    impl.gate = cluster::spawn_gate(*impl.system, impl.router, sealer);
    auto published =
        impl.system->middleman().publish(impl.gate, cluster.port, cluster.bind_host.c_str(), true);
    if (!published) {
      throw std::runtime_error("cannot open the node-to-node listener on " + cluster.bind_host +
                               ":" + std::to_string(cluster.port) + ": " +
                               impl.system->render(published.error()));
    }
    spdlog::info("cluster: node-to-node listener on {}:{}, advertised as {}", cluster.bind_host,
                 *published, cluster.advertise);
  } else {
    impl.router = actors::spawn_router(*impl.system, context);
  }
  actors::CoordinatorOptions coordinator = impl.config.coordinator;
  coordinator.on_run_ended = [hub = &impl.run_hub](const std::string& run_id, int64_t last_index) {
    hub->publish(run_id, last_index, true);
  };
  impl.coordinator = actors::spawn_coordinator(*impl.system, context, impl.router, coordinator,
                                               impl.health);
  impl.gateway = std::make_unique<actors::SessionGateway>(impl.router);
  impl.runs = std::make_unique<workflows::RunEngine>(
      workflows::RunEngineDeps{impl.system.get(), impl.storage.get(), impl.gateway.get(),
                               &impl.run_hub, context->node, impl.config.workflow_threads},
      std::move(run_setup));
  net::add_workflow_routes(impl.routes, {impl.runs.get()});

  net::add_agent_routes(impl.routes,
                        {impl.gateway.get(), impl.storage.get(), &impl.project});
  net::add_websocket_routes(impl.routes,
                            {impl.gateway.get(),
                             [project = &impl.project](const std::string& name) {
                               const auto current = project->current();
                               const auto* agent = current->find_agent(name);
                               return agent != nullptr && agent->expose_websocket;
                             },
                             impl.runs.get(), impl.config.http.max_body_bytes});
  net::add_operational_routes(
      impl.routes,
      {[health = impl.health] {
         const bool storage = health->storage_ok, lease = health->lease_held,
                    joined = health->joined;
         return net::Readiness{storage && lease && joined,
                               {{"storage", storage}, {"lease", lease}, {"joined", joined}}};
       },
       &impl.metrics});
  if (!cluster.enabled) impl.health->set_view({context->node.node_id});
  net::add_admin_routes(impl.routes,
                        {impl.storage.get(), context->node.node_id, cluster.enabled,
                         impl.config.coordinator.lease.count(),
                         [health = impl.health] { return health->view(); },
                         &impl.project});
  net::add_run_routes(impl.routes, {impl.storage.get(), &impl.run_hub});
  net::add_openapi_route(impl.routes,
                         {[project = &impl.project, runs = impl.runs.get()] {
                            net::OpenApiExposure exposure;
                            // Held for the loop: a reload may drop the view's copy meanwhile.
                            const auto current = project->current();
                            for (const auto& [name, agent] : current->agents) {
                              if (agent.expose_http) exposure.http_agents.push_back(name);
                              if (agent.expose_websocket) exposure.websocket_agents.push_back(name);
                            }
                            for (const auto& workflow : runs->list()) {
                              if (workflow->expose_http) {
                                exposure.http_workflows.push_back(workflow->name);
                              }
                              if (workflow->expose_websocket) {
                                exposure.websocket_workflows.push_back(workflow->name);
                              }
                            }
                            return exposure;
                          },
                          {!impl.config.auth_token.empty()}});

  impl.started = true;
  if (!impl.config.serve_http) {
    spdlog::info("node {} (incarnation {}) started without HTTP, with {} agent(s) and {} "
                 "workflow(s)",
                 context->node.node_id, context->node.incarnation, agent_count, workflow_count);
    return;
  }
  net::FrontDoorPolicy policy;
  policy.auth_token = impl.config.auth_token;
  policy.allowed_origins = impl.config.allowed_origins;
  policy.loopback_only = net::is_loopback_host(impl.config.http.host);
  impl.http = std::make_unique<net::HttpServer>(
      impl.config.http, [routes = &impl.routes, policy](net::HttpRequest request,
                                                        std::shared_ptr<net::Responder> responder) {
        if (auto refusal = net::front_door_refusal(request, policy)) {
          responder->respond(std::move(*refusal));
          return;
        }
        routes->dispatch(std::move(request), std::move(responder));
      });
  impl.http->start();
  spdlog::info("node {} (incarnation {}) listening on http://{}:{} with {} agent(s) and {} "
               "workflow(s)",
               context->node.node_id, context->node.incarnation, impl.config.http.host,
               impl.http->port(), agent_count, workflow_count);
}

uint16_t Node::port() const {
  return impl_->http ? impl_->http->port() : 0;
}

size_t Node::live_sessions() {
  caf::scoped_actor self{*impl_->system};
  size_t count = 0;
  self->request(impl_->router, caf::infinite, actors::count_atom::value)
      .receive([&](size_t n) { count = n; }, [](caf::error&) {});
  return count;
}

persistence::RunRecord Node::run_workflow(const std::string& workflow, nlohmann::json payload,
                                          std::function<void(const nlohmann::json&)> on_event) {
  // Hands the events on and waits for the end, on the caller's thread.
  class Waiter : public workflows::RunObserver {
   public:
    explicit Waiter(std::function<void(const nlohmann::json&)> on_event)
        : on_event_(std::move(on_event)) {}
    void on_started(const persistence::RunRecord&) override {}
    void on_rejected(const PublicError& error) override { outcome_.set_value(error); }
    void on_event(const nlohmann::json& event) override {
      if (on_event_) on_event_(event);
    }
    void on_finished(const persistence::RunRecord& run) override { outcome_.set_value(run); }
    bool wants_events() const override { return true; }
    std::promise<std::variant<persistence::RunRecord, PublicError>> outcome_;

   private:
    std::function<void(const nlohmann::json&)> on_event_;
  };
  if (!impl_->runs) throw std::logic_error("run_workflow needs a started node");
  auto waiter = std::make_shared<Waiter>(std::move(on_event));
  auto outcome = waiter->outcome_.get_future();
  impl_->runs->start(workflow, std::move(payload), waiter);
  auto settled = outcome.get();
  if (auto* error = std::get_if<PublicError>(&settled)) throw workflows::WorkflowError(*error);
  return std::get<persistence::RunRecord>(settled);
}

void Node::reload_project() {
  auto& impl = *impl_;
  if (!impl.started || impl.stopped) throw std::logic_error("reload_project needs a running node");
  // Everything is built before anything is replaced: a broken definition
  // throws here and the current ones keep serving.
  Definitions loaded = load_definitions(impl.config);
  actors::AgentTable agents = agent_table(loaded.project, impl.models, impl.config.limits);
  workflows::RunDefinitions runs = run_definitions(loaded.project, loaded.workflows);
  const size_t agent_count = agents.size(), workflow_count = loaded.workflows.size();
  impl.context->agents->replace(std::move(agents));
  impl.project.replace(std::move(loaded.project));
  impl.runs->replace(std::move(runs));
  spdlog::info("reloaded: {} agent(s), {} workflow(s)", agent_count, workflow_count);
}

void Node::stop() {
  auto& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  if (impl.started) {
    if (impl.http) impl.http->stop_accepting();
    spdlog::info("stopping: letting sessions reach a turn boundary");
    caf::scoped_actor self{*impl.system};
    const auto patience = std::chrono::milliseconds(impl.config.limits.shutdown_grace_ms + 10'000);
    self->request(impl.router, patience, actors::shutdown_atom::value)
        .receive([](bool) {},
                 [](caf::error& error) {
                   spdlog::error("sessions did not all stop in time: {}", to_string(error));
                 });
    // Runs waiting on a session have had their answer (the session stopped);
    // each ends durably before storage closes.
    impl.runs.reset();
    self->request(impl.coordinator, patience, actors::shutdown_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
    self->send_exit(impl.router, caf::exit_reason::user_shutdown);
    self->send_exit(impl.coordinator, caf::exit_reason::user_shutdown);
    if (impl.gate) self->send_exit(impl.gate, caf::exit_reason::user_shutdown);
    if (impl.forwarder) self->send_exit(impl.forwarder, caf::exit_reason::user_shutdown);
    if (impl.http) impl.http->stop();
  }
  impl.storage->stop();
  impl.gateway.reset();
  impl.router = nullptr;
  impl.coordinator = nullptr;
  impl.gate = nullptr;
  impl.forwarder = nullptr;
  impl.system.reset();
  spdlog::info("stopped");
}

}  // namespace sluice::node
