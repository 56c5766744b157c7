#include "node/node.hpp"

#include <openssl/crypto.h>

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
#include "net/admin_routes.hpp"
#include "node/agent_tools.hpp"
#include "net/agent_routes.hpp"
#include "net/http_server.hpp"
#include "net/operational_routes.hpp"
#include "net/responses.hpp"
#include "net/route_table.hpp"
#include "persistence/executor.hpp"
#include "persistence/open_database.hpp"

namespace sluice::node {
namespace {

bool bearer_matches(const std::string& header, const std::string& token) {
  static constexpr std::string_view kPrefix = "Bearer ";
  if (header.size() != kPrefix.size() + token.size() ||
      header.compare(0, kPrefix.size(), kPrefix)) {
    return false;
  }
  return CRYPTO_memcmp(header.data() + kPrefix.size(), token.data(), token.size()) == 0;
}

}  // namespace

struct Node::Impl {
  NodeConfig config;
  harness::Project project;
  std::map<std::string, harness::AgentDefinition> exposed_agents;
  harness::ModelRuntime models;
  // Tool calls block (child processes, files): a few threads of their own.
  harness::ToolRunner tools{4};
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

  explicit Impl(NodeConfig c)
      : config(std::move(c)), project(harness::load_project(config.project_dir)) {
    for (auto& agent : config.agents) harness::add_code_agent(project, std::move(agent));
    config.agents.clear();
  }
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
  context->storage = impl.storage.get();
  context->node = {impl.config.node_id, new_ulid(), impl.config.cluster.advertise};
  context->limits = impl.config.limits;
  context->metrics = &impl.metrics;
  context->tool_runner = &impl.tools;
  for (const auto& [name, definition] : impl.project.agents) {
    actors::AgentRuntime& agent = context->agents[name];
    agent.definition = definition;
    agent.model = impl.models.make_model(definition.model, definition.model_options);
    agent.make_tools = make_tool_factory(definition);
    agent.limits = actors::limits_for(definition, impl.config.limits);
  }

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
  impl.coordinator = actors::spawn_coordinator(*impl.system, context, impl.router,
                                               impl.config.coordinator, impl.health);
  impl.gateway = std::make_unique<actors::SessionGateway>(impl.router);

  net::add_agent_routes(impl.routes,
                        {impl.gateway.get(), impl.storage.get(), &impl.project.agents});
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
                         &impl.project.agents});

  const std::string token = impl.config.auth_token;
  impl.http = std::make_unique<net::HttpServer>(
      impl.config.http, [routes = &impl.routes, token](net::HttpRequest request,
                                                       std::shared_ptr<net::Responder> responder) {
        if (!token.empty() && request.path != "/healthz" &&
            !bearer_matches(request.header("Authorization"), token)) {
          responder->respond(
              net::error_response(make_error("unauthorized", "A valid bearer token is required.",
                                             "Send Authorization: Bearer <SLUICE_AUTH_TOKEN>."),
                                  {{"WWW-Authenticate", "Bearer"}}));
          return;
        }
        routes->dispatch(std::move(request), std::move(responder));
      });
  impl.http->start();
  impl.started = true;
  spdlog::info("node {} (incarnation {}) listening on http://{}:{} with {} agent(s)",
               context->node.node_id, context->node.incarnation, impl.config.http.host,
               impl.http->port(), context->agents.size());
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

void Node::stop() {
  auto& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  if (impl.started) {
    impl.http->stop_accepting();
    spdlog::info("stopping: letting sessions reach a turn boundary");
    caf::scoped_actor self{*impl.system};
    const auto patience = std::chrono::milliseconds(impl.config.limits.shutdown_grace_ms + 10'000);
    self->request(impl.router, patience, actors::shutdown_atom::value)
        .receive([](bool) {},
                 [](caf::error& error) {
                   spdlog::error("sessions did not all stop in time: {}", to_string(error));
                 });
    self->request(impl.coordinator, patience, actors::shutdown_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
    self->send_exit(impl.router, caf::exit_reason::user_shutdown);
    self->send_exit(impl.coordinator, caf::exit_reason::user_shutdown);
    if (impl.gate) self->send_exit(impl.gate, caf::exit_reason::user_shutdown);
    if (impl.forwarder) self->send_exit(impl.forwarder, caf::exit_reason::user_shutdown);
    impl.http->stop();
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
