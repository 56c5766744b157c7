#include "sandbox/file_walk.hpp"

#include <vector>

namespace sluice::sandbox {

std::string join_path(const std::string& folder, const std::string& name) {
  if (folder.empty()) return name;
  if (name.empty()) return folder;
  return folder.back() == '/' ? folder + name : folder + "/" + name;
}

WalkEnd walk_files(Sandbox& sandbox, const FileWalk& walk) {
  size_t seen = 0;
  // Folders still to list, relative to root; a stack keeps the order depth-first.
  std::vector<std::string> pending{""};
  bool at_root = true;
  while (!pending.empty()) {
    std::string dir = std::move(pending.back());
    pending.pop_back();
    std::vector<DirEntry> entries;
    std::string listed = join_path(walk.root, dir);
    try {
      entries = sandbox.readdir(listed.empty() ? "." : listed);
    } catch (const SandboxError&) {
      if (at_root) throw;
      continue;
    }
    at_root = false;
    std::vector<std::string> subfolders;
    for (const DirEntry& entry : entries) {
      if (++seen > walk.max_entries) return WalkEnd::kEntryLimit;
      std::string path = join_path(dir, entry.name);
      if (entry.is_dir) {
        if (walk.enter(path)) subfolders.push_back(std::move(path));
      } else if (!walk.visit(path)) {
        return WalkEnd::kStoppedByVisitor;
      }
    }
    // Pushed in reverse so the first folder by name is listed next.
    for (auto it = subfolders.rbegin(); it != subfolders.rend(); ++it) pending.push_back(*it);
  }
  return WalkEnd::kComplete;
}

}  // namespace sluice::sandbox
