// QUIC only: a datagram whose long header names a destination connection ID
// of 255 bytes (a version-0 header, which ngtcp2 decodes with IDs of any
// length up to 255) is dropped, and the listener goes on. UdpEndpoint::route
// once copied that ID into a 20-byte key on the stack (a stack overflow
// found by fuzz_quic_datagrams; under ASan this test then crashed).

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <vector>

namespace warren::test {
namespace {

using namespace std::chrono_literals;

/// A long header, version 0, DCID length 0xff with 255 ID bytes, an 8-byte
/// SCID, padded to the size of an Initial.
std::vector<std::uint8_t> long_dcid_datagram() {
  std::vector<std::uint8_t> datagram{0xc0, 0x00, 0x00, 0x00, 0x00, 0xff};
  datagram.insert(datagram.end(), 255, 0xab);
  datagram.push_back(8);
  datagram.insert(datagram.end(), 8, 0xcd);
  datagram.resize(1200, 0);
  return datagram;
}

TEST_CASE("quic: a datagram with a 255-byte destination connection ID is dropped and harms nothing",
          "[quic][security]") {
  Harness h({"quic", true});
  auto port = h.listen();
  boost::asio::ip::udp::socket attacker(h.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  boost::asio::ip::udp::endpoint target(boost::asio::ip::make_address("127.0.0.1"), port);
  auto datagram = long_dcid_datagram();
  // Before any connection, and again while one is open (its route is then looked up).
  attacker.send_to(boost::asio::buffer(datagram), target);
  h.run_for(50ms);
  auto [client, server] = h.connect();
  REQUIRE(server);
  attacker.send_to(boost::asio::buffer(datagram), target);
  h.run_for(50ms);
  h.spawn(serve_echo(*server));
  EchoResult result;
  auto data = pattern(2000, 5);
  h.spawn(echo_once(*client, data, result));
  REQUIRE(h.run_until([&] { return result.done; }));
  CHECK_FALSE(result.error);
  CHECK(byte_difference(result.received, data) == "");
}

}  // namespace
}  // namespace warren::test
