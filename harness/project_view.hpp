#pragma once
// The project a node serves, replaced as a whole when `sluice dev` reloads it.
// Readers (route handlers on io threads) take a snapshot and keep using it for
// the request.
#include "core/replaceable.hpp"
#include "harness/project.hpp"

namespace sluice::harness {

using ProjectView = Replaceable<Project>;

}  // namespace sluice::harness
