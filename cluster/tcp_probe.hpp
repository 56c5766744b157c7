#pragma once
// Whether a TCP connection to host:port can be opened within `timeout`.
// CAF 0.17's middleman connects with a blocking call inside its one actor: a
// peer whose address no longer answers (a killed container drops SYNs) would
// hold every later connect behind the kernel's SYN retries for about two
// minutes. Probing first, with our own deadline and off every actor thread,
// keeps a dead address from ever reaching the middleman.
#include <chrono>
#include <cstdint>
#include <string>

namespace sluice::cluster {

// Blocks for up to `timeout`: call it from a thread of its own.
bool tcp_reachable(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

}  // namespace sluice::cluster
