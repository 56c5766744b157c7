// The toml++ parser, compiled once into sluice_harness (harness/toml.hpp says
// why it is not taken from the shared library).
#define TOML_IMPLEMENTATION
#include "harness/toml.hpp"
