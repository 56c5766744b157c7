#pragma once
// The front ends' handle on the actor world: hands commands to the router,
// which is the one place that decides which session actor (and, in a cluster,
// which node) handles a session. Thread-safe and non-blocking.
#include <memory>

#include "actors/commands.hpp"

namespace caf {
class actor;
}

namespace sluice::actors {

class SessionGateway {
 public:
  explicit SessionGateway(const caf::actor& router);
  ~SessionGateway();
  SessionGateway(const SessionGateway&) = delete;
  SessionGateway& operator=(const SessionGateway&) = delete;

  void submit(SubmitCommand command) const;
  void abort(AbortCommand command) const;
  void remove(DeleteCommand command) const;  // DELETE of a session's data

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::actors
