// A ConnectorLeg on a udp tunnel, with the test as the edge over a fake
// connection whose streams are kernel socket pairs (no datagrams: HTTP/2's
// case): Registered{kind udp} and the edge's udp data stream carry flow
// frames to the backend and back with no StreamReply; the stream counts as
// one data stream, and on Unregister the leg lets it go, so its counts agree
// with the edge's UnregisterAck; on a tcp tunnel a udp stream is reset.

#include "core/connector/connector_leg.hpp"
#include "core/udp/flow_frame.hpp"
#include "fake_datagram_backend.hpp"
#include "stream_pair.hpp"

#include <warren/sdk/completion.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace warren::core {
namespace {

using test::bytes;
using test::run_until;

/// A leg's connection whose streams are socket pairs: the connector's
/// opened stream's far end, and streams the edge opens, are the test's.
class StreamConnection final : public sdk::Connection {
 public:
  explicit StreamConnection(boost::asio::io_context& io) : io_(io) {}
  ~StreamConnection() override { end(boost::asio::error::operation_aborted); }

  executor_type get_executor() override { return io_.get_executor(); }
  void close(sdk::error_code reason) override { end(reason); }
  std::string remote_address() const override { return "memory"; }
  sdk::ConnectionStats stats() const override { return {}; }

  /// The edge opens a data stream; returns the edge's end.
  sdk::ByteStreamPtr open_from_edge() {
    auto [connector, edge] = test::stream_pair(io_);
    if (accept_) sdk::complete_if_pending(io_.get_executor(), accept_, sdk::error_code(), sdk::ByteStreamPtr(std::move(connector)));
    else arrived_.push_back(std::move(connector));
    return std::move(edge);
  }
  std::deque<sdk::ByteStreamPtr> opened_by_connector;  ///< the edge's ends of them

 private:
  void end(sdk::error_code reason) {
    sdk::complete_if_pending(io_.get_executor(), accept_, reason, sdk::ByteStreamPtr());
  }
  void async_open_stream_impl(sdk::StreamHandler h) override {
    auto [connector, edge] = test::stream_pair(io_);
    opened_by_connector.push_back(std::move(edge));
    sdk::complete_later(io_.get_executor(), std::move(h), sdk::error_code(), sdk::ByteStreamPtr(std::move(connector)));
  }
  void async_accept_stream_impl(sdk::StreamHandler h) override {
    if (arrived_.empty()) return sdk::store_handler(accept_, std::move(h));
    auto next = std::move(arrived_.front());
    arrived_.pop_front();
    sdk::complete_later(io_.get_executor(), std::move(h), sdk::error_code(), std::move(next));
  }

  boost::asio::io_context& io_;
  std::deque<sdk::ByteStreamPtr> arrived_;
  sdk::StreamHandler accept_;
};

struct Rig {
  boost::asio::io_context io;
  std::shared_ptr<test::FakeDatagramBackend> backend = std::make_shared<test::FakeDatagramBackend>(io);
  std::shared_ptr<UdpFlows> flows = std::make_shared<UdpFlows>(io, [this] { return backend; });
  SpliceTracker splices;
  StreamConnection* connection = nullptr;
  std::shared_ptr<ConnectorLeg> leg;
  std::shared_ptr<ControlChannel> control;  ///< the edge's end of the control stream
  std::deque<protocol::ControlMessage> from_connector;
  int registered = 0, opened = 0, closed = 0;
  std::optional<std::uint64_t> acked;

  Rig() {
    auto owned = std::make_unique<StreamConnection>(io);
    connection = owned.get();
    LegEvents e;
    e.registered = [this](const protocol::Registered&) { ++registered; };
    e.rejected = [](const protocol::Rejected&) { FAIL("rejected"); };
    e.heartbeat_ack = [](std::uint64_t, sdk::Duration) {};
    e.lost = [](sdk::error_code) {};
    e.unregister_acked = [this](std::uint64_t n) { acked = n; };
    e.stream_opened = [this] { ++opened; };
    e.stream_closed = [this] { ++closed; };
    leg = std::make_shared<ConnectorLeg>(0, std::move(owned), nullptr, [this] { return backend; }, splices, e);
    leg->carry_udp(flows);
  }
  ~Rig() {
    leg->close(sdk::errc::shutting_down);
    leg.reset();
    flows.reset();
    io.restart();
    io.poll();
  }

