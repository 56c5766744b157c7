#include "harness/model_runtime.hpp"

#include <utility>  // before asio: GCC 12 in C++20 mode needs it (see STACK-NOTES.md)

#include <atomic>
#include <exception>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "harness/model_catalog.hpp"
#include "harness/providers.hpp"

namespace sluice::harness {

struct ModelRuntime::Impl {
  explicit Impl(const ProviderSettings& settings) : providers(io, settings) {}

  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::atomic<bool> closing{false};
  // After io: destroyed first, once the thread has stopped; requests still
  // pending hold what they need and go when io destroys them.
  Providers providers;
  std::thread thread{[this] { run(); }};  // last: starts once everything it uses exists

  ~Impl() {
    closing = true;
    work.reset();
    io.stop();  // handlers not yet run never run; io's destructor frees them
    thread.join();
  }

  void run() {
    // An observer that throws must not take every other turn down with it.
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& error) {
        spdlog::error("model runtime: a turn callback threw: {}", error.what());
      }
    }
  }
};

ModelRuntime::ModelRuntime() : ModelRuntime(ProviderSettings::from_environment()) {}

ModelRuntime::ModelRuntime(const ProviderSettings& providers)
    : impl_(std::make_unique<Impl>(providers)) {}

ModelRuntime::~ModelRuntime() = default;

std::shared_ptr<Model> ModelRuntime::make_model(const std::string& model,
                                                const nlohmann::json& options) {
  return make_catalog_model({impl_->io, impl_->closing, impl_->providers}, model, options);
}

}  // namespace sluice::harness
