// SLUICE_TOOL_THREADS: the size of a node's tool pool, checked like every
// other setting.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "node/node_config.hpp"

namespace {

sluice::node::NodeConfig config_with(const std::map<std::string, std::string>& env) {
  return sluice::node::NodeConfig::from_environment([&env](const char* name) -> const char* {
    const auto found = env.find(name);
    return found == env.end() ? nullptr : found->second.c_str();
  });
}

}  // namespace

TEST_CASE("SLUICE_TOOL_THREADS sets the tool pool, 4 by default") {
  CHECK(config_with({}).tool_threads == 4);
  CHECK(config_with({{"SLUICE_TOOL_THREADS", "32"}}).tool_threads == 32);
  CHECK_THROWS_WITH(config_with({{"SLUICE_TOOL_THREADS", "0"}}),
                    "SLUICE_TOOL_THREADS='0': expected an integer from 1 to 1024");
  CHECK_THROWS_AS(config_with({{"SLUICE_TOOL_THREADS", "many"}}), sluice::node::ConfigError);
}
