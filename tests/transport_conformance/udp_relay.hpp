#pragma once
// A UDP relay between one client and one server on loopback: the test's way
// to make a peer vanish without a word (cut()), as a crashed edge or a
// dropped path would. Later: seeded loss and reordering.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace warren::test {

class UdpRelay {
 public:
  using udp = boost::asio::ip::udp;
  UdpRelay(boost::asio::io_context& io, std::uint16_t target_port);
  ~UdpRelay() { *alive_ = false; }
  std::uint16_t port() const { return front_.local_endpoint().port(); }
  /// From now on every datagram in either direction is dropped.
  void cut() { cut_ = true; }
  /// While set, datagrams from the server to the client are dropped.
  void mute_server(bool mute) { server_muted_ = mute; }
  /// Drops each datagram with probability `loss`, decided by a seeded
  /// generator so a failing run can be replayed.
  void set_loss(double loss, std::uint64_t seed) {
    loss_ = loss;
    random_ = seed;
  }
  std::uint64_t forwarded() const { return forwarded_; }

 private:
  void receive_from_client();
  void receive_from_server();
  bool drop();

  udp::socket front_;  ///< the client talks to this
  udp::socket back_;   ///< this talks to the server
  udp::endpoint target_;
  udp::endpoint client_;
  udp::endpoint from_client_;
  udp::endpoint from_server_;
  std::array<std::uint8_t, 65536> client_buffer_;
  std::array<std::uint8_t, 65536> server_buffer_;
  // A completion already queued when the relay dies still runs; it checks
  // this before touching anything.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool cut_ = false;
  bool server_muted_ = false;
  double loss_ = 0;
  std::uint64_t random_ = 0;
  std::uint64_t forwarded_ = 0;
};

}  // namespace warren::test
