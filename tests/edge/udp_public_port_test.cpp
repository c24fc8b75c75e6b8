// The public UDP port of a udp tunnel, against real client sockets on loopback.

#include "core/edge/udp_public_port.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace warren;
using namespace std::chrono_literals;
using boost::asio::ip::udp;

namespace {

struct Arrival {
  udp::endpoint client;
  sdk::Datagram payload;
};

struct PortFixture {
  boost::asio::io_context io;
  std::vector<Arrival> arrivals;
  std::shared_ptr<core::UdpPublicPort> port = std::make_shared<core::UdpPublicPort>(
      io.get_executor(), udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0),
      [this](const udp::endpoint& client, sdk::Datagram payload) { arrivals.push_back({client, std::move(payload)}); });

  PortFixture() { port->start(); }
  ~PortFixture() { port->close(); }

  void run_until_arrivals(std::size_t count) {
    io.restart();
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         arrivals.size() < count && std::chrono::steady_clock::now() < deadline;)
      io.run_one_for(100ms);
  }
};

sdk::Datagram pattern(std::size_t size, unsigned seed) {
  sdk::Datagram out(size);
  std::mt19937 random(seed);
  for (auto& b : out) b = static_cast<std::byte>(random());
  return out;
}

}  // namespace

TEST_CASE("udp public port hands each datagram over with its client's address and answers from its own") {
  PortFixture f;
  udp::socket alice(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  udp::socket bob(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto to = f.port->local_endpoint();
  REQUIRE(to.port() != 0);

  alice.send_to(boost::asio::buffer(pattern(100, 1)), to);
  bob.send_to(boost::asio::buffer(pattern(1200, 2)), to);
  alice.send_to(boost::asio::buffer(pattern(0, 3)), to);  // an empty datagram is a datagram
  f.run_until_arrivals(3);
  REQUIRE(f.arrivals.size() == 3);
  CHECK(f.arrivals[0].client == alice.local_endpoint());
  CHECK(f.arrivals[0].payload == pattern(100, 1));
  CHECK(f.arrivals[1].client == bob.local_endpoint());
  CHECK(f.arrivals[1].payload == pattern(1200, 2));
  CHECK(f.arrivals[2].payload.empty());
  CHECK(f.port->counters().received == 3);
  CHECK(f.port->counters().received_bytes == 1300);

  auto reply = pattern(700, 4);
  REQUIRE(f.port->send_to(bob.local_endpoint(), reply));
  sdk::Datagram got(2000);
  udp::endpoint from;
  auto n = bob.receive_from(boost::asio::buffer(got), from);
  got.resize(n);
  CHECK(got == reply);
  CHECK(from == to);  // the reply comes from the address the client asked
  CHECK(f.port->counters().sent == 1);
  CHECK(f.port->counters().sent_bytes == 700);
}

TEST_CASE("udp public port delivers a burst of random sizes byte-exact and in order from one client") {
  PortFixture f;
  udp::socket client(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::mt19937 random(7);
  std::vector<sdk::Datagram> sent;
  for (unsigned i = 0; i < 2000; ++i) {
    sent.push_back(pattern(random() % 1201, i));
    client.send_to(boost::asio::buffer(sent.back()), f.port->local_endpoint());
    if (i % 100 == 99) f.run_until_arrivals(i + 1);  // in rounds, so no kernel buffer can fill
  }
  f.run_until_arrivals(sent.size());
  REQUIRE(f.arrivals.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) REQUIRE(f.arrivals[i].payload == sent[i]);
}

TEST_CASE("udp public port refuses a port in use and stops on close") {
  PortFixture f;
  CHECK_THROWS_AS(core::UdpPublicPort(f.io.get_executor(), f.port->local_endpoint(), [](auto&&, auto&&) {}),
                  boost::system::system_error);

  auto to = f.port->local_endpoint();
  f.port->close();
  f.port->close();  // idempotent
  CHECK_FALSE(f.port->send_to(to, pattern(10, 1)));
  CHECK(f.port->counters().send_dropped == 1);
  udp::socket client(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  sdk::error_code ignored;
  client.send_to(boost::asio::buffer(pattern(10, 2)), to, 0, ignored);
  f.io.restart();
  f.io.run_for(50ms);  // nothing may arrive: there is nothing to wait for
  CHECK(f.arrivals.empty());
}
