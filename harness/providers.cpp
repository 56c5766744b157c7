#include "harness/providers.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace sluice::harness {
namespace {

std::string environment(const char* name, const char* fallback = nullptr) {
  const char* value = std::getenv(name);
  if ((value == nullptr || *value == '\0') && fallback != nullptr) value = std::getenv(fallback);
  return value == nullptr ? std::string() : std::string(value);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(begin, end - begin);
    const auto first = item.find_first_not_of(' ');
    const auto last = item.find_last_not_of(' ');
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
    begin = end + 1;
  }
  return items;
}

ProviderAccess access(boost::asio::io_context& io, const ProviderSettings& settings,
                      const std::string& key, const char* key_variable,
                      const std::string& base_url, const char* url_variable,
                      const std::optional<HttpEndpoint>& proxy, const std::string& proxy_problem) {
  ProviderAccess result;
  result.api_key = key;
  try {
    result.endpoint = parse_base_url(base_url);
  } catch (const std::invalid_argument& error) {
    result.problem = std::string(url_variable) + " is not usable: " + error.what();
  }
  if (result.problem.empty() && result.endpoint->tls && !proxy_problem.empty()) {
    result.problem = proxy_problem;
  }
  if (result.problem.empty() && key.empty()) {
    result.problem = std::string("no API key: set ") + key_variable +
                     " in the server's environment and restart it";
  }
  HttpClientSettings client;
  client.https_proxy = proxy;
  client.no_proxy = split_list(settings.no_proxy);
  client.max_concurrent = settings.max_concurrent_per_provider;
  client.ca_file = settings.ca_file;
  result.client = std::make_unique<HttpStreamClient>(io, std::move(client));
  return result;
}

}  // namespace

ProviderSettings ProviderSettings::from_environment() {
  ProviderSettings settings;
  settings.anthropic_api_key = environment("ANTHROPIC_API_KEY");
  settings.openai_api_key = environment("OPENAI_API_KEY");
  if (auto url = environment("ANTHROPIC_BASE_URL"); !url.empty()) settings.anthropic_base_url = url;
  if (auto url = environment("OPENAI_BASE_URL"); !url.empty()) settings.openai_base_url = url;
  settings.https_proxy = environment("HTTPS_PROXY", "https_proxy");
  settings.no_proxy = environment("NO_PROXY", "no_proxy");
  if (const auto text = environment("SLUICE_PROVIDER_CONCURRENCY"); !text.empty()) {
    size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 1 || value > 4096) {
      throw std::invalid_argument("SLUICE_PROVIDER_CONCURRENCY='" + text +
                                  "': expected a whole number from 1 to 4096");
    }
    settings.max_concurrent_per_provider = value;
  }
  return settings;
}

Providers::Providers(boost::asio::io_context& io, const ProviderSettings& settings) {
  std::optional<HttpEndpoint> proxy;
  std::string proxy_problem;
  if (!settings.https_proxy.empty()) {
    try {
      proxy = parse_base_url(settings.https_proxy);
      if (proxy->tls) proxy_problem = "HTTPS_PROXY: only http:// proxies are supported";
    } catch (const std::invalid_argument& error) {
      proxy_problem = std::string("HTTPS_PROXY is not usable: ") + error.what();
    }
    // Requests must not silently bypass a configured proxy that cannot be used.
    if (!proxy_problem.empty()) proxy.reset();
  }
  anthropic_ = access(io, settings, settings.anthropic_api_key, "ANTHROPIC_API_KEY",
                      settings.anthropic_base_url, "ANTHROPIC_BASE_URL", proxy, proxy_problem);
  openai_ = access(io, settings, settings.openai_api_key, "OPENAI_API_KEY",
                   settings.openai_base_url, "OPENAI_BASE_URL", proxy, proxy_problem);
}

}  // namespace sluice::harness
