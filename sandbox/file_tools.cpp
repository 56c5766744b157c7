// read_file, write_file and edit_file.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "core/utf8.hpp"
#include "sandbox/builtin_tools.hpp"
#include "sandbox/tool_arguments.hpp"

namespace sluice::sandbox {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultLineLimit = 2000;
constexpr int64_t kMaxLineLimit = 100'000;
constexpr size_t kMaxLineChars = 2000;  // longer lines are cut (minified files)

json path_property(const char* description) {
  return {{"type", "string"}, {"description", description}};
}

// The lines of a text, without their '\n'; a final '\n' ends the last line
// rather than starting an empty one.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

ToolResult read_file(Sandbox& sandbox, const json& arguments) {
  std::string path = string_argument(arguments, "path");
  int64_t offset = integer_argument(arguments, "offset", 1);
  int64_t limit = integer_argument(arguments, "limit", kDefaultLineLimit);
  std::string text = sandbox.read(path);
  std::vector<std::string_view> lines = split_lines(text);
  const auto total = static_cast<int64_t>(lines.size());
  if (total == 0) return {path + " is empty", false};
  if (offset > total) {
    return {path + " has " + std::to_string(total) + " lines; offset " + std::to_string(offset) +
                " is past the end",
            true};
  }
  int64_t last = std::min(total, offset + limit - 1);
  std::string content;
  for (int64_t number = offset; number <= last; ++number) {
    std::string_view line = lines[static_cast<size_t>(number - 1)];
    std::string label = std::to_string(number);
    // As `cat -n` prints them: the number right-aligned, then a tab.
    content += std::string(label.size() < 6 ? 6 - label.size() : 0, ' ') + label + '\t';
    content += cut_utf8(line, kMaxLineChars);
    if (line.size() > kMaxLineChars) content += " [line cut]";
    content += '\n';
  }
  if (offset > 1 || last < total) {
    content += "[lines " + std::to_string(offset) + "-" + std::to_string(last) + " of " +
               std::to_string(total);
    if (last < total) content += "; pass offset=" + std::to_string(last + 1) + " to read on";
    content += "]\n";
  }
  return {content, false};
}

ToolResult write_file(Sandbox& sandbox, const json& arguments) {
  std::string path = string_argument(arguments, "path");
  std::string content = string_argument(arguments, "content");
  sandbox.write(path, content);
  return {"wrote " + std::to_string(content.size()) + " bytes to " + path, false};
}

size_t count_occurrences(std::string_view text, std::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

ToolResult edit_file(Sandbox& sandbox, const json& arguments) {
  std::string path = string_argument(arguments, "path");
  std::string old_string = string_argument(arguments, "old_string");
  std::string new_string = string_argument(arguments, "new_string");
  if (old_string.empty()) {
    return {"old_string is empty; to create or replace a whole file use write_file", true};
  }
  if (old_string == new_string) return {"old_string and new_string are the same", true};
  // The exact bytes, so an edit leaves the rest of a file that is not valid
  // UTF-8 as it was.
  std::string bytes = sandbox.read_bytes(path);
  size_t count = count_occurrences(bytes, old_string);
  if (count == 0) {
    return {"old_string was not found in " + path +
                "; read the file and copy the text exactly, whitespace included",
            true};
  }
  if (count > 1) {
    return {"old_string occurs " + std::to_string(count) + " times in " + path +
                "; include more of the surrounding text so that it occurs exactly once",
            true};
  }
  bytes.replace(bytes.find(old_string), old_string.size(), new_string);
  sandbox.write(path, bytes);
  return {"replaced 1 occurrence in " + path, false};
}

}  // namespace

Tool read_file_tool() {
  return {"read_file",
          "Read a text file; returns its lines numbered like `cat -n`, " +
              std::to_string(kDefaultLineLimit) + " lines at a time.",
          {{"type", "object"},
           {"properties",
            {{"path", path_property("The file, relative to the working directory or absolute")},
             {"offset",
              {{"type", "integer"},
               {"minimum", 1},
               {"maximum", std::numeric_limits<int32_t>::max()},
               {"description", "The first line to return, counting from 1 (default 1)"}}},
             {"limit",
              {{"type", "integer"},
               {"minimum", 1},
               {"maximum", kMaxLineLimit},
               {"description",
                "How many lines to return (default " + std::to_string(kDefaultLineLimit) + ")"}}}}},
           {"required", {"path"}},
           {"additionalProperties", false}},
          read_file};
}

Tool write_file_tool() {
  return {"write_file",
          "Create or replace a file with the given content; missing folders are created.",
          {{"type", "object"},
           {"properties",
            {{"path", path_property("The file, relative to the working directory or absolute")},
             {"content", {{"type", "string"}, {"description", "The whole new content"}}}}},
           {"required", {"path", "content"}},
           {"additionalProperties", false}},
          write_file};
}

Tool edit_file_tool() {
  return {
      "edit_file",
      "Replace one exact occurrence of old_string in a file with new_string; fails when "
      "old_string is absent or occurs more than once.",
      {{"type", "object"},
       {"properties",
        {{"path", path_property("The file, relative to the working directory or absolute")},
         {"old_string",
          {{"type", "string"},
           {"description", "The exact text to replace, whitespace included; must occur once"}}},
         {"new_string", {{"type", "string"}, {"description", "The text to put in its place"}}}}},
       {"required", {"path", "old_string", "new_string"}},
       {"additionalProperties", false}},
      edit_file};
}

}  // namespace sluice::sandbox
