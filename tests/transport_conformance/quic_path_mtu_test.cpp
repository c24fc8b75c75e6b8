// QUIC only: packet size follows the path's MTU where it is known. On
// loopback (MTU 65536 on Linux) a packet may carry up to ~64 KB, so bulk
// data costs ~45x fewer packets than at the 1452-byte ceiling that path MTU
// discovery reaches elsewhere: fewer encryptions, ACKs and loop passes.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>

namespace warren::test {
namespace {

/// Forwards datagrams between one client and the server on loopback and
/// records the largest it saw each way.
class SizeRecordingRelay {
 public:
  using udp = boost::asio::ip::udp;
  SizeRecordingRelay(boost::asio::io_context& io, std::uint16_t target_port)
      : front_(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        back_(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        target_(boost::asio::ip::make_address("127.0.0.1"), target_port) {
    from_client();
    from_server();
  }
  ~SizeRecordingRelay() { *alive_ = false; }
  std::uint16_t port() const { return front_.local_endpoint().port(); }
  std::size_t largest_from_client() const { return largest_from_client_; }
  std::size_t largest_from_server() const { return largest_from_server_; }
  /// Datagrams over 1500 bytes (what one Ethernet frame holds), each way.
  std::size_t jumbo_from_client() const { return jumbo_from_client_; }
  std::size_t jumbo_from_server() const { return jumbo_from_server_; }

 private:
  void from_client() {
    front_.async_receive_from(boost::asio::buffer(up_), client_, [this, alive = alive_](auto ec, std::size_t n) {
      if (!*alive || ec == boost::asio::error::operation_aborted) return;
      if (!ec) {
        largest_from_client_ = std::max(largest_from_client_, n);
        jumbo_from_client_ += n > 1500;
        known_client_ = client_;
        back_.send_to(boost::asio::buffer(up_.data(), n), target_, 0, ec);
      }
      from_client();
    });
  }
  void from_server() {
    back_.async_receive_from(boost::asio::buffer(down_), server_, [this, alive = alive_](auto ec, std::size_t n) {
      if (!*alive || ec == boost::asio::error::operation_aborted) return;
      if (!ec && known_client_.port() != 0) {
        largest_from_server_ = std::max(largest_from_server_, n);
        jumbo_from_server_ += n > 1500;
        front_.send_to(boost::asio::buffer(down_.data(), n), known_client_, 0, ec);
      }
      from_server();
    });
  }

  udp::socket front_;
  udp::socket back_;
  udp::endpoint target_, client_, known_client_, server_;
  std::array<std::uint8_t, 65536> up_{}, down_{};
  std::size_t largest_from_client_ = 0, largest_from_server_ = 0;
  std::size_t jumbo_from_client_ = 0, jumbo_from_server_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

TEST_CASE("quic: on loopback, packets grow past the 1500-byte Ethernet MTU to what loopback takes", "[quic][mtu]") {
  Harness h({"quic", true});
  SizeRecordingRelay relay(h.io, h.listen());
  auto [client, server] = h.connect(h.dial_options(relay.port()));
  h.spawn(serve_echo(*server));

  auto data = pattern(1 << 20, 11);
  EchoResult result;
  h.spawn(echo_once(*client, data, result));
  REQUIRE(h.run_until([&] { return result.done; }, 20s));
  CHECK_FALSE(result.error);
  CHECK(byte_difference(result.received, data).empty());

  INFO("largest datagram client -> server " << relay.largest_from_client() << " (" << relay.jumbo_from_client()
                                            << " over 1500 bytes), server -> client " << relay.largest_from_server()
                                            << " (" << relay.jumbo_from_server() << ")");
  // Before: none over 1452 bytes (ngtcp2 0.12's discovery ceiling) either
  // way. 1 MiB each way in 64 KB packets is 16 of them; padding of a
  // handshake packet would be one at most.
  CHECK(relay.jumbo_from_client() >= 8);
  CHECK(relay.jumbo_from_server() >= 8);
  // An IPv4 datagram holds at most 65507 bytes of UDP payload.
  CHECK(relay.largest_from_client() <= 65507);
  CHECK(relay.largest_from_server() <= 65507);
}

}  // namespace
}  // namespace warren::test
