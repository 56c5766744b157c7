#include "sandbox/glob.hpp"

#include <string>
#include <vector>

namespace sluice::sandbox {
namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));  // skips "a//b" gaps
    start = slash + 1;
  }
  return out;
}

// Matches "[...]" at pattern[p] against c; sets `next` past the class. A '['
// without its ']' is taken literally.
bool match_class(std::string_view pattern, size_t p, char c, size_t& next, bool& is_class) {
  size_t i = p + 1;
  bool negated = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negated) ++i;
  size_t first = i;
  bool matched = false;
  for (; i < pattern.size() && (pattern[i] != ']' || i == first); ++i) {
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      matched |= pattern[i] <= c && c <= pattern[i + 2];
      i += 2;
    } else {
      matched |= pattern[i] == c;
    }
  }
  is_class = i < pattern.size();
  next = i + 1;
  return matched != negated;
}

// One segment against one name, with backtracking for '*'.
bool match_segment(std::string_view pattern, std::string_view name) {
  if (!name.empty() && name[0] == '.' && !pattern.empty() && pattern[0] != '.') return false;
  size_t p = 0, n = 0;
  size_t star = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_n = n;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '?') {
        ++p;
        ++n;
        continue;
      }
      if (pattern[p] == '[') {
        size_t next = 0;
        bool is_class = false;
        bool matched = match_class(pattern, p, name[n], next, is_class);
        if (is_class && matched) {
          p = next;
          ++n;
          continue;
        }
        if (!is_class && name[n] == '[') {
          ++p;
          ++n;
          continue;
        }
      } else if (pattern[p] == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Pattern segments from i against path segments from j. With `prefix`, a
// path that runs out first counts as a match (something below may match).
bool match_from(const std::vector<std::string_view>& pattern, size_t i,
                const std::vector<std::string_view>& path, size_t j, bool prefix) {
  if (j == path.size()) {
    if (prefix) return i < pattern.size();
    while (i < pattern.size() && pattern[i] == "**") ++i;
    return i == pattern.size();
  }
  if (i == pattern.size()) return false;
  if (pattern[i] == "**") {
    // "**" never enters hidden folders; it may also match nothing.
    if (match_from(pattern, i + 1, path, j, prefix)) return true;
    return path[j][0] != '.' && match_from(pattern, i, path, j + 1, prefix);
  }
  return match_segment(pattern[i], path[j]) && match_from(pattern, i + 1, path, j + 1, prefix);
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return match_from(segments(pattern), 0, segments(path), 0, false);
}

bool glob_may_match_below(std::string_view pattern, std::string_view dir) {
  return match_from(segments(pattern), 0, segments(dir), 0, true);
}

bool has_wildcard(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

}  // namespace sluice::sandbox
