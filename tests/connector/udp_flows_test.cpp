// The connector's UDP flow shell (UdpFlows) with a real FlowTable, a fake
// datagram backend whose flows live in memory, and legs that are stream
// DatagramChannels over a kernel socket pair (the test holds the edge's
// end): a request frame opens a flow and reaches the backend; the backend's
// reply comes back as a response frame for the edge's flow id; close frames
// end flows either way; a lost leg ends its flows; a refused backend is
// answered with a close frame (backend_refused).

#include "core/connector/udp_flows.hpp"

#include "captured_log.hpp"
#include "core/connector/connector_udp_admin.hpp"
#include "core/udp/flow_frame.hpp"
#include "fake_datagram_backend.hpp"
#include "stream_pair.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace warren::core {
namespace {

using test::bytes;
using test::FakeDatagramBackend;
using test::run_until;
using udp::CloseReason;

/// One leg: the connector's channel (attached to the flows) and the edge's.
struct Leg {
  datagram::DatagramChannelPtr connector;
  datagram::DatagramChannelPtr edge;
  std::deque<udp::FlowFrame> frames;  ///< decoded frames the edge received
  std::deque<sdk::Datagram> raw;      ///< their bytes (frames' payloads point here)
};

struct Rig {
  boost::asio::io_context io;
  std::shared_ptr<FakeDatagramBackend> backend = std::make_shared<FakeDatagramBackend>(io);
  std::shared_ptr<UdpFlows> flows = std::make_shared<UdpFlows>(io, [this] { return backend; });
  std::vector<std::unique_ptr<Leg>> legs;

  Rig() { flows->configure(std::chrono::seconds(30)); }
  ~Rig() {
    // Everything let go posts its last completions: they run before the loop goes.
    legs.clear();
    flows.reset();
    io.restart();
    io.poll();
  }

