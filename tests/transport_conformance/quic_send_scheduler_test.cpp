// The QUIC plugin's send order (send_scheduler.hpp), in exact sequences:
// the control stream and short writes go before bulk streams, each class
// round robin.
#include "send_scheduler.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using warren::quic::SendScheduler;
using warren::quic::StreamState;

namespace {

std::shared_ptr<StreamState> stream_with(std::int64_t id, std::size_t unsent) {
  auto s = std::make_shared<StreamState>(id);
  std::vector<std::uint8_t> bytes(unsent, 0x5a);
  s->outgoing.append(bytes.data(), bytes.size());
  return s;
}

/// ngtcp2 took `n` bytes of what next() offered; returns that stream's id.
std::int64_t take(SendScheduler& scheduler, std::size_t n) {
  StreamState* s = scheduler.next();
  REQUIRE(s);
  s->outgoing.mark_sent(std::min<std::size_t>(n, s->outgoing.unsent_bytes()));
  scheduler.served(*s);
  return s->id;
}

}  // namespace

TEST_CASE("quic: the control stream goes before every bulk stream queued ahead of it", "[quic][scheduler]") {
  SendScheduler scheduler;
  std::vector<std::shared_ptr<StreamState>> bulk;
  for (std::int64_t id : {4, 8, 12}) {
    bulk.push_back(stream_with(id, 1 << 20));
    scheduler.enqueue(bulk.back());
  }
  // Bulk streams round robin, one packet's room each.
  CHECK(take(scheduler, 65000) == 4);
  CHECK(take(scheduler, 65000) == 8);
  // A heartbeat on stream 0 is next, not behind 12 and 4.
  auto control = stream_with(0, 60);
  scheduler.enqueue(control);
  CHECK(control->urgent);
  CHECK(take(scheduler, 65000) == 0);
  CHECK_FALSE(control->queued);  // all sent: out of the queue
  CHECK(take(scheduler, 65000) == 12);
  CHECK(take(scheduler, 65000) == 4);
}

TEST_CASE("quic: the control stream stays first for all it writes, however much", "[quic][scheduler]") {
  SendScheduler scheduler;
  auto bulk = stream_with(4, 1 << 20);
  scheduler.enqueue(bulk);
  auto control = stream_with(0, 10000);  // a large control message
  scheduler.enqueue(control);
  CHECK(take(scheduler, 1200) == 0);
  CHECK(take(scheduler, 1200) == 0);
  for (int i = 0; i < 6; ++i) CHECK(take(scheduler, 1200) == 0);
  CHECK(control->outgoing.unsent_bytes() == 10000 - 8 * 1200);
  CHECK(take(scheduler, 1200) == 0);  // the last 400 bytes
  CHECK(take(scheduler, 1200) == 4);
}

TEST_CASE("quic: a short write on any stream goes before bulk, a long one waits its turn", "[quic][scheduler]") {
  SendScheduler scheduler;
  auto a = stream_with(4, 1 << 20), b = stream_with(8, 1 << 20);
  scheduler.enqueue(a);
  scheduler.enqueue(b);
  auto keystroke = stream_with(12, SendScheduler::short_write);
  auto upload = stream_with(16, SendScheduler::short_write + 1);
  scheduler.enqueue(upload);
  scheduler.enqueue(keystroke);
  CHECK(keystroke->urgent);
  CHECK_FALSE(upload->urgent);
  // A packet with room for 1000 bytes takes part of the keystroke; the rest
  // still goes before bulk.
  CHECK(take(scheduler, 1000) == 12);
  CHECK(take(scheduler, 1000) == 12);
  CHECK_FALSE(keystroke->queued);
  CHECK(take(scheduler, 1000) == 4);
  CHECK(take(scheduler, 1000) == 8);
  CHECK(take(scheduler, 1000) == 16);
  CHECK(take(scheduler, 1000) == 4);
}

TEST_CASE("quic: urgent streams share round robin and a FIN alone is urgent", "[quic][scheduler]") {
  SendScheduler scheduler;
  auto bulk = stream_with(4, 1 << 20);
  scheduler.enqueue(bulk);
  auto control = stream_with(0, 3000);
  auto closing = stream_with(8, 0);
  closing->fin_requested = true;  // shutdown_send with nothing unsent
  scheduler.enqueue(control);
  scheduler.enqueue(closing);
  CHECK(take(scheduler, 1200) == 0);
  // The FIN: ngtcp2 takes 0 bytes and the FIN (fin_sent, as account_sent marks it).
  StreamState* s = scheduler.next();
  REQUIRE(s == closing.get());
  closing->fin_sent = true;
  scheduler.served(*s);
  CHECK_FALSE(closing->queued);
  CHECK(take(scheduler, 1200) == 0);
  CHECK(take(scheduler, 1200) == 0);
  CHECK(take(scheduler, 1200) == 4);
  CHECK(scheduler.next() == bulk.get());
}

TEST_CASE("quic: a stream that cannot send leaves the queue and rejoins in the class it then fits",
          "[quic][scheduler]") {
  SendScheduler scheduler;
  auto bulk = stream_with(4, 1 << 20);
  auto other = stream_with(8, 1 << 20);
  scheduler.enqueue(bulk);
  scheduler.enqueue(other);
  CHECK(take(scheduler, 65000) == 4);
  bulk->blocked = true;  // waiting for the peer's MAX_STREAM_DATA
  CHECK(take(scheduler, 65000) == 8);
  CHECK(take(scheduler, 65000) == 8);  // 4 left the queue
  CHECK_FALSE(bulk->queued);
  // Credit arrives when only a short tail is left: it rejoins as urgent.
  bulk->outgoing.mark_sent(bulk->outgoing.unsent_bytes() - 100);
  bulk->blocked = false;
  scheduler.enqueue(bulk);
  CHECK(bulk->urgent);
  CHECK(take(scheduler, 65000) == 4);
  CHECK(take(scheduler, 65000) == 8);
  // A stream already queued is not queued twice.
  scheduler.enqueue(other);
  CHECK(take(scheduler, 65000) == 8);
  scheduler.clear();
  CHECK(scheduler.empty());
  CHECK(scheduler.next() == nullptr);
}
