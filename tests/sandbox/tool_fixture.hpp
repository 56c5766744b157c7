#pragma once
// A ToolSet over a LocalSandbox in a fresh temporary folder.
#include <memory>

#include "sandbox/local_sandbox.hpp"
#include "sandbox/tools.hpp"
#include "tests/sandbox/sandbox_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace sluice::sandbox::test {

struct ToolFixture {
  sluice::test::TempDir dir;
  std::shared_ptr<LocalSandbox> sandbox;
  ToolSet tools;

  ToolFixture()
      : sandbox(std::make_shared<LocalSandbox>([&] {
          LocalSandboxOptions options;
          options.cwd = dir.path();
          return options;
        }())),
        tools(sandbox) {}

  ToolResult call(const std::string& name, const nlohmann::json& arguments) {
    return tools.call(name, arguments);
  }
  void put(const std::string& relative, const std::string& text) {
    write_text(dir / relative, text);
  }
  std::string get(const std::string& relative) { return read_text(dir / relative); }
};

}  // namespace sluice::sandbox::test
