#include <catch2/catch.hpp>

#include "actors/restart_pause.hpp"

using sluice::actors::restart_pause;
using namespace std::chrono_literals;

TEST_CASE("a session that keeps failing is restarted less and less often, at most a minute apart") {
  CHECK(restart_pause(1) == 1s);
  CHECK(restart_pause(2) == 2s);
  CHECK(restart_pause(3) == 4s);
  CHECK(restart_pause(6) == 32s);
  CHECK(restart_pause(7) == 60s);
  CHECK(restart_pause(1000) == 60s);
  CHECK(restart_pause(0) == 1s);
}