  void register_as(protocol::StreamKind kind) {
    protocol::RegisterConnection request;
    request.tunnel_id = "dns";
    request.token = "secret";
    request.connector_id = "0123456789abcdef";
    leg->register_with(request);
    REQUIRE(run_until(io, [&] { return !connection->opened_by_connector.empty(); }));
    control = std::make_shared<ControlChannel>(std::move(connection->opened_by_connector.front()));
    read_control();
    REQUIRE(run_until(io, [&] { return !from_connector.empty(); }));
    protocol::Registered r;
    r.public_address = "127.0.0.1:20053";
    r.stream_replies = true;  // the udp stream gets no StreamReply all the same
    r.kind = kind;
    r.flow_idle_timeout = std::chrono::seconds(30);
    control->send(r);
    REQUIRE(run_until(io, [&] { return registered == 1; }));
  }
  void read_control() {
    control->async_read([this](sdk::error_code ec, protocol::ControlMessage m) {
      if (ec) return;
      from_connector.push_back(std::move(m));
      read_control();
    });
  }
  /// The edge's udp data stream, header written; its records go through the returned channel.
  datagram::DatagramChannelPtr open_udp_stream() {
    auto edge = connection->open_from_edge();
    bool written = false;
    async_write_stream_header(*edge, protocol::StreamHeader{"", "127.0.0.1:20053", protocol::StreamKind::udp},
                              [&](sdk::error_code ec) { written = !ec; });
    REQUIRE(run_until(io, [&] { return written; }));
    return datagram::make_stream_channel(std::move(edge));
  }
};

sdk::Datagram request(udp::FlowId flow, std::string_view text) {
  std::vector<std::byte> frame;
  REQUIRE(udp::encode_request(flow, {boost::asio::ip::make_address("198.51.100.9"), 40000}, bytes(text), frame));
  return frame;
}

TEST_CASE("connector leg: a udp tunnel's stream carries flows with no StreamReply, and goes at Unregister",
          "[connector][udp_leg]") {
  Rig rig;
  rig.register_as(protocol::StreamKind::udp);
  auto edge = rig.open_udp_stream();
  REQUIRE(edge->send(request(5, "query")));
  REQUIRE(run_until(rig.io, [&] { return !rig.backend->records.empty() && rig.backend->records[0]->sent.size() == 1; }));
  CHECK(rig.backend->records[0]->info.listener == "127.0.0.1:20053");
  CHECK(rig.opened == 1);
  CHECK(rig.leg->open_streams() == 1);

  // The first bytes back are a response record, not a StreamReply.
  REQUIRE(run_until(rig.io, [&] { return rig.backend->live[0]->receiving(); }));
  rig.backend->live[0]->reply(bytes("answer"));
  std::optional<sdk::Datagram> got;
  sdk::error_code end;
  edge->async_receive([&](sdk::error_code ec, sdk::Datagram d) {
    if (ec) end = ec;
    else got = std::move(d);
  });
  REQUIRE(run_until(rig.io, [&] { return got || end; }));
  REQUIRE(got);
  auto decoded = udp::decode_flow_frame(*got);
  REQUIRE(decoded.frame);
  auto* response = std::get_if<udp::ResponseFrame>(&*decoded.frame);
  REQUIRE(response);
  CHECK(response->flow == 5);

  // Unregister: the flows end and the udp stream goes, so nothing holds the drain.
  rig.leg->send_unregister(std::chrono::seconds(5));
  REQUIRE(run_until(rig.io, [&] { return rig.closed == 1; }));
  CHECK(rig.leg->open_streams() == 0);
  CHECK(rig.flows->active() == 0);
  CHECK(rig.flows->counters().closed(udp::CloseReason::shutdown) == 1);
  REQUIRE(run_until(rig.io, [&] {
    return std::any_of(rig.from_connector.begin(), rig.from_connector.end(),
                       [](const auto& m) { return std::holds_alternative<protocol::Unregister>(m); });
  }));
  rig.control->send(protocol::UnregisterAck{1});  // the edge opened one stream: the udp stream
  REQUIRE(run_until(rig.io, [&] { return rig.acked.has_value(); }));
  CHECK(*rig.acked == static_cast<std::uint64_t>(rig.opened));
}

TEST_CASE("connector leg: a udp stream on a tcp tunnel's leg is reset", "[connector][udp_leg]") {
  Rig rig;
  rig.register_as(protocol::StreamKind::tcp);
  auto edge = rig.open_udp_stream();
  REQUIRE(run_until(rig.io, [&] { return rig.closed == 1; }));
  CHECK(rig.opened == 1);
  CHECK_FALSE(rig.flows->carried());
  sdk::error_code end;
  edge->async_receive([&](sdk::error_code ec, sdk::Datagram) { end = ec ? ec : sdk::make_error_code(sdk::errc::protocol_error); });
  REQUIRE(run_until(rig.io, [&] { return static_cast<bool>(end); }));
}

}  // namespace
}  // namespace warren::core
