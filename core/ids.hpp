#pragma once
// Identifiers: ULIDs (48-bit millisecond time + 80 random bits, Crockford
// base32) with the protocol's prefixes (sub_, dsp_, op_, turn_).
#include <string>
#include <string_view>

namespace sluice {

std::string new_ulid();
inline std::string new_id(std::string_view prefix) {
  return std::string(prefix) + new_ulid();
}

}  // namespace sluice
