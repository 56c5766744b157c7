#pragma once
// A depth-first walk over a Sandbox's folders (readdir only, so it works on
// every sandbox), for the search tools.
#include <cstddef>
#include <functional>
#include <string>

#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

struct FileWalk {
  std::string root;  // a folder; "" for the sandbox's working directory
  // Whether to enter a folder, by its path relative to root.
  std::function<bool(const std::string& dir)> enter;
  // Called per file, by its path relative to root, in name order; false stops the walk.
  std::function<bool(const std::string& file)> visit;
  // How many folder entries may be looked at in all (a symbolic link to a
  // parent folder would otherwise loop forever).
  size_t max_entries = 20'000;
};

enum class WalkEnd { kComplete, kStoppedByVisitor, kEntryLimit };

// Folders that vanish or cannot be read during the walk are skipped; a root
// that cannot be listed throws SandboxError.
WalkEnd walk_files(Sandbox& sandbox, const FileWalk& walk);

// "a" + "b" -> "a/b"; "" + "b" -> "b"; "a" + "" -> "a".
std::string join_path(const std::string& folder, const std::string& name);

}  // namespace sluice::sandbox