  /// A leg attached under a new origin; the edge's side reads every frame.
  std::uint32_t add_leg(std::string listener = "127.0.0.1:20053") {
    auto [a, b] = test::stream_pair(io);
    auto leg = std::make_unique<Leg>();
    leg->connector = datagram::make_stream_channel(std::move(a));
    leg->edge = datagram::make_stream_channel(std::move(b));
    auto origin = flows->new_origin();
    flows->attach(origin, *leg->connector, std::move(listener));
    // The connector's side hands every frame to the flows, as UdpLeg does.
    read_connector(*leg, origin);
    read_edge(*leg);
    legs.push_back(std::move(leg));
    return origin;
  }
  void read_connector(Leg& leg, std::uint32_t origin) {
    leg.connector->async_receive([this, &leg, origin](sdk::error_code ec, sdk::Datagram frame) {
      if (ec) return;
      flows->handle_frame(origin, frame);
      read_connector(leg, origin);
    });
  }
  void read_edge(Leg& leg) {
    leg.edge->async_receive([&leg, this](sdk::error_code ec, sdk::Datagram frame) {
      if (ec) return;
      leg.raw.push_back(std::move(frame));
      auto decoded = udp::decode_flow_frame(leg.raw.back());
      REQUIRE(decoded.frame);
      leg.frames.push_back(*decoded.frame);
      read_edge(leg);
    });
  }
  void send_request(Leg& leg, udp::FlowId edge_flow, const char* client, std::uint16_t port, std::string_view text) {
    std::vector<std::byte> frame;
    REQUIRE(udp::encode_request(edge_flow, {boost::asio::ip::make_address(client), port}, bytes(text), frame));
    REQUIRE(leg.edge->send(frame));
  }
  void send_close(Leg& leg, udp::FlowId edge_flow, CloseReason reason) {
    std::vector<std::byte> frame;
    REQUIRE(udp::encode_close(edge_flow, udp::to_wire(reason), frame));
    REQUIRE(leg.edge->send(frame));
  }
  bool wait(auto done) { return run_until(io, done); }
};

TEST_CASE("udp flows: a request frame opens a flow whose datagrams reach the backend, and its reply comes back",
          "[connector][udp_flows]") {
  Rig rig;
  auto origin = rig.add_leg("203.0.113.1:53");
  auto& leg = *rig.legs[0];
  rig.send_request(leg, 7, "198.51.100.9", 40000, "query");
  REQUIRE(rig.wait([&] { return !rig.backend->records.empty() && rig.backend->records[0]->sent.size() == 1; }));
  const auto& record = *rig.backend->records[0];
  CHECK(record.info.client_address == "198.51.100.9:40000");
  CHECK(record.info.listener == "203.0.113.1:53");
  CHECK(record.sent[0] == bytes("query"));
  CHECK(rig.flows->active() == 1);
  auto id = rig.flows->table()->find_peer(origin, 7);
  REQUIRE(id);

  // A second datagram of the same edge flow takes the same backend flow.
  rig.send_request(leg, 7, "198.51.100.9", 40000, "again");
  REQUIRE(rig.wait([&] { return record.sent.size() == 2; }));
  CHECK(rig.backend->records.size() == 1);

  REQUIRE(rig.wait([&] { return rig.backend->live[0]->receiving(); }));
  rig.backend->live[0]->reply(bytes("answer"));
  REQUIRE(rig.wait([&] { return !leg.frames.empty(); }));
  auto* response = std::get_if<udp::ResponseFrame>(&leg.frames[0]);
  REQUIRE(response);
  CHECK(response->flow == 7);  // the edge's flow id
  CHECK(sdk::Datagram(response->payload.begin(), response->payload.end()) == bytes("answer"));
  // The receive loop goes on.
  REQUIRE(rig.wait([&] { return rig.backend->live[0]->receiving(); }));
  rig.backend->live[0]->reply(bytes("more"));
  REQUIRE(rig.wait([&] { return leg.frames.size() == 2; }));
  CHECK(rig.flows->counters().flows_opened == 1);
  CHECK(rig.flows->counters().responses == 2);
}

TEST_CASE("udp flows: the edge's close frame ends the flow and its backend flow, without a close frame back",
          "[connector][udp_flows]") {
  Rig rig;
  rig.add_leg();
  auto& leg = *rig.legs[0];
  rig.send_request(leg, 3, "198.51.100.9", 40000, "hello");
  REQUIRE(rig.wait([&] { return rig.flows->active() == 1 && !rig.backend->records.empty(); }));
  rig.send_close(leg, 3, CloseReason::idle);
  REQUIRE(rig.wait([&] { return rig.backend->records[0]->destroyed; }));
  CHECK(rig.flows->active() == 0);
  CHECK(rig.flows->counters().closed(CloseReason::peer_closed) == 1);
  // A close frame for a flow that is gone already changes nothing.
  rig.send_close(leg, 3, CloseReason::idle);
  rig.send_request(leg, 4, "198.51.100.9", 40001, "marker");
  REQUIRE(rig.wait([&] { return rig.backend->records.size() == 2 && rig.backend->records[1]->sent.size() == 1; }));
  CHECK(leg.frames.empty());
  CHECK(rig.flows->drops().malformed == 0);
}

TEST_CASE("udp flows: a lost leg ends its own flows (leg_lost), not another leg's", "[connector][udp_flows]") {
  Rig rig;
  auto first = rig.add_leg();
  rig.add_leg();
  // The same client through two legs (two edges): two flows.
  rig.send_request(*rig.legs[0], 1, "198.51.100.9", 40000, "a");
  rig.send_request(*rig.legs[1], 1, "198.51.100.9", 40000, "b");
  REQUIRE(rig.wait([&] { return rig.backend->records.size() == 2 && rig.flows->active() == 2; }));
  REQUIRE(rig.wait([&] { return rig.backend->live[0]->receiving() && rig.backend->live[1]->receiving(); }));
  auto lost_record = rig.backend->records[0]->sent.front() == bytes("a") ? 0 : 1;

  rig.flows->detach(first, CloseReason::leg_lost);
  CHECK(rig.flows->active() == 1);
  CHECK(rig.flows->counters().closed(CloseReason::leg_lost) == 1);
  REQUIRE(rig.wait([&] { return rig.backend->records[lost_record]->destroyed; }));
  CHECK_FALSE(rig.backend->records[1 - lost_record]->destroyed);
  CHECK(rig.legs[0]->frames.empty());  // nothing is sent on a lost leg

  // A request that still comes through the detached origin is dropped, counted.
  rig.send_request(*rig.legs[0], 2, "198.51.100.9", 40002, "late");
  REQUIRE(rig.wait([&] { return rig.flows->drops().no_leg == 1; }));
  CHECK(rig.backend->records.size() == 2);
}

TEST_CASE("udp flows: a draining leg's flows end with close frames (shutdown) to the edge", "[connector][udp_flows]") {
  Rig rig;
  auto origin = rig.add_leg();
  auto& leg = *rig.legs[0];
  rig.send_request(leg, 9, "198.51.100.9", 40000, "x");
  rig.send_request(leg, 10, "198.51.100.10", 40000, "y");
  REQUIRE(rig.wait([&] { return rig.flows->active() == 2 && rig.backend->records.size() == 2; }));
  rig.flows->detach(origin, CloseReason::shutdown);
  CHECK(rig.flows->active() == 0);
  REQUIRE(rig.wait([&] { return leg.frames.size() == 2; }));
  std::vector<udp::FlowId> closed;
  for (const auto& frame : leg.frames) {
    auto* close = std::get_if<udp::CloseFrame>(&frame);
    REQUIRE(close);
    CHECK(udp::close_reason_from_wire(close->reason) == CloseReason::shutdown);
    closed.push_back(close->flow);
  }
  std::sort(closed.begin(), closed.end());
  CHECK(closed == std::vector<udp::FlowId>{9, 10});
}

TEST_CASE("udp flows: a refused backend is answered with a close frame (backend_refused)", "[connector][udp_flows]") {
  Rig rig;
  rig.add_leg();
  auto& leg = *rig.legs[0];
  SECTION("the open fails") {
    rig.backend->refuse_opens = true;
    rig.send_request(leg, 5, "198.51.100.9", 40000, "q");
  }
  SECTION("the open flow is refused later (ICMP port unreachable)") {
    rig.send_request(leg, 5, "198.51.100.9", 40000, "q");
    REQUIRE(rig.wait([&] { return !rig.backend->live.empty() && rig.backend->live[0]->receiving(); }));
    rig.backend->live[0]->refuse();
  }
  REQUIRE(rig.wait([&] { return !leg.frames.empty(); }));
  auto* close = std::get_if<udp::CloseFrame>(&leg.frames[0]);
  REQUIRE(close);
  CHECK(close->flow == 5);
  CHECK(udp::close_reason_from_wire(close->reason) == CloseReason::backend_refused);
  CHECK(rig.flows->active() == 0);
  CHECK(rig.flows->counters().closed(CloseReason::backend_refused) == 1);
  // and the log says so, as it says drops (trial: a stopped service was silent)
  test::CapturedLog log;
  rig.flows->log_drops(sdk::Clock::now());
  auto refused = log.lines_with("(backend_refused)");
  REQUIRE(refused.size() == 1);
  CHECK_THAT(refused[0], Catch::StartsWith("warning udp tunnel: 1 flow refused by the backend in the last "));
  CHECK_THAT(refused[0], Catch::EndsWith("is the service running?"));
}

TEST_CASE("udp flows: malformed frames and response frames from the edge are dropped and counted",
          "[connector][udp_flows]") {
  Rig rig;
  auto origin = rig.add_leg();
  rig.flows->handle_frame(origin, bytes("\x01"));  // truncated request
  rig.flows->handle_frame(origin, {});
  std::vector<std::byte> response;
  REQUIRE(udp::encode_response(4, bytes("r"), response));
  rig.flows->handle_frame(origin, response);
  CHECK(rig.flows->drops().malformed == 3);
  CHECK(rig.flows->active() == 0);
  // And the leg still carries the next good frame.
  rig.send_request(*rig.legs[0], 1, "198.51.100.9", 40000, "ok");
  REQUIRE(rig.wait([&] { return rig.backend->records.size() == 1 && rig.backend->records[0]->sent.size() == 1; }));
}

TEST_CASE("udp flows: /metrics and /status name flows and drops by reason", "[connector][udp_flows]") {
  Rig rig;
  auto origin = rig.add_leg();
  rig.send_request(*rig.legs[0], 1, "198.51.100.9", 40000, "a");
  REQUIRE(rig.wait([&] { return rig.flows->active() == 1 && !rig.backend->records.empty(); }));
  rig.flows->handle_frame(origin, bytes("\xff"));
  rig.flows->detach(origin, CloseReason::leg_lost);

  std::string text;
  append_udp_metrics(text, *rig.flows);
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_flows_active 0\n"));
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_flows_total 1\n"));
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_flows_closed_total{reason=\"leg_lost\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_flows_closed_total{reason=\"idle\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_datagrams_dropped_total{reason=\"malformed\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_datagrams_dropped_total{reason=\"table_full\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE warren_connector_udp_flows_active gauge\n"));

