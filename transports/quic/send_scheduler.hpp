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
};

}  // namespace warren::quic
