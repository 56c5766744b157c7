#include "core/stored_json.hpp"

namespace sluice {

nlohmann::json parsed_or_null(const std::optional<std::string>& text) {
  if (!text || text->empty()) return nullptr;
  return nlohmann::json::parse(*text, nullptr, false);
}

}  // namespace sluice
