#pragma once
// The actor side of a node without its HTTP front end: real storage (SQLite),
// the built-in echo model, the router with its session actors and, on demand,
// the coordinator. Commands go in through the SessionGateway, as the routes
// send them, so a test decides in which order they reach a session.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include <caf/all.hpp>

#include "actors/coordinator_actor.hpp"
#include "actors/messages.hpp"
#include "actors/router_actor.hpp"
#include "actors/session_gateway.hpp"
#include "core/ids.hpp"
#include "core/metrics.hpp"
#include "harness/model_runtime.hpp"
#include "harness/tool_runner.hpp"
#include "persistence/executor.hpp"
#include "persistence/open_database.hpp"

namespace sluice::test {

// Waits, on the test thread, for what an actor reports from its own thread.
template <class T>
class Mailbox {
 public:
  void put(T value) {
    std::lock_guard lock(mutex_);
    value_ = std::move(value);
    changed_.notify_all();
  }
  std::optional<T> wait(std::chrono::milliseconds patience = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, patience, [this] { return value_.has_value(); });
    return value_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<T> value_;
};

struct RecordingSubmission : actors::SubmissionObserver {
  Mailbox<persistence::SubmissionRecord> admitted;
  Mailbox<persistence::SubmissionRecord> settled;
  Mailbox<PublicError> rejected;
  void on_admitted(const persistence::SubmissionRecord& record, bool) override {
    admitted.put(record);
  }
  void on_rejected(const PublicError& error) override { rejected.put(error); }
  void on_event(const nlohmann::json&) override {}
  void on_settled(const persistence::SubmissionRecord& record) override { settled.put(record); }
  bool wants_outcome() const override { return true; }
  bool wants_events() const override { return false; }
};

// nullopt error: deleted.
struct RecordingDelete : actors::DeleteObserver {
  Mailbox<std::optional<PublicError>> answer;
  void on_deleted() override { answer.put(std::nullopt); }
  void on_failed(const PublicError& error) override { answer.put(error); }
};

class ActorStack {
 public:
  // One agent, "slow": sluice/echo answering after model_delay_ms.
  explicit ActorStack(int model_delay_ms, const std::string& database_url = "")
      : storage_(persistence::open_database(database_url), {}) {
    auto context = std::make_shared<actors::SessionContext>();
    context->storage = &storage_;
    context->node = {"stack-node", new_ulid(), ""};
    context->limits.idle_passivate_ms = 50;
    context->metrics = &metrics_;
    context->tool_runner = &tools_;
    auto agent = std::make_shared<actors::AgentRuntime>();
    agent->definition.name = "slow";
    agent->definition.model = "sluice/echo";
    agent->definition.model_options = {{"delay_ms", model_delay_ms}};
    agent->model = models_.make_model(agent->definition.model, agent->definition.model_options);
    agent->limits = context->limits;
    context->agents->replace({{"slow", std::move(agent)}});
    context_ = context;
    sync<bool>([node = context_->node](persistence::Transaction& txn) {
      txn.register_node(node, 60'000);
      return true;
    });
    caf_config_.set("scheduler.max-threads", size_t{2});
    system_ = std::make_unique<caf::actor_system>(caf_config_);
    router_ = actors::spawn_router(*system_, context_);
    gateway_ = std::make_unique<actors::SessionGateway>(router_);
  }

  ~ActorStack() {
    caf::scoped_actor self{*system_};
    self->request(router_, std::chrono::seconds(20), actors::shutdown_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
    if (coordinator_) {
      self->request(coordinator_, std::chrono::seconds(20), actors::shutdown_atom::value)
          .receive([](bool) {}, [](caf::error&) {});
      self->send_exit(coordinator_, caf::exit_reason::user_shutdown);
    }
    self->send_exit(router_, caf::exit_reason::user_shutdown);
    storage_.stop();
    gateway_.reset();
    router_ = nullptr;
    coordinator_ = nullptr;
  }

  void start_coordinator(actors::CoordinatorOptions options) {
    coordinator_ = actors::spawn_coordinator(*system_, context_, router_, std::move(options),
                                             std::make_shared<actors::NodeHealth>());
  }

  const actors::SessionGateway& gateway() const { return *gateway_; }
  const persistence::NodeIdentity& node() const { return context_->node; }

  // Storage work from the test thread (never from an actor).
  template <class R, class F>
  R sync(F work) {
    auto result = storage_.run_sync<R>(std::function<R(persistence::Transaction&)>(work));
    if (auto* error = std::get_if<persistence::StorageError>(&result)) FAIL(error->message);
    return std::get<R>(std::move(result));
  }

 private:
  persistence::StorageExecutor storage_;
  harness::ModelRuntime models_;
  harness::ToolRunner tools_{1};
  Metrics metrics_;
  actors::SessionContextPtr context_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::actor router_;
  caf::actor coordinator_;
  std::unique_ptr<actors::SessionGateway> gateway_;
};

}  // namespace sluice::test
