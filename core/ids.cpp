#include "core/ids.hpp"

#include <chrono>
#include <cstdint>
#include <random>

namespace sluice {

std::string new_ulid() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  const uint64_t hi = rng();
  const uint64_t lo = rng();
  std::string out(26, '0');
  // 10 characters of time (50 bits, top 2 always zero for 48-bit time).
  for (int i = 9; i >= 0; --i) out[9 - i] = kAlphabet[(ms >> (i * 5)) & 31];
  // 16 characters of randomness (80 bits).
  for (int i = 0; i < 16; ++i) {
    const uint64_t source = i < 8 ? hi >> (i * 5) : lo >> ((i - 8) * 5);
    out[10 + i] = kAlphabet[source & 31];
  }
  return out;
}

}  // namespace sluice