  auto status = udp_status_json(*rig.flows);
  CHECK(status.at("flows_total").to_number<std::uint64_t>() == 1);
  CHECK(status.at("flows_closed").at("leg_lost").to_number<std::uint64_t>() == 1);
  CHECK(status.at("datagrams_dropped").at("malformed").to_number<std::uint64_t>() == 1);
}

/// A leg channel that carries nothing and reports the counts a test sets.
class CountingChannel final : public datagram::DatagramChannel {
 public:
  CountingChannel(boost::asio::io_context& io, datagram::ChannelCounters* counts)
      : executor_(io.get_executor()), counts_(counts) {}
  std::size_t max_datagram_size() const override { return 1200; }
  bool send(std::span<const std::byte>) override { return false; }
  void close() override {}
  datagram::ChannelCounters counters() const override { return *counts_; }

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override {
    sdk::complete_later(executor_, std::move(handler), boost::asio::error::operation_aborted, sdk::Datagram());
  }
  boost::asio::any_io_executor executor_;
  datagram::ChannelCounters* counts_;
};

TEST_CASE("udp flows: a leg channel's receive-queue and transport drops are counted, and stay when the leg goes",
          "[connector][udp_flows]") {
  Rig rig;
  datagram::ChannelCounters counts;
  CountingChannel channel(rig.io, &counts);
  auto origin = rig.flows->new_origin();
  rig.flows->attach(origin, channel, "127.0.0.1:20053");
  counts.dropped_on_receive = 5;
  counts.dropped_in_transport = 8;
  counts.dropped_on_send = 99;  // counted where the shell's send was refused (send_failed)
  CHECK(rig.flows->drops().receive_queue_full == 5);
  CHECK(rig.flows->drops().transport == 8);
  CHECK(rig.flows->drops().send_failed == 0);
  rig.flows->detach(origin, CloseReason::leg_lost);
  counts.dropped_on_receive = 1000;  // after the leg went: not the flows' any more
  CHECK(rig.flows->drops().receive_queue_full == 5);
  CHECK(rig.flows->drops().transport == 8);

  std::string text;
  append_udp_metrics(text, *rig.flows);
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_datagrams_dropped_total{reason=\"receive_queue_full\"} 5\n"));
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_datagrams_dropped_total{reason=\"transport\"} 8\n"));
}

