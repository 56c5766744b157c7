#include "harness/tool_runner.hpp"

#include <utility>  // before asio: GCC 12 in C++20 mode needs it (see STACK-NOTES.md)

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace sluice::harness {

struct ToolRunner::Impl {
  explicit Impl(size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

ToolRunner::ToolRunner(size_t threads) : impl_(std::make_unique<Impl>(threads)) {}

ToolRunner::~ToolRunner() {
  impl_->pool.join();
}

void ToolRunner::run(std::shared_ptr<ToolBox> tools, std::string name, std::string args_json,
                     std::function<void(ToolOutcome)> done) {
  boost::asio::post(impl_->pool, [tools = std::move(tools), name = std::move(name),
                                  args = std::move(args_json), done = std::move(done)] {
    done(tools->call(name, args));
  });
}

}  // namespace sluice::harness
