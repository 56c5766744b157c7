#pragma once
// The HTTP providers' side of a ModelRuntime: API keys, base URLs and the proxy,
// read once from the environment when the runtime is built (so the server may
// scrub its environment afterwards), and one HttpStreamClient per provider so
// each has its own concurrency cap.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "harness/http_stream_client.hpp"

namespace sluice::harness {

struct ProviderSettings {
  std::string anthropic_api_key;  // "" when not configured
  std::string anthropic_base_url = "https://api.anthropic.com";
  std::string openai_api_key;
  std::string openai_base_url = "https://api.openai.com/v1";
  std::string https_proxy;  // "" for none
  std::string no_proxy;     // comma-separated
  size_t max_concurrent_per_provider = 64;  // SLUICE_PROVIDER_CONCURRENCY
  std::string ca_file;  // "" for the system's trust store

  // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OPENAI_API_KEY, OPENAI_BASE_URL,
  // HTTPS_PROXY / https_proxy, NO_PROXY / no_proxy, SLUICE_PROVIDER_CONCURRENCY;
  // unset or empty keeps the default. Throws std::invalid_argument for a
  // concurrency that is not a whole number from 1 to 4096.
  static ProviderSettings from_environment();
};

// One provider as the models see it. When `problem` is set, every turn fails
// at once (not transiently) with it: the server still starts and serves the
// other agents.
struct ProviderAccess {
  std::string api_key;
  std::optional<HttpEndpoint> endpoint;
  std::string problem;
  std::unique_ptr<HttpStreamClient> client;
};

class Providers {
 public:
  Providers(boost::asio::io_context& io, const ProviderSettings& settings);
  ProviderAccess& anthropic() { return anthropic_; }
  ProviderAccess& openai() { return openai_; }

 private:
  ProviderAccess anthropic_;
  ProviderAccess openai_;
};

}  // namespace sluice::harness
