#include <algorithm>
#include <vector>

#include "sandbox/builtin_tools.hpp"
#include "sandbox/file_walk.hpp"
#include "sandbox/glob.hpp"
#include "sandbox/tool_arguments.hpp"

namespace sluice::sandbox {
namespace {

using nlohmann::json;

constexpr size_t kMaxMatches = 1000;

// Splits a pattern into the folder it can start from (its leading segments
// without wildcards, never the last one) and the rest: "src/**/*.cpp" walks
// only src, with "**/*.cpp".
std::pair<std::string, std::string> split_literal_prefix(const std::string& pattern) {
  size_t split = 0;  // the end of the literal folder prefix
  if (pattern.starts_with('/')) split = 1;
  for (size_t slash = pattern.find('/', split); slash != std::string::npos;
       slash = pattern.find('/', slash + 1)) {
    std::string_view segment(pattern.data() + split, slash - split);
    if (has_wildcard(segment)) break;
    split = slash + 1;
  }
  std::string folder = pattern.substr(0, split);
  if (folder.size() > 1 && folder.ends_with('/')) folder.pop_back();
  return {folder, pattern.substr(split)};
}

ToolResult list_files(Sandbox& sandbox, const json& arguments) {
  std::string pattern = string_argument(arguments, "pattern");
  std::string path = string_argument(arguments, "path");
  if (pattern.empty()) return {"the pattern is empty", true};
  auto [prefix, rest] = split_literal_prefix(pattern);
  std::string root = prefix.starts_with('/') ? prefix : join_path(path, prefix);

  std::vector<std::string> matches;
  FileWalk walk;
  walk.root = root;
  walk.enter = [&](const std::string& dir) { return glob_may_match_below(rest, dir); };
  walk.visit = [&](const std::string& file) {
    if (glob_match(rest, file)) matches.push_back(join_path(root, file));
    return matches.size() < kMaxMatches;
  };
  WalkEnd end;
  try {
    end = walk_files(sandbox, walk);
  } catch (const SandboxError& error) {
    if (error.kind() != ErrorKind::kNotFound) throw;
    return {"no files match " + pattern + " (" + error.what() + ")", false};
  }
  std::sort(matches.begin(), matches.end());
  if (matches.empty()) return {"no files match " + pattern, false};
  std::string content;
  for (const std::string& match : matches) content += match + '\n';
  if (end == WalkEnd::kStoppedByVisitor) {
    content += "[stopped after " + std::to_string(kMaxMatches) + " files; narrow the pattern]\n";
  } else if (end == WalkEnd::kEntryLimit) {
    content += "[stopped after looking at " + std::to_string(walk.max_entries) +
               " entries; narrow the pattern or the path]\n";
  }
  return {content, false};
}

}  // namespace

Tool list_files_tool() {
  return {
      "list_files",
      "List the files whose paths match a glob pattern such as \"src/**/*.cpp\" (** spans "
      "folders; hidden entries only when the pattern names the dot).",
      {{"type", "object"},
       {"properties",
        {{"pattern", {{"type", "string"}, {"description", "The glob pattern, e.g. \"**/*.md\""}}},
         {"path",
          {{"type", "string"},
           {"description",
            "The folder the pattern starts from (default: the working directory)"}}}}},
       {"required", {"pattern"}},
       {"additionalProperties", false}},
      list_files};
}

}  // namespace sluice::sandbox
