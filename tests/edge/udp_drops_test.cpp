// Issue 13, item 1: every datagram the edge drops on a udp tunnel is
// counted. A leg channel's receive-queue and transport drops reach the
// tunnel's stats and stay once the leg goes; the public socket's kernel
// drops (its buffer full while the port is not read) are counted too.

#include "core/edge/udp_public_port.hpp"
#include "core/edge/udp_tunnel.hpp"

#include <warren/sdk/completion.hpp>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace warren;
using namespace std::chrono_literals;
using boost::asio::ip::udp;

namespace {

/// A leg channel that carries nothing and reports the counts a test sets.
class CountingChannel final : public core::datagram::DatagramChannel {
 public:
  explicit CountingChannel(boost::asio::io_context& io, core::datagram::ChannelCounters* counts)
      : executor_(io.get_executor()), counts_(counts) {}
  ~CountingChannel() override { close(); }
  std::size_t max_datagram_size() const override { return 1200; }
  bool send(std::span<const std::byte>) override { return false; }
  void close() override {
    sdk::complete_if_pending(executor_, handler_, boost::asio::error::operation_aborted, sdk::Datagram());
  }
  core::datagram::ChannelCounters counters() const override { return *counts_; }

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override { sdk::store_handler(handler_, std::move(handler)); }
  boost::asio::any_io_executor executor_;
  core::datagram::ChannelCounters* counts_;
  sdk::DatagramHandler handler_;
};

udp::endpoint loopback() { return udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0); }

}  // namespace

TEST_CASE("udp tunnel: a leg channel's receive-queue and transport drops are the tunnel's, and stay when it goes") {
  boost::asio::io_context io;
  auto tunnel = core::UdpTunnel::open(io.get_executor(), "dns", {}, loopback());
  core::datagram::ChannelCounters one, two;
  tunnel->add_leg(1, std::make_unique<CountingChannel>(io, &one));
  tunnel->add_leg(2, std::make_unique<CountingChannel>(io, &two));
  one.dropped_on_receive = 3;
  one.dropped_in_transport = 4;
  two.dropped_in_transport = 10;
  two.dropped_on_send = 99;  // counted where send() was refused (send_failed), not here
  auto s = tunnel->stats();
  CHECK(s.dropped_receive_queue == 3);
  CHECK(s.dropped_transport == 14);
  CHECK(s.dropped_send_failed == 0);

  tunnel->remove_leg(1);  // its counts stay
  two.dropped_on_receive = 1;
  s = tunnel->stats();
  CHECK(s.dropped_receive_queue == 4);
  CHECK(s.dropped_transport == 14);

  tunnel->drain_leg(2);  // no flow: its channel goes at once, its counts stay
  REQUIRE_FALSE(tunnel->holds_leg(2));
  CHECK(tunnel->stats().dropped_transport == 14);
  tunnel->close();
  CHECK(tunnel->stats().dropped_receive_queue == 4);

  auto text = core::render_udp_tunnel_metrics({{"dns", tunnel->stats()}});
  CHECK_THAT(text, Catch::Contains("warren_udp_datagrams_dropped_total{tunnel=\"dns\",reason=\"receive_queue_full\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_datagrams_dropped_total{tunnel=\"dns\",reason=\"transport\"} 14\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_datagrams_dropped_total{tunnel=\"dns\",reason=\"socket_buffer\"} 0\n"));
}

TEST_CASE("udp public port: what the kernel drops while the port is not read is counted, the rest arrives") {
  boost::asio::io_context io;
  std::size_t arrived = 0;
  auto port = std::make_shared<core::UdpPublicPort>(io.get_executor(), loopback(),
                                                    [&](const udp::endpoint&, sdk::Datagram) { ++arrived; });
  // Not started: nobody reads while a client sends far more than the buffer holds.
  udp::socket client(io, loopback());
  const std::string datagram(1200, 'x');
  const std::size_t sent = 20000;  // 24 MB of payload, ~46 MB as the kernel charges it
  for (std::size_t i = 0; i < sent; ++i) client.send_to(boost::asio::buffer(datagram), port->local_endpoint());
  const std::uint64_t dropped = port->socket_drops();
  CHECK(dropped > 0);
  CHECK(port->receive_buffer() > 0);
  port->start();
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       arrived + dropped < sent && std::chrono::steady_clock::now() < deadline;)
    io.run_one_for(100ms);
  CHECK(arrived + port->socket_drops() == sent);  // each one arrived or is counted
  CHECK(arrived > 1000);                         // the buffer asked for holds thousands
  port->close();
  CHECK(port->socket_drops() == dropped);  // kept once the socket is gone
}
