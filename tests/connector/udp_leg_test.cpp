// A leg connection's part in a udp tunnel at the connector (UdpLeg): frames
// in the connection's native datagrams (QUIC) and on the edge's udp stream
// (HTTP/2, and what is too large for a datagram), including the records
// read past the stream's header; a drain ends the leg's flows with close
// frames and lets the udp stream go once they were written (its end is
// reported, so it does not hold the drain up); a stream arriving after the
// drain goes at once; a lost leg's flows end without a word; without native
// datagrams, a udp stream that ended is followed by a new one that carries
// the leg's flows again.

#include "core/connector/udp_flows.hpp"
#include "core/connector/udp_leg.hpp"
#include "core/datagram/datagram_framing.hpp"
#include "core/udp/flow_frame.hpp"
#include "fake_datagram_backend.hpp"
#include "memory_connection.hpp"
#include "stream_pair.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <memory>
#include <vector>

namespace warren::core {
namespace {

using test::bytes;
using test::run_until;
using udp::CloseReason;

sdk::Datagram request(udp::FlowId flow, std::uint16_t port, std::string_view text) {
  std::vector<std::byte> frame;
  REQUIRE(udp::encode_request(flow, {boost::asio::ip::make_address("198.51.100.9"), port}, bytes(text), frame));
  return frame;
}

std::optional<CloseReason> close_reason_of(const sdk::Datagram& datagram, udp::FlowId flow) {
  auto decoded = udp::decode_flow_frame(datagram);
  auto* close = decoded.frame ? std::get_if<udp::CloseFrame>(&*decoded.frame) : nullptr;
  if (!close || close->flow != flow) return std::nullopt;
  return udp::close_reason_from_wire(close->reason);
}

struct Rig {
  boost::asio::io_context io;
  std::shared_ptr<test::FakeDatagramBackend> backend = std::make_shared<test::FakeDatagramBackend>(io);
  std::shared_ptr<UdpFlows> flows = std::make_shared<UdpFlows>(io, [this] { return backend; });
  test::MemoryConnection connection, edge_connection;  ///< the leg's two ends
  datagram::DatagramChannelPtr edge;                   ///< the edge's native channel (max_datagram > 0)
  std::vector<sdk::Datagram> edge_got;                 ///< what it received
  std::shared_ptr<UdpLeg> leg;

