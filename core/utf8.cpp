#include "core/utf8.hpp"

#include <cstdint>

namespace sluice {

bool is_valid_utf8(std::string_view s) {
  auto continuation = [&](size_t k, uint8_t low = 0x80, uint8_t high = 0xBF) {
    return k < s.size() && static_cast<uint8_t>(s[k]) >= low && static_cast<uint8_t>(s[k]) <= high;
  };
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t lead = static_cast<uint8_t>(s[i]);
    if (lead < 0x80) {
      ++i;
    } else if (lead >= 0xC2 && lead <= 0xDF && continuation(i + 1)) {
      i += 2;
    } else if (lead >= 0xE0 && lead <= 0xEF &&
               continuation(i + 1, lead == 0xE0 ? 0xA0 : 0x80, lead == 0xED ? 0x9F : 0xBF) &&
               continuation(i + 2)) {
      i += 3;
    } else if (lead >= 0xF0 && lead <= 0xF4 &&
               continuation(i + 1, lead == 0xF0 ? 0x90 : 0x80, lead == 0xF4 ? 0x8F : 0xBF) &&
               continuation(i + 2) && continuation(i + 3)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace sluice
