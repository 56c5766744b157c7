#include <vector>
// Sanitizer builds make GCC 12 report a false maybe-uninitialized inside
// libstdc++'s regex compiler; it is library code, so silence it just there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

#include "core/utf8.hpp"
#include "sandbox/builtin_tools.hpp"
#include "sandbox/file_walk.hpp"
#include "sandbox/glob.hpp"
#include "sandbox/tool_arguments.hpp"

namespace sluice::sandbox {
namespace {

using nlohmann::json;

constexpr size_t kMaxMatches = 200;
constexpr size_t kMaxShownChars = 500;
// std::regex recurses per character: matching only a line's head keeps a
// minified file from exhausting the stack.
constexpr size_t kMaxMatchedChars = 4096;
constexpr size_t kBinaryProbeBytes = 8000;

struct Search {
  std::regex regex;
  std::vector<std::string> lines;  // "file:line:text"
  size_t skipped_files = 0;        // unreadable or too large

  bool full() const { return lines.size() >= kMaxMatches; }

  // Adds the file's matching lines; false once the match cap is reached.
  bool scan(Sandbox& sandbox, const std::string& file) {
    std::string text;
    try {
      text = sandbox.read(file);
    } catch (const SandboxError& error) {
      if (error.kind() == ErrorKind::kNoSandbox || error.kind() == ErrorKind::kUnavailable) throw;
      ++skipped_files;
      return true;
    }
    if (text.substr(0, kBinaryProbeBytes).find('\0') != std::string::npos) return true;
    size_t number = 0;
    for (size_t start = 0; start < text.size() && !full();) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      ++number;
      std::string_view line(text.data() + start, end - start);
      std::string_view head = line.substr(0, kMaxMatchedChars);
      if (std::regex_search(head.begin(), head.end(), regex)) {
        std::string shown(cut_utf8(line, kMaxShownChars));
        if (line.size() > kMaxShownChars) shown += " [line cut]";
        lines.push_back(file + ":" + std::to_string(number) + ":" + shown);
      }
      start = end + 1;
    }
    return !full();
  }
};

// A glob without '/' filters by file name, at any depth; with one, by the
// path below the searched folder.
bool passes(const std::string& glob, const std::string& relative) {
  if (glob.empty()) return true;
  if (glob.find('/') != std::string::npos) return glob_match(glob, relative);
  size_t slash = relative.rfind('/');
  return glob_match(glob, slash == std::string::npos ? relative : relative.substr(slash + 1));
}

ToolResult grep(Sandbox& sandbox, const json& arguments) {
  std::string pattern = string_argument(arguments, "pattern");
  std::string path = string_argument(arguments, "path");
  std::string glob = string_argument(arguments, "glob");
  Search search;
  try {
    search.regex = std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& error) {
    return {"invalid regular expression \"" + pattern + "\": " + error.what(), true};
  }

  WalkEnd end = WalkEnd::kComplete;
  FileWalk walk;
  if (!path.empty() && !sandbox.stat(path).is_dir) {
    search.scan(sandbox, path);
  } else {
    walk.root = path;
    walk.enter = [](const std::string& dir) {
      return dir.substr(dir.rfind('/') + 1)[0] != '.';  // hidden folders (.git) stay out
    };
    walk.visit = [&](const std::string& file) {
      return !passes(glob, file) || search.scan(sandbox, join_path(path, file));
    };
    end = walk_files(sandbox, walk);
  }

  std::string content;
  for (const std::string& line : search.lines) content += line + '\n';
  if (search.lines.empty()) content = "no matches for " + pattern + "\n";
  if (search.full()) {
    content += "[stopped after " + std::to_string(kMaxMatches) +
               " matches; narrow the pattern, path or glob]\n";
  } else if (end == WalkEnd::kEntryLimit) {
    content += "[stopped after looking at " + std::to_string(walk.max_entries) +
               " entries; narrow the path or glob]\n";
  }
  if (search.skipped_files > 0) {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "[" + std::to_string(...).
    content += "[skipped ";
    content += std::to_string(search.skipped_files) + " files that could not be read]\n";
  }
  return {content, false};
}

}  // namespace

Tool grep_tool() {
  return {"grep",
          "Search file contents for a regular expression (ECMAScript syntax); returns "
          "file:line:text for each matching line, hidden folders left out.",
          {{"type", "object"},
           {"properties",
            {{"pattern", {{"type", "string"}, {"description", "The regular expression"}}},
             {"path",
              {{"type", "string"},
               {"description", "A file or folder to search (default: the working directory)"}}},
             {"glob",
              {{"type", "string"},
               {"description",
                "Only files matching this glob: by name (\"*.cpp\") or by path below the "
                "folder (\"src/**/*.hpp\")"}}}}},
           {"required", {"pattern"}},
           {"additionalProperties", false}},
          grep};
}

}  // namespace sluice::sandbox
