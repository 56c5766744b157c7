#include "node/project_watch.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <spdlog/spdlog.h>

namespace sluice::node {
namespace {

// What identifies a version of a definition file or folder. The inode catches
// an editor replacing a file by renaming a new one over it.
struct Entry {
  std::string path;
  uintmax_t size = 0;
  int64_t mtime_ns = 0;
  ino_t inode = 0;

  bool operator==(const Entry& other) const {
    return std::tie(path, size, mtime_ns, inode) ==
           std::tie(other.path, other.size, other.mtime_ns, other.inode);
  }
};

using Snapshot = std::vector<Entry>;

// A folder counts by its presence only: its modification time also moves for
// files that are not definitions (an editor's swap file).
bool add_entry(const std::filesystem::path& path, Snapshot& out) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return false;  // gone meanwhile
  if (S_ISDIR(info.st_mode)) {
    out.push_back(Entry{path.string(), 0, 0, 0});
    return true;
  }
  out.push_back(
      Entry{path.string(), static_cast<uintmax_t>(info.st_size),
            static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
            info.st_ino});
  return false;
}

Snapshot take_snapshot(const std::filesystem::path& project_dir) {
  Snapshot snapshot;
  for (const char* folder : {"agents", "workflows"}) {
    const auto dir = project_dir / folder;
    if (!add_entry(dir, snapshot)) continue;
    std::error_code error;  // the folder may vanish while it is listed
    for (const auto& item : std::filesystem::directory_iterator(dir, error)) {
      if (item.path().extension() == ".toml") add_entry(item.path(), snapshot);
    }
  }
  std::sort(snapshot.begin(), snapshot.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  return snapshot;
}

}  // namespace

ProjectWatch::ProjectWatch(std::filesystem::path project_dir, std::function<void()> on_change,
                           std::chrono::milliseconds interval)
    : project_dir_(std::move(project_dir)), on_change_(std::move(on_change)), interval_(interval) {
  thread_ = std::thread([this] { loop(); });
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return started_; });
}

ProjectWatch::~ProjectWatch() {
  stop();
}

void ProjectWatch::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProjectWatch::loop() {
  Snapshot reported = take_snapshot(project_dir_);
  Snapshot previous = reported;
  {
    std::lock_guard lock(mutex_);
    started_ = true;
  }
  wake_.notify_all();
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    Snapshot current = take_snapshot(project_dir_);
    // Report once the files have stopped changing and differ from what was
    // last reported (a file changed and changed back reports nothing).
    const bool settled = current == previous;
    previous = std::move(current);
    if (!settled || previous == reported) continue;
    reported = previous;
    try {
      on_change_();
    } catch (const std::exception& error) {
      spdlog::error("project watch: {}", error.what());
    }
  }
}

}  // namespace sluice::node