  explicit Rig(std::size_t max_datagram) : connection(io, max_datagram), edge_connection(io, max_datagram) {
    connection.connect(edge_connection);
    edge_connection.connect(connection);
    if (max_datagram > 0) {
      edge = datagram::make_native_channel(edge_connection);
      read_edge();
    }
    flows->configure(std::chrono::seconds(30));
    leg = std::make_shared<UdpLeg>(flows, connection, "203.0.113.1:53", 0);
    leg->start();
  }
  void read_edge() {
    edge->async_receive([this](sdk::error_code ec, sdk::Datagram d) {
      if (ec) return;
      edge_got.push_back(std::move(d));
      read_edge();
    });
  }
  ~Rig() {
    leg.reset();  // before the connection
    edge.reset();
    flows.reset();
    io.restart();
    io.poll();
  }
  bool wait(auto done) { return run_until(io, done); }
};

TEST_CASE("udp leg: frames in native datagrams reach the flows, and replies go back the same way",
          "[connector][udp_leg]") {
  Rig rig(1200);
  REQUIRE(rig.edge->send(request(11, 40000, "query")));
  REQUIRE(rig.wait([&] { return !rig.backend->records.empty() && rig.backend->records[0]->sent.size() == 1; }));
  CHECK(rig.backend->records[0]->info.listener == "203.0.113.1:53");
  REQUIRE(rig.wait([&] { return rig.backend->live[0]->receiving(); }));
  rig.backend->live[0]->reply(bytes("answer"));
  REQUIRE(rig.wait([&] { return rig.edge_got.size() == 1; }));
  auto decoded = udp::decode_flow_frame(rig.edge_got[0]);
  REQUIRE(decoded.frame);
  auto* response = std::get_if<udp::ResponseFrame>(&*decoded.frame);
  REQUIRE(response);
  CHECK(response->flow == 11);

  SECTION("a drain ends the leg's flows with a close frame (shutdown)") {
    rig.leg->drain();
    CHECK(rig.flows->active() == 0);
    REQUIRE(rig.wait([&] { return rig.edge_got.size() == 2; }));
    CHECK(close_reason_of(rig.edge_got[1], 11) == CloseReason::shutdown);
    rig.leg->drain();  // idempotent
    CHECK(rig.flows->counters().closed(CloseReason::shutdown) == 1);
  }
  SECTION("a lost leg's flows end (leg_lost) without a word") {
    rig.leg->lost();
    CHECK(rig.flows->active() == 0);
    CHECK(rig.flows->counters().closed(CloseReason::leg_lost) == 1);
    // Everything in memory: what was sent has arrived once the loop is idle.
    rig.io.restart();
    rig.io.poll();
    CHECK(rig.edge_got.size() == 1);
  }
}

TEST_CASE("udp leg: without native datagrams the udp stream carries frames, read-ahead bytes first",
          "[connector][udp_leg]") {
  Rig rig(0);  // HTTP/2
  auto [connector_end, edge_end] = test::stream_pair(rig.io);
  auto edge = datagram::make_stream_channel(std::move(edge_end));
  // The first record arrived with the header: the leg got it as read-ahead
  // bytes, the second comes on the stream.
  sdk::Datagram first_record;
  REQUIRE(datagram::encode_datagram(request(21, 40000, "one"), 65527, first_record));
  std::vector<std::uint8_t> read_ahead;
  for (auto b : first_record) read_ahead.push_back(static_cast<std::uint8_t>(b));
  int ended = 0;
  rig.leg->attach_stream(std::move(connector_end), std::move(read_ahead), [&ended] { ++ended; });
  REQUIRE(edge->send(request(22, 40001, "two")));
  REQUIRE(rig.wait([&] { return rig.backend->records.size() == 2; }));
  for (const auto& record : rig.backend->records) REQUIRE(rig.wait([&] { return record->sent.size() == 1; }));
  CHECK(rig.flows->active() == 2);

  // Replies go back on the stream.
  REQUIRE(rig.wait([&] { return rig.backend->live[0]->receiving(); }));
  rig.backend->live[0]->reply(bytes("back"));
  std::optional<sdk::Datagram> got;
  edge->async_receive([&](sdk::error_code ec, sdk::Datagram d) {
    if (!ec) got = std::move(d);
  });
  REQUIRE(rig.wait([&] { return got.has_value(); }));
  auto decoded = udp::decode_flow_frame(*got);
  REQUIRE(decoded.frame);
  REQUIRE(std::holds_alternative<udp::ResponseFrame>(*decoded.frame));
  CHECK(ended == 0);

  SECTION("a drain lets the stream go once its close frames went, and says so") {
    rig.leg->drain();
    REQUIRE(rig.wait([&] { return ended == 1; }));
    CHECK(rig.flows->active() == 0);
    CHECK(rig.flows->counters().closed(CloseReason::shutdown) == 2);
    // Both close frames reach the edge, then the stream's end (the second
    // waited in the channel's queue behind the first's write).
    std::vector<sdk::Datagram> after;
    sdk::error_code end;
    std::function<void()> next = [&] {
      edge->async_receive([&](sdk::error_code ec, sdk::Datagram d) {
        if (ec) return void(end = ec);
        after.push_back(std::move(d));
        next();
      });
    };
    next();
    REQUIRE(rig.wait([&] { return bool(end); }));
    CHECK(end == boost::asio::error::eof);
    REQUIRE(after.size() == 2);
    CHECK(close_reason_of(after[0], 21) == CloseReason::shutdown);
    CHECK(close_reason_of(after[1], 22) == CloseReason::shutdown);
    // A udp stream that arrives after the drain goes at once.
    auto [late, late_edge] = test::stream_pair(rig.io);
    int late_ended = 0;
    rig.leg->attach_stream(std::move(late), {}, [&late_ended] { ++late_ended; });
    REQUIRE(rig.wait([&] { return late_ended == 1; }));
  }
  SECTION("a second udp stream replaces the first, whose end is reported") {
    auto [second, second_edge] = test::stream_pair(rig.io);
    int second_ended = 0;
    rig.leg->attach_stream(std::move(second), {}, [&second_ended] { ++second_ended; });
    REQUIRE(rig.wait([&] { return ended == 1; }));
    CHECK(second_ended == 0);
    auto second_channel = datagram::make_stream_channel(std::move(second_edge));
    REQUIRE(second_channel->send(request(23, 40002, "three")));
    REQUIRE(rig.wait([&] { return rig.backend->records.size() == 3; }));
    rig.leg->lost();
    REQUIRE(rig.wait([&] { return second_ended == 1; }));
  }
}

TEST_CASE("udp leg: without native datagrams, a udp stream that ended is followed by a new one that carries flows",
          "[connector][udp_leg]") {
  Rig rig(0);  // HTTP/2: the stream is the whole channel
  auto [first, first_edge_end] = test::stream_pair(rig.io);
  auto first_edge = datagram::make_stream_channel(std::move(first_edge_end));
  int first_ended = 0;
  rig.leg->attach_stream(std::move(first), {}, [&first_ended] { ++first_ended; });
  REQUIRE(first_edge->send(request(31, 40000, "one")));
  REQUIRE(rig.wait([&] { return rig.flows->active() == 1; }));

  // The edge resets it (its end of the stream goes): the leg's flows end
  // with it, as the edge's do, and the stream's end is reported.
  first_edge.reset();
  REQUIRE(rig.wait([&] { return first_ended == 1; }));
  REQUIRE(rig.wait([&] { return rig.flows->active() == 0; }));
  CHECK(rig.flows->counters().closed(CloseReason::leg_lost) == 1);

  // The edge opens another on the leg: requests and replies flow on it.
  auto [second, second_edge_end] = test::stream_pair(rig.io);
  auto second_edge = datagram::make_stream_channel(std::move(second_edge_end));
  int second_ended = 0;
  rig.leg->attach_stream(std::move(second), {}, [&second_ended] { ++second_ended; });
  REQUIRE(second_edge->send(request(32, 40001, "two")));
  REQUIRE(rig.wait([&] { return rig.backend->records.size() == 2 && rig.backend->records[1]->sent.size() == 1; }));
  REQUIRE(rig.wait([&] { return rig.backend->live.back()->receiving(); }));
  rig.backend->live.back()->reply(bytes("back"));
  std::optional<sdk::Datagram> got;
  second_edge->async_receive([&](sdk::error_code ec, sdk::Datagram d) {
    if (!ec) got = std::move(d);
  });
  REQUIRE(rig.wait([&] { return got.has_value(); }));
  auto decoded = udp::decode_flow_frame(*got);
  REQUIRE(decoded.frame);
  auto* response = std::get_if<udp::ResponseFrame>(&*decoded.frame);
  REQUIRE(response);
  CHECK(response->flow == 32);
  CHECK(second_ended == 0);
  rig.leg->lost();
  REQUIRE(rig.wait([&] { return second_ended == 1; }));
}

}  // namespace
}  // namespace warren::core
