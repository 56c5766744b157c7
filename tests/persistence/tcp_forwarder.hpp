#pragma once
// A loopback TCP forwarder that starts listening only after a delay: to a
// client, a server that is not up yet and then comes up. Each accepted
// connection is piped to 127.0.0.1:target_port until either side closes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sluice::persistence::testing {

class TcpForwarder {
 public:
  TcpForwarder(int target_port, std::chrono::milliseconds delay)
      : target_port_(target_port), port_(unused_port()) {
    threads_.emplace_back([this, delay] {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, delay, [this] { return stopping_.load(); })) return;
      lock.unlock();
      serve();
    });
  }
  ~TcpForwarder() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  int port() const { return port_; }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  // A port that was free a moment ago; nothing listens on it until serve().
  static int unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  void serve() {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    const sockaddr_in address = loopback(port_);
    if (::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listener, 8) != 0) {
      ::close(listener);
      return;  // the test then fails on its connection timeout
    }
    std::vector<std::thread> pipes;
    while (!stopping_) {
      pollfd ready{listener, POLLIN, 0};
      if (::poll(&ready, 1, 50) <= 0) continue;
      const int client = ::accept(listener, nullptr, nullptr);
      if (client < 0) continue;
      pipes.emplace_back([this, client] { pipe(client); });
    }
    ::close(listener);
    for (std::thread& thread : pipes) thread.join();
  }

  void pipe(int client) {
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in target = loopback(target_port_);
    if (::connect(server, reinterpret_cast<const sockaddr*>(&target), sizeof(target)) == 0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      char buffer[16384];
      bool open = true;
      while (open && !stopping_) {
        if (::poll(fds, 2, 50) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
          open = n > 0 && ::send(fds[1 - i].fd, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) == n;
        }
      }
    }
    ::close(server);
    ::close(client);
  }

  const int target_port_;
  const int port_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace sluice::persistence::testing
