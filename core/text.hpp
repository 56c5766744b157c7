#pragma once
// Small text helpers shared by the HTTP front end and its checks.
#include <strings.h>

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// ASCII case-insensitive equality (header names, tokens).
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

inline bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// "a, b,,c" -> {"a", "b", "c"}: items trimmed of spaces and tabs, empty ones
// dropped.
std::vector<std::string> split_comma_list(std::string_view text);

}  // namespace sluice
