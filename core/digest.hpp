#pragma once
#include <string>
#include <string_view>

namespace sluice {

// Lower-case hex SHA-256, for idempotency body hashes.
std::string sha256_hex(std::string_view data);

}  // namespace sluice
