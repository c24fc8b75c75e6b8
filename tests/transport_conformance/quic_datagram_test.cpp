// QUIC only, datagrams (RFC 9221): how large a payload fits a packet, the
// bounded queues, where datagrams go in the send order, and a lossy path
// where a lost datagram stays lost while streams on the same connection
// deliver every byte.

#include "datagram_queue.hpp"
#include "impaired_udp_relay.hpp"
#include "plugin_harness.hpp"
#include "send_scheduler.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <cstring>
#include <set>

namespace warren::test {
namespace {

using quic::datagram_payload_in;
using quic::DatagramQueue;
using quic::max_datagram_payload;
using quic::SendScheduler;
using quic::StreamState;

TEST_CASE("quic datagrams: the largest payload counts the frame's length bytes", "[quic][datagram]") {
  // Type byte + a 1, 2 or 4-byte varint length (RFC 9000 §16) + payload.
  CHECK(datagram_payload_in(0) == 0);
  CHECK(datagram_payload_in(2) == 0);  // type + 1 length byte: an empty datagram
  CHECK(datagram_payload_in(65) == 63);
  CHECK(datagram_payload_in(66) == 63);  // 64 needs a 2-byte length: 1 + 2 + 64 = 67
  CHECK(datagram_payload_in(67) == 64);
  CHECK(datagram_payload_in(16386) == 16383);
  CHECK(datagram_payload_in(16387) == 16383);  // 16384 needs 4 length bytes
  CHECK(datagram_payload_in(65535) == 65530);
}

TEST_CASE("quic datagrams: the limit is the smaller of the peer's frame and the packet", "[quic][datagram]") {
  CHECK(max_datagram_payload(0, 65000) == 0);  // the peer offered none
  CHECK(max_datagram_payload(65535, 1200) == 1200 - quic::short_packet_overhead - 3);
  CHECK(max_datagram_payload(65535, 1452) == 1452 - 41 - 3);
  CHECK(max_datagram_payload(65535, 65000) == 65000 - 41 - 5);
  CHECK(max_datagram_payload(1000, 65000) == 997);
  CHECK(max_datagram_payload(65535, 30) == 0);
}

TEST_CASE("quic datagrams: a queue bounded in count and bytes refuses past either", "[quic][datagram]") {
  std::vector<std::byte> d(100);
  DatagramQueue by_count(3, 10000);
  CHECK(by_count.push(d));
  CHECK(by_count.push(d));
  CHECK(by_count.push(d));
  CHECK_FALSE(by_count.push(d));
  CHECK(by_count.size() == 3);
  DatagramQueue by_bytes(100, 250);
  CHECK(by_bytes.push(d));
  CHECK(by_bytes.push(d));
  CHECK_FALSE(by_bytes.push(d));
  CHECK(by_bytes.bytes() == 200);
  CHECK(by_bytes.pop().size() == 100);
  CHECK(by_bytes.push(d));  // room again
}

TEST_CASE("quic datagrams: the receive queue charges each datagram its bookkeeping and holds a loop turn's burst",
          "[quic][datagram]") {
  DatagramQueue charged(100, 1000, 64);
  std::vector<std::byte> d(36);
  for (int i = 0; i < 10; ++i) REQUIRE(charged.push(d));  // 100 bytes each as charged
  CHECK_FALSE(charged.push(d));
  CHECK(charged.bytes() == 1000);
  CHECK(charged.pop().size() == 36);
  CHECK(charged.bytes() == 900);
  // The connection's own: a burst of new flows (8,000 flow frames of ~130 B,
  // issue 13's trial) fits, where 1,024 datagrams did not.
  DatagramQueue in(quic::receive_queue_datagrams, quic::receive_queue_bytes, quic::receive_queue_overhead);
  std::vector<std::byte> frame(130);
  for (int i = 0; i < 8000; ++i) REQUIRE(in.push(frame));
  // ... and 60 KB datagrams stop at 2 MiB.
  DatagramQueue large(quic::receive_queue_datagrams, quic::receive_queue_bytes, quic::receive_queue_overhead);
  std::vector<std::byte> big(60000);
  int taken = 0;
  while (large.push(big)) ++taken;
  CHECK(taken == 34);
}

TEST_CASE("quic datagrams: after urgent streams, turn about with bulk by packet", "[quic][datagram]") {
  SendScheduler scheduler;
  auto control = std::make_shared<StreamState>(0);
  auto bulk = std::make_shared<StreamState>(4);
  CHECK(scheduler.datagram_first(nullptr));  // nothing else waits
  std::vector<std::uint8_t> big(5000, 1), small(10, 1);
  bulk->outgoing.append(big.data(), big.size());
  control->outgoing.append(small.data(), small.size());
  scheduler.enqueue(bulk);
  scheduler.enqueue(control);
  StreamState* next = scheduler.next();
  REQUIRE(next == control.get());
  CHECK_FALSE(scheduler.datagram_first(next));  // never before the control stream
  scheduler.packet_done(false);
  control->outgoing.mark_sent(small.size());
  scheduler.served(*control);
  next = scheduler.next();
  REQUIRE(next == bulk.get());
  CHECK(scheduler.datagram_first(next));  // the last packet held no datagram
  scheduler.packet_done(true);
  CHECK_FALSE(scheduler.datagram_first(next));  // the last one did: bulk's turn
  scheduler.packet_done(false);
  CHECK(scheduler.datagram_first(next));
}

/// Sends `count` datagrams numbered 0.. (4-byte index, then 1,196 bytes), 20
/// at a time with a pause between, so the send queue never overflows: every
/// loss is the path's.
struct SendProgress {
  std::uint32_t accepted = 0;
  bool done = false;
};

awaitable<void> send_numbered(sdk::Connection& connection, std::uint32_t count, std::shared_ptr<SendProgress> progress) {
  auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer pause(executor);
  sdk::Datagram d(1200, std::byte{0x5a});
  for (std::uint32_t i = 0; i < count; ++i) {
    std::memcpy(d.data(), &i, sizeof i);
    if (connection.send_datagram(d)) ++progress->accepted;
    if (i % 20 == 19) {
      pause.expires_after(2ms);
      co_await pause.async_wait(boost::asio::use_awaitable);
    }
  }
  progress->done = true;
}

struct Collected {
  std::multiset<std::uint32_t> numbers;
  bool done = false;  ///< the connection ended the loop
};

awaitable<void> collect_numbered(sdk::Connection& connection, std::shared_ptr<Collected> collected) {
  for (;;) {
    auto [ec, d] = co_await connection.async_receive_datagram(use_tuple);
    if (ec) break;
    std::uint32_t i = 0;
    if (d.size() >= sizeof i) std::memcpy(&i, d.data(), sizeof i);
    collected->numbers.insert(i);
  }
  collected->done = true;
}

TEST_CASE("quic datagrams: on a lossy path a lost datagram stays lost and streams lose nothing",
          "[quic][datagram]") {
  Harness h({"quic", true});
  ImpairedUdpRelay relay(h.listen(), 1309);
  relay.set({.loss = 0.05});
  auto pair = h.connect(h.dial_options(relay.port()));
  REQUIRE(pair.client->max_datagram_size() >= 1200);
  h.spawn(serve_echo(*pair.server));
  auto collected = std::make_shared<Collected>();
  h.spawn(collect_numbered(*pair.server, collected));
  const auto* got = &collected->numbers;
  constexpr std::uint32_t count = 4000;
  auto progress = std::make_shared<SendProgress>();
  h.spawn(send_numbered(*pair.client, count, progress));
  // A stream on the same connection at the same time: every byte arrives.
  auto data = pattern(2 << 20, 11);
  EchoResult echoed;
  h.spawn(echo_once(*pair.client, data, echoed));
  REQUIRE(h.run_until([&] { return echoed.done; }, 60s));
  CHECK_FALSE(echoed.error);
  CHECK(byte_difference(echoed.received, data) == "");
  // Long enough for any retransmission to have come (many RTOs on loopback).
  REQUIRE(h.run_until([&] { return progress->done; }, 30s));
  h.run_for(1000ms);
  auto client = pair.client->stats();
  auto relayed = relay.counts();
  std::uint32_t accepted = progress->accepted;
  INFO("accepted " << accepted << " of " << count << ", received " << got->size() << ", relay dropped "
                   << relayed.dropped << " of " << relayed.received << " packets");
  CHECK(relayed.dropped > 0);
  CHECK(accepted > count / 2);
  CHECK(client.datagrams_sent == accepted);  // each accepted one went out, once
  CHECK(got->size() < accepted);             // what the path lost is missing ...
  CHECK(got->size() > accepted / 2);
  std::set<std::uint32_t> unique(got->begin(), got->end());
  CHECK(unique.size() == got->size());  // ... and nothing came twice
  CHECK(pair.server->stats().datagrams_received == got->size());
  // No completion may resume the loop on a destroyed connection.
  pair.server->close(sdk::error_code());
  REQUIRE(h.run_until([&] { return collected->done; }, 5s));
}

}  // namespace
}  // namespace warren::test
