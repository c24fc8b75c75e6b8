// The control channel over a real socket pair: frames both ways, many in a
// row, split and merged by the kernel, and garbage that closes only it.

#include "core/control/control_channel.hpp"
#include "stream_pair.hpp"

#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <memory>
#include <optional>

using namespace warren;
using namespace warren::core;

TEST_CASE("control messages flow both ways, one read at a time") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto left = std::make_shared<ControlChannel>(std::move(a));
  auto right = std::make_shared<ControlChannel>(std::move(b));

  protocol::RegisterConnection request;
  request.tunnel_id = "web";
  request.token = "s3cret";
  left->send(request);
  std::vector<protocol::ControlMessage> got;
  std::function<void()> read = [&] {
    right->async_read([&](sdk::error_code ec, protocol::ControlMessage m) {
      REQUIRE_FALSE(ec);
      got.push_back(std::move(m));
      read();
    });
  };
  read();
  REQUIRE(test::run_until(io, [&] { return got.size() == 1; }));
  CHECK(std::get<protocol::RegisterConnection>(got[0]) == request);

  // Later messages, sent one after another and in bursts, all arrive in order.
  for (std::uint64_t i = 1; i <= 100; ++i) left->send(protocol::Heartbeat{i, static_cast<std::int64_t>(i * 7)});
  REQUIRE(test::run_until(io, [&] { return got.size() == 101; }));
  for (std::uint64_t i = 1; i <= 100; ++i) CHECK(std::get<protocol::Heartbeat>(got[i]).sequence == i);

  std::optional<protocol::ControlMessage> reply;
  right->send(protocol::HeartbeatAck{5, 35});
  left->async_read([&](sdk::error_code ec, protocol::ControlMessage m) {
    REQUIRE_FALSE(ec);
    reply = std::move(m);
  });
  REQUIRE(test::run_until(io, [&] { return reply.has_value(); }));
  CHECK(std::get<protocol::HeartbeatAck>(*reply) == protocol::HeartbeatAck{5, 35});
}

TEST_CASE("a malformed frame fails the channel with protocol_error and a reason") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto channel = std::make_shared<ControlChannel>(std::move(b));
  // A segment table claiming 1000 segments.
  std::vector<std::uint8_t> garbage{0xe7, 0x03, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  boost::asio::write(a->socket(), boost::asio::buffer(garbage));
  std::optional<sdk::error_code> result;
  channel->async_read([&](sdk::error_code ec, protocol::ControlMessage) { result = ec; });
  REQUIRE(test::run_until(io, [&] { return result.has_value(); }));
  CHECK(*result == sdk::errc::protocol_error);
  CHECK_FALSE(channel->protocol_error_reason().empty());
}

TEST_CASE("the peer's end of stream reads as peer_closed") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto channel = std::make_shared<ControlChannel>(std::move(b));
  a->shutdown_send();
  std::optional<sdk::error_code> result;
  channel->async_read([&](sdk::error_code ec, protocol::ControlMessage) { result = ec; });
  REQUIRE(test::run_until(io, [&] { return result.has_value(); }));
  CHECK(*result == sdk::errc::peer_closed);
}

TEST_CASE("a stream header and the bytes after it are read apart") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  protocol::StreamHeader header{"203.0.113.9:4242", "127.0.0.1:20080", protocol::StreamKind::tcp};
  bool written = false;
  async_write_stream_header(*a, header, [&](sdk::error_code ec) {
    REQUIRE_FALSE(ec);
    written = true;
  });
  REQUIRE(test::run_until(io, [&] { return written; }));
  boost::asio::write(a->socket(), boost::asio::buffer(std::string("GET / HTTP/1.0\r\n\r\n")));
  std::optional<protocol::StreamHeader> got;
  std::vector<std::uint8_t> rest;
  async_read_stream_header(*b, [&](sdk::error_code ec, protocol::StreamHeader h, std::vector<std::uint8_t> r) {
    REQUIRE_FALSE(ec);
    got = h;
    rest = std::move(r);
  });
  REQUIRE(test::run_until(io, [&] { return got.has_value(); }));
  CHECK(*got == header);
  // The client's bytes may or may not have arrived with the header; none are lost.
  std::string tail(rest.begin(), rest.end());
  CHECK(std::string("GET / HTTP/1.0\r\n\r\n").starts_with(tail));
}

// A leg owns its channel, and the read it keeps pending owns the leg. The
// caller's handler travels inside the stream's, so an io_context destroyed
// unrun (`warren edge` stopping) frees both; kept in the channel, it made a
// cycle that LeakSanitizer reported at the sanitized edge's exit.
TEST_CASE("a read pending when its io_context is destroyed frees what its handler owns") {
  struct Owner {
    std::shared_ptr<ControlChannel> channel;
  };
  std::weak_ptr<Owner> watch;
  sdk::ByteStreamPtr peer;
  {
    boost::asio::io_context io;
    auto [a, b] = test::stream_pair(io);
    peer = std::move(a);
    auto owner = std::make_shared<Owner>();
    owner->channel = std::make_shared<ControlChannel>(std::move(b));
    owner->channel->async_read([owner](sdk::error_code, protocol::ControlMessage) {});
    watch = owner;
    owner.reset();
    CHECK_FALSE(watch.expired());  // the pending read holds it
    peer.reset();  // before the loop: a socket outlives no io_context
  }
  CHECK(watch.expired());
}
