#pragma once
// What is left of a connection we closed: for a while (RFC 9000 §10.2.1,
// at least three PTOs) its connection IDs still route here, and a late
// packet from the peer is answered with our CONNECTION_CLOSE again, in case
// the first one was lost. Without this the peer would wait out its idle
// timeout. For an address never validated the repeats stay within what is
// left of the anti-amplification limit (3x what the peer sent, RFC 9000 §8).

#include "udp_endpoint.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace warren::quic {

class ClosingConnection final : public PacketSink, public std::enable_shared_from_this<ClosingConnection> {
 public:
  /// Takes over `cids` on `endpoint` for `period`, then lets them go.
  /// `budget`: bytes it may still send to an unvalidated `remote` (null:
  /// validated, no limit); each datagram received adds 3x its size.
  static void start(const std::shared_ptr<UdpEndpoint>& endpoint, std::vector<ngtcp2_cid> cids,
                    const udp::endpoint& remote, const std::uint8_t* close_packet, std::size_t len,
                    std::chrono::nanoseconds period, std::optional<std::uint64_t> budget);

  void on_datagram(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now) override;
  void end_of_batch() override {}

  ClosingConnection(const std::shared_ptr<UdpEndpoint>& endpoint, std::vector<ngtcp2_cid> cids,
                    const udp::endpoint& remote, const std::uint8_t* close_packet, std::size_t len);

 private:
  void finish();

  std::weak_ptr<UdpEndpoint> endpoint_;
  std::vector<ngtcp2_cid> cids_;
  udp::endpoint remote_;
  std::vector<std::uint8_t> close_packet_;
  boost::asio::steady_timer timer_;
  std::uint64_t received_ = 0;
  std::optional<std::uint64_t> budget_;
};

}  // namespace warren::quic
