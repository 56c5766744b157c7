#pragma once
// Watches a project's definitions (agents/*.toml and workflows/*.toml, also
// when those folders appear after the start) for `sluice dev`, by polling:
// portable, and a project has few files. A burst of writes (an editor saving
// through a temporary file) is reported once, when it has settled.
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

namespace sluice::node {

class ProjectWatch {
 public:
  // Takes the first snapshot before returning, so any later change is seen.
  // on_change runs on the watcher's own thread (it may block: it delays the
  // next poll) after the files changed and then stayed unchanged for one
  // interval.
  ProjectWatch(std::filesystem::path project_dir, std::function<void()> on_change,
               std::chrono::milliseconds interval = std::chrono::milliseconds(300));
  ~ProjectWatch();  // stop()
  ProjectWatch(const ProjectWatch&) = delete;
  ProjectWatch& operator=(const ProjectWatch&) = delete;

  // Waits for a running on_change to return. Idempotent.
  void stop();

 private:
  void loop();

  std::filesystem::path project_dir_;
  std::function<void()> on_change_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool started_ = false;  // the first snapshot is taken
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::node
