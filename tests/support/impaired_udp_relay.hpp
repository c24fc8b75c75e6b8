#pragma once
// A seeded UDP relay on loopback that impairs what it forwards: random loss,
// reordering (a datagram held back for a bounded delay while later ones
// pass) and duplication, both ways. What netem would do, for a kernel
// without it: the fault tests put it between a connector and an edge.
//
// Each client address gets its own socket towards the target (a NAT), so a
// connector that re-binds, or several connectors, work through one relay.
// Every decision comes from one generator seeded by the test, so a failing
// schedule can be replayed (timing still varies run to run). It runs in its
// own thread; settings change while it runs.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace warren::test {

/// What happens to each datagram, in each direction, decided independently.
struct UdpImpairment {
  double loss = 0;                             ///< probability it is dropped
  double reorder = 0;                          ///< probability it is held back (if not dropped)
  std::chrono::milliseconds reorder_delay{0};  ///< a held datagram waits uniformly in (0, this]
  double duplicate = 0;                        ///< probability it is sent twice (the copy right after)
};

class ImpairedUdpRelay {
 public:
  /// Relays between 127.0.0.1:port() and `target_host`:`target_port`.
  ImpairedUdpRelay(std::uint16_t target_port, std::uint64_t seed, std::string target_host = "127.0.0.1");
  ~ImpairedUdpRelay();
  ImpairedUdpRelay(const ImpairedUdpRelay&) = delete;
  ImpairedUdpRelay& operator=(const ImpairedUdpRelay&) = delete;

  /// Where clients send (127.0.0.1).
  std::uint16_t port() const { return port_; }
  /// Applies from the next datagram on; datagrams already held keep their time.
  void set(const UdpImpairment& impairment);

  struct Counts {
    std::uint64_t received = 0;  ///< datagrams in, both ways
    std::uint64_t dropped = 0;
    std::uint64_t reordered = 0;   ///< held back
    std::uint64_t duplicated = 0;  ///< extra copies sent
  };
  Counts counts() const;

 private:
  struct Loop;
  void run();

  int front_ = -1;
  std::uint16_t port_ = 0;
  std::uint32_t target_address_ = 0;  ///< network order
  std::uint16_t target_port_ = 0;
  std::uint64_t seed_;
  mutable std::mutex mutex_;  ///< guards impairment_ and counts_
  UdpImpairment impairment_;
  Counts counts_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace warren::test
