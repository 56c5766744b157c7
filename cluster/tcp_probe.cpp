#include "cluster/tcp_probe.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::cluster {

bool tcp_reachable(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return false;
  bool reachable = false;
  for (addrinfo* at = found; at != nullptr && !reachable; at = at->ai_next) {
    const int fd = socket(at->ai_family, at->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (connect(fd, at->ai_addr, at->ai_addrlen) == 0) {
      reachable = true;
    } else if (errno == EINPROGRESS) {
      pollfd poll_fd{fd, POLLOUT, 0};
      if (poll(&poll_fd, 1, static_cast<int>(timeout.count())) == 1) {
        int error = 0;
        socklen_t length = sizeof error;
        reachable = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
      }
    }
    close(fd);
  }
  freeaddrinfo(found);
  return reachable;
}

}  // namespace sluice::cluster
