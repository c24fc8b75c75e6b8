#pragma once
// The edge's udp tunnel shell against real sockets (udp_tunnel_*_test.cpp):
// public clients on loopback UDP, and legs whose channels are stream
// channels over unix socket pairs, with the test playing the connector on
// the far end (it decodes what the edge sends and answers with flow frames).

#include "core/datagram/leg_channel.hpp"
#include "core/edge/udp_tunnel.hpp"
#include "core/udp/flow_frame.hpp"

#include "memory_connection.hpp"
#include "stream_pair.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <deque>
#include <map>

namespace warren::test::udp_tunnel {

using namespace std::chrono_literals;
using boost::asio::ip::udp;
using core::udp::CloseReason;
using core::udp::DropReason;

inline sdk::Datagram bytes_of(std::string_view text) {
  sdk::Datagram out;
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

/// The connector's end of one leg: the far side of the leg's stream.
struct FarLeg {
  core::datagram::DatagramChannelPtr channel;
  std::deque<sdk::Datagram> frames;  ///< as received, undecoded
  sdk::error_code ended;

  void receive() {
    channel->async_receive([this](sdk::error_code ec, sdk::Datagram frame) {
      if (ec) {
        ended = ec;
        return;
      }
      frames.push_back(std::move(frame));
      receive();
    });
  }
  core::udp::FlowFrame pop() {
    REQUIRE_FALSE(frames.empty());
    auto frame = std::move(frames.front());
    frames.pop_front();
    kept.push_back(std::move(frame));  // a decoded frame's payload views these bytes
    auto decoded = core::udp::decode_flow_frame(kept.back());
    REQUIRE(decoded.frame);
    return *decoded.frame;
  }
  void respond(core::udp::FlowId flow, std::string_view text) {
    std::vector<std::byte> out;
    REQUIRE(core::udp::encode_response(flow, bytes_of(text), out));
    REQUIRE(channel->send(out));
  }
  void close_flow(core::udp::FlowId flow, CloseReason reason) {
    std::vector<std::byte> out;
    REQUIRE(core::udp::encode_close(flow, core::udp::to_wire(reason), out));
    REQUIRE(channel->send(out));
  }
  std::deque<sdk::Datagram> kept;
};

struct Fixture {
  boost::asio::io_context io;
  std::shared_ptr<core::UdpTunnel> tunnel;
  std::map<core::UdpTunnel::LegId, std::unique_ptr<FarLeg>> far;

  explicit Fixture(core::udp::FlowSettings settings = {}) {
    tunnel = core::UdpTunnel::open(io.get_executor(), "dns", settings,
                                   udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  }
  ~Fixture() { tunnel->close(); }

  FarLeg& add_leg(core::UdpTunnel::LegId id) {
    auto [near_end, far_end] = stream_pair(io);
    tunnel->add_leg(id, core::datagram::make_stream_channel(std::move(near_end)));
    auto leg = std::make_unique<FarLeg>();
    leg->channel = core::datagram::make_stream_channel(std::move(far_end));
    leg->receive();
    return *(far[id] = std::move(leg));
  }
  /// A leg as QUIC gives it: a LegChannel of the connection's datagrams (at
  /// most `native_max` bytes) and the leg's udp stream, on both ends.
  FarLeg& add_quic_leg(core::UdpTunnel::LegId id, MemoryConnection& near_conn,
                       MemoryConnection& far_conn) {
    auto [near_end, far_end] = stream_pair(io);
    tunnel->add_leg(id, std::make_unique<core::datagram::LegChannel>(
                            io.get_executor(), core::datagram::make_native_channel(near_conn),
                            core::datagram::make_stream_channel(std::move(near_end))));
    auto leg = std::make_unique<FarLeg>();
    leg->channel = std::make_unique<core::datagram::LegChannel>(io.get_executor(),
                                                                core::datagram::make_native_channel(far_conn),
                                                                core::datagram::make_stream_channel(std::move(far_end)));
    leg->receive();
    return *(far[id] = std::move(leg));
  }
  udp::socket client() { return udp::socket(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)); }
  void send(udp::socket& from, std::string_view text) {
    from.send_to(boost::asio::buffer(bytes_of(text)), tunnel->local_endpoint());
  }
  /// `from` sends `text`: the request frame `leg` gets for it.
  core::udp::RequestFrame request_from(FarLeg& leg, udp::socket& from, std::string_view text) {
    send(from, text);
    run_until([&] { return !leg.frames.empty(); });
    return std::get<core::udp::RequestFrame>(leg.pop());
  }
  template <typename Done>
  void run_until(Done done) {
    REQUIRE(warren::test::run_until(io, done));
  }
  std::string receive(udp::socket& on) {
    std::array<char, 2048> buffer{};
    udp::endpoint from;
    std::size_t got = 0;
    bool done = false;
    on.async_receive_from(boost::asio::buffer(buffer), from, [&](sdk::error_code ec, std::size_t n) {
      REQUIRE_FALSE(ec);
      got = n;
      done = true;
    });
    run_until([&] { return done; });
    CHECK(from == tunnel->local_endpoint());  // answers come from the address the client asked
    return std::string(buffer.data(), got);
  }
};


}  // namespace warren::test::udp_tunnel
