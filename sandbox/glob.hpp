#pragma once
// Glob patterns over '/'-separated relative paths, as list_files and grep use
// them: '*' matches any run of characters within one segment, '?' one
// character, "[abc]" / "[a-z]" / "[!abc]" one character of a set, and a
// segment "**" any number of whole segments (none included). As in shells,
// a wildcard does not match the leading '.' of a segment, so hidden files and
// folders (".git") are only found when the pattern names the dot.
#include <string_view>

namespace sluice::sandbox {

bool glob_match(std::string_view pattern, std::string_view path);

// Whether some path inside the folder `dir` (relative, "" for the root of the
// search) could match: lets a search skip folders the pattern cannot reach.
bool glob_may_match_below(std::string_view pattern, std::string_view dir);

// Whether the text holds a wildcard character at all.
bool has_wildcard(std::string_view text);

}  // namespace sluice::sandbox
