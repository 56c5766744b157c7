#pragma once
// JSON that Sluice wrote itself and stored as text (results, errors, payloads):
// read back without throwing.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice {

// The parsed text; null when absent or empty (a discarded value if the text is
// not JSON, which cannot happen for what Sluice stored).
nlohmann::json parsed_or_null(const std::optional<std::string>& text);

}  // namespace sluice
