#pragma once
// Which stream's bytes go into the packet being built next. Two classes,
// each served round robin:
//  - urgent: the control stream (the first bidirectional stream of every
//    connection, ARCHITECTURE.md: stream 0) and any stream whose unsent
//    bytes were short when it joined the queue (a heartbeat-sized message,
//    an interactive keystroke, a FIN);
//  - bulk: everything else.
// Every urgent stream is offered before any bulk one, so a heartbeat waits
// behind at most the packet being built, never behind one packet of every
// busy stream (at a 65,000-byte loopback packet and 64 busy streams, that
// was 4 MB). Bulk cannot starve: a stream is urgent for what it had unsent
// when it joined (one short write: the writer's next one follows a posted
// completion, never within a flush), so a flush serves the urgent class
// once and then fills the rest of its burst with bulk data. Only the
// control stream stays urgent whatever it writes; it carries little.
//
// Datagrams (RFC 9221; QuicConnection keeps them in a bounded queue of
// their own) come after every urgent stream, so a datagram flood never
// delays a heartbeat, and take turns with bulk streams packet by packet:
// a packet that carried datagrams hands the next one to bulk data first,
// and the other way round, so neither class starves the other. (Datagrams
// are latency-sensitive too, but they have no flow control: first place
// among the urgent streams would let one UDP flood hold the control stream.)
//
// Sans-io: the connection's send loop asks next(), offers that stream to
// ngtcp2 and reports served(); unit-tested with exact sequences.

#include "stream_state.hpp"

#include <cstddef>
#include <deque>
#include <memory>

namespace warren::quic {

class SendScheduler {
 public:
  /// A stream whose unsent bytes are at most this many when it joins is
  /// urgent: what the smallest QUIC packet carries (1200 bytes, RFC 9000
  /// §14), so one urgent turn costs bulk streams at most one packet's room.
  static constexpr std::size_t short_write = 1200;

  /// The first bidirectional stream (client-initiated bidi stream 0) carries
  /// warren's control protocol on every connection.
  static bool is_control(const StreamState& stream) { return stream.id == 0; }

  /// Queues `stream` if it has something to send and is not queued yet; its
  /// class is decided now.
  void enqueue(const std::shared_ptr<StreamState>& stream) {
    if (stream->queued || !stream->wants_to_send()) return;
    stream->queued = true;
    stream->urgent = is_control(*stream) || stream->outgoing.unsent_bytes() <= short_write;
    (stream->urgent ? urgent_ : bulk_).push_back(stream);
  }

  /// The stream to offer next: the first urgent one, else the first bulk
  /// one; null if none wants to send. Streams that stopped wanting to send
  /// (blocked, reset, done) leave their queue here.
  StreamState* next() {
    drop_idle(urgent_);
    if (!urgent_.empty()) return urgent_.front().get();
    drop_idle(bulk_);
    return bulk_.empty() ? nullptr : bulk_.front().get();
  }

  /// ngtcp2 took bytes of `stream`, which next() returned: it goes behind
  /// the others of its class if it still has some, else leaves the queue.
  void served(const StreamState& stream) {
    auto& queue = stream.urgent ? urgent_ : bulk_;
    if (queue.empty() || queue.front().get() != &stream) return;  // not next()'s any more
    auto front = std::move(queue.front());
    queue.pop_front();
    if (front->wants_to_send())
      queue.push_back(std::move(front));
    else
      front->queued = false;
  }

  bool empty() const { return urgent_.empty() && bulk_.empty(); }

  /// Whether the packet being built takes a waiting datagram now rather
  /// than `stream`, which next() returned: never before an urgent stream;
  /// before a bulk one on the datagrams' turn; always when no stream waits.
  bool datagram_first(const StreamState* stream) const { return !stream || (!stream->urgent && datagram_turn_); }

  /// A packet was completed; `carried_datagrams`: whether it held any. The
  /// next packet starts with the other class.
  void packet_done(bool carried_datagrams) { datagram_turn_ = !carried_datagrams; }

  /// The connection ended: nothing will be sent.
  void clear() {
    urgent_.clear();
    bulk_.clear();
  }

 private:
  static void drop_idle(std::deque<std::shared_ptr<StreamState>>& queue) {
    while (!queue.empty() && !queue.front()->wants_to_send()) {
      queue.front()->queued = false;
      queue.pop_front();
    }
  }

  std::deque<std::shared_ptr<StreamState>> urgent_;
  std::deque<std::shared_ptr<StreamState>> bulk_;
  bool datagram_turn_ = true;
};

}  // namespace warren::quic