TEST_CASE("udp flows: a flow socket's drops are counted while it lives and when it ends", "[connector][udp_flows]") {
  Rig rig;
  auto origin = rig.add_leg();
  auto& leg = *rig.legs[0];
  rig.send_request(leg, 1, "198.51.100.9", 40000, "a");
  rig.send_request(leg, 2, "198.51.100.9", 40001, "b");
  // Both open: their receives are pending on the backend's flows.
  REQUIRE(rig.wait([&] {
    return rig.backend->live.size() == 2 && rig.backend->live[0]->receiving() && rig.backend->live[1]->receiving();
  }));
  rig.backend->records[0]->receive_drops = 6;
  rig.backend->records[1]->receive_drops = 1;
  CHECK(rig.flows->drops().socket_buffer == 7);

  rig.send_close(leg, 1, CloseReason::idle);  // the edge ends the first: its socket goes
  REQUIRE(rig.wait([&] { return rig.backend->records[0]->destroyed; }));
  rig.backend->records[1]->receive_drops = 2;
  CHECK(rig.flows->drops().socket_buffer == 8);
  std::string text;
  append_udp_metrics(text, *rig.flows);
  CHECK_THAT(text, Catch::Contains("warren_connector_udp_datagrams_dropped_total{reason=\"socket_buffer\"} 8\n"));
  rig.flows->detach(origin, CloseReason::leg_lost);
  REQUIRE(rig.wait([&] { return rig.backend->records[1]->destroyed; }));
  CHECK(rig.flows->drops().socket_buffer == 8);
}

}  // namespace
}  // namespace warren::core
