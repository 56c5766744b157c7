#include "cluster/forwarder_actor.hpp"

#include <functional>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/continuation.hpp"
#include "actors/messages.hpp"
#include "cluster/tcp_probe.hpp"
#include "core/clock.hpp"

namespace sluice::cluster {
namespace {

PublicError peer_unreachable(const std::string& node_id) {
  return make_error("unavailable", "The node that owns this session cannot be reached.",
                    "Retry shortly; a node that stays unreachable loses its sessions to the others.",
                    {{"reason", "owner_unreachable"}, {"node", node_id}});
}

class Forwarder : public caf::event_based_actor {
 public:
  Forwarder(caf::actor_config& config, RelayOptions options)
      : caf::event_based_actor(config), options_(std::move(options)) {
    set_down_handler([this](caf::down_msg& down) { on_down(down); });
  }

  const char* name() const override { return "sluice.forwarder"; }

  caf::behavior make_behavior() override {
    return {
        [](actors::continue_atom, const actors::Continuation& k) { (*k)(); },
        [this](actors::submit_atom, const actors::SubmitPtr& command, const std::string& node_id,
               const std::string& advertise) {
          auto router = caf::actor_cast<caf::actor>(current_sender());
          with_peer(node_id, advertise, [this, command, node_id, router](const caf::actor* gate) {
            if (gate) {
              spawn_submit_relay(system(), *gate, router, command, options_);
            } else if (!retry_later(router, command)) {
              command->observer->on_rejected(peer_unreachable(node_id));
            }
          });
        },
        [this](actors::abort_atom, const actors::AbortPtr& command, const std::string& node_id,
               const std::string& advertise) {
          auto router = caf::actor_cast<caf::actor>(current_sender());
          with_peer(node_id, advertise, [this, command, node_id, router](const caf::actor* gate) {
            if (gate) {
              spawn_abort_relay(system(), *gate, router, command, options_);
            } else if (!retry_later(router, command)) {
              command->observer->on_failed(peer_unreachable(node_id));
            }
          });
        },
        [this](actors::delete_atom, const actors::DeletePtr& command, const std::string& node_id,
               const std::string& advertise) {
          auto router = caf::actor_cast<caf::actor>(current_sender());
          with_peer(node_id, advertise, [this, command, node_id, router](const caf::actor* gate) {
            if (gate) {
              spawn_delete_relay(system(), *gate, router, command, options_);
            } else if (!retry_later(router, command)) {
              command->observer->on_failed(peer_unreachable(node_id));
            }
          });
        },
    };
  }

 private:
  using Use = std::function<void(const caf::actor*)>;  // nullptr: the peer is unreachable

  // The command never left this node, so routing it again is always safe: by
  // then the members may have dropped the unreachable node and picked another.
  template <class Command>
  bool retry_later(const caf::actor& router, const std::shared_ptr<const Command>& command) {
    if (!router || now_ms() >= command->route_deadline_ms) return false;
    delayed_send(router, kRetryEvery, actors::reroute_atom::value, command);
    return true;
  }

  static constexpr std::chrono::milliseconds kRetryEvery{250};
  static constexpr std::chrono::milliseconds kProbeTimeout{1000};

  struct Peer {
    std::string advertise;
    caf::actor gate;          // set once connected
    std::vector<Use> waiting;  // while connecting
  };

  void with_peer(const std::string& node_id, const std::string& advertise, Use use) {
    auto it = peers_.find(node_id);
    if (it != peers_.end() && it->second.advertise != advertise) {
      forget(it);  // the node restarted somewhere else
      it = peers_.end();
    }
    if (it != peers_.end()) {
      if (it->second.gate) {
        use(&it->second.gate);
      } else {
        it->second.waiting.push_back(std::move(use));
      }
      return;
    }
    Peer& peer = peers_[node_id];
    peer.advertise = advertise;
    peer.waiting.push_back(std::move(use));
    connect(node_id, advertise);
  }

  void connect(const std::string& node_id, const std::string& advertise) {
    const auto colon = advertise.rfind(':');
    uint16_t port = 0;
    try {
      if (colon != std::string::npos) port = static_cast<uint16_t>(std::stoi(advertise.substr(colon + 1)));
    } catch (const std::exception&) {
      port = 0;
    }
    if (port == 0) {
      spdlog::error("cluster: node {} advertises an unusable address '{}'", node_id, advertise);
      connected(node_id, advertise, nullptr);
      return;
    }
    std::string host = advertise.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::thread([self = caf::actor_cast<caf::actor>(this), this, node_id, advertise, host, port] {
      const bool reachable = tcp_reachable(host, port, kProbeTimeout);
      actors::continue_in(self, [this, node_id, advertise, host, port, reachable] {
        if (reachable) {
          connect_middleman(node_id, advertise, host, port);
        } else {
          spdlog::warn("cluster: node {} at {} does not answer", node_id, advertise);
          connected(node_id, advertise, nullptr);
        }
      });
    }).detach();
  }

  void connect_middleman(const std::string& node_id, const std::string& advertise,
                         const std::string& host, uint16_t port) {
    auto mm = system().middleman().actor_handle();
    request(mm, std::chrono::milliseconds(options_.admit_timeout_ms), caf::connect_atom::value,
            host, port)
        .then(
            [this, node_id, advertise](const caf::node_id&, caf::strong_actor_ptr& gate,
                                       const std::set<std::string>&) {
              connected(node_id, advertise, caf::actor_cast<caf::actor>(std::move(gate)));
            },
            [this, node_id, advertise](caf::error& error) {
              spdlog::warn("cluster: cannot connect to node {} at {}: {}", node_id, advertise,
                           system().render(error));
              connected(node_id, advertise, nullptr);
            });
  }

  void connected(const std::string& node_id, const std::string& advertise, caf::actor gate) {
    auto it = peers_.find(node_id);
    if (it == peers_.end() || it->second.advertise != advertise) return;  // superseded
    auto waiting = std::move(it->second.waiting);
    if (!gate) {
      peers_.erase(it);
      for (auto& use : waiting) use(nullptr);
      return;
    }
    monitor(gate);
    it->second.gate = gate;
    by_address_[gate.address()] = node_id;
    spdlog::info("cluster: connected to node {} at {}", node_id, advertise);
    for (auto& use : waiting) use(&it->second.gate);
  }

  void forget(std::unordered_map<std::string, Peer>::iterator it) {
    if (it->second.gate) {
      demonitor(it->second.gate);
      by_address_.erase(it->second.gate.address());
    }
    auto waiting = std::move(it->second.waiting);
    peers_.erase(it);
    for (auto& use : waiting) use(nullptr);
  }

  void on_down(const caf::down_msg& down) {
    auto by_address = by_address_.find(down.source);
    if (by_address == by_address_.end()) return;
    const std::string node_id = by_address->second;
    spdlog::warn("cluster: lost the connection to node {}: {}", node_id,
                 system().render(down.reason));
    auto it = peers_.find(node_id);
    if (it != peers_.end()) forget(it);
  }

  RelayOptions options_;
  std::unordered_map<std::string, Peer> peers_;
  std::unordered_map<caf::actor_addr, std::string> by_address_;
};

}  // namespace

caf::actor spawn_forwarder(caf::actor_system& system, RelayOptions options) {
  return system.spawn<Forwarder>(std::move(options));
}

}  // namespace sluice::cluster
