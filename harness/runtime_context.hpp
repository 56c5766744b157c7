#pragma once
// What a built-in model borrows from the ModelRuntime that made it. Both refer
// into the runtime, so a model must not start turns after the runtime is gone
// (see model_runtime.hpp); turns themselves live only in the runtime's queue.
#include <atomic>

namespace boost::asio {
class io_context;
}

namespace sluice::harness {

class Providers;

struct RuntimeContext {
  boost::asio::io_context& io;  // run by the runtime's one thread
  // Set when the runtime starts shutting down: a turn checks it before every
  // observer call, so none begins once destruction has started.
  const std::atomic<bool>& closing;
  Providers& providers;  // HTTP clients, keys and base URLs (providers.hpp)
};

}  // namespace sluice::harness
