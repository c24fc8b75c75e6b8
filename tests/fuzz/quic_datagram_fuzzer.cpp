// libFuzzer target: the QUIC transport's listening side fed arbitrary
// datagrams. Each input gets a fresh io_context, UdpEndpoint and
// QuicListener (the transport's own sources, built into this binary: no
// plugin loading), and its datagrams arrive over loopback UDP from one
// client socket, so the path is the edge's: recvmmsg, UdpEndpoint::route by
// connection ID, the acceptor (AcceptQueue: ngtcp2_accept, Retry tokens,
// HandshakeGuard caps), QuicConnection::accept with a GnuTLS server session,
// and later datagrams routed to the connection an earlier one started.
// Format: quic_datagrams.hpp. Seeds hold a real client's first flight.
//
// Checked besides crashes: the anti-amplification limit (RFC 9000 §8.1),
// bytes sent to unvalidated addresses <= 3 x bytes received from them.
#include "quic_datagrams.hpp"

#include "core/tls/self_signed.hpp"
#include "quic_listener.hpp"
#include "udp_endpoint.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

using namespace warren;
using boost::asio::ip::udp;

class QuietLogger final : public sdk::Logger {
 public:
  // Enabled, so the lines are still built (that code is fuzzed too).
  bool enabled(sdk::LogLevel) const override { return true; }
  void log(sdk::LogLevel, std::string_view) override {}
};

struct Fixture {
  std::shared_ptr<quic::ServerCredentials> credentials;
  QuietLogger logger;
};

Fixture& fixture() {
  static Fixture* f = [] {
    auto* made = new Fixture;
    auto pair = core::make_self_signed("warren-fuzz", {"127.0.0.1"});
    std::string why;
    made->credentials = quic::ServerCredentials::load(pair.cert_pem, pair.key_pem, why);
    if (!made->credentials) {
      std::fprintf(stderr, "fuzz_quic_datagrams: %s\n", why.c_str());
      std::abort();
    }
    return made;
  }();
  return *f;
}

std::uint64_t metric(const sdk::ListenerStats& stats, const std::string& name, const std::string& direction) {
  for (const auto& m : stats)
    if (m.name == name && !m.labels.empty() && m.labels[0].second == direction) return m.value;
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& f = fixture();
  quic::HandshakeLimits handshake;
  switch (data[0] & 3) {
    case 0: handshake.retry = quic::RetryMode::automatic; break;
    case 1: handshake.retry = quic::RetryMode::always; break;
    default: handshake.retry = quic::RetryMode::never; break;
  }
  auto datagrams = fuzz::split_datagrams({data + 1, size - 1});

  boost::asio::io_context io;
  sdk::error_code ec;
  auto endpoint = quic::UdpEndpoint::open(io.get_executor(), udp::endpoint(boost::asio::ip::address_v4::loopback(), 0), ec);
  if (!endpoint) std::abort();
  quic::ConnectionLimits limits{quic::QuicSettings{}, std::chrono::seconds(30), std::chrono::seconds(10), {}};
  std::string why;
  auto listener = quic::QuicListener::create(endpoint, f.credentials, limits, handshake, f.logger, why);
  if (!listener) std::abort();
  udp::endpoint to = endpoint->local_endpoint();
  endpoint.reset();

  udp::socket client(io, udp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  client.non_blocking(true);
  std::uint8_t reply[65536];
  for (auto datagram : datagrams) {
    // Loopback queues the datagram before send_to returns: one poll reads it.
    client.send_to(boost::asio::buffer(datagram.data(), datagram.size()), to, 0, ec);
    io.poll();
    io.restart();
    udp::endpoint from;
    while (client.receive_from(boost::asio::buffer(reply), from, 0, ec) > 0 || !ec) {
    }
  }
  auto stats = listener->stats();
  auto sent = metric(stats, "quic_unvalidated_bytes_total", "sent");
  auto received = metric(stats, "quic_unvalidated_bytes_total", "received");
  if (sent > 3 * received) {
    std::fprintf(stderr, "fuzz_quic_datagrams finding: %llu bytes sent to unvalidated addresses for %llu received\n",
                 static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received));
    std::abort();
  }
  // Closing the listener closes the handshakes it started; each drops its
  // self-reference in a posted handler, so run those before the io_context
  // (and every timer it holds) is destroyed.
  listener.reset();
  io.restart();
  io.poll();
  return 0;
}
