#include "core/splice/stream_splice.hpp"

#include "core/splice/heap_trim.hpp"
#include "core/splice/idle_deadline.hpp"

#include <warren/sdk/socket_stream.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <bit>

namespace warren::core {

/// Holds one count in a tracker for as long as it lives, and lets the
/// tracker abort its splice.
class SpliceCounter {
 public:
  explicit SpliceCounter(SpliceTracker* tracker) {
    if (!tracker) return;
    state_ = tracker->state_;
    ++state_->active;
    ++state_->total;
  }
  void copied(bool forward, std::uint64_t n) {
    if (state_) state_->bytes.add(forward, n);
  }
  void attach(std::function<void(sdk::error_code)> abort) {
    if (!state_) return;
    id_ = state_->next_id++;
    state_->aborters.emplace(id_, std::move(abort));
  }
  ~SpliceCounter() {
    if (!state_) return;
    state_->aborters.erase(id_);
    if (--state_->active == 0 && state_->on_idle) state_->on_idle();
  }
  SpliceCounter(const SpliceCounter&) = delete;
  SpliceCounter& operator=(const SpliceCounter&) = delete;

 private:
  std::shared_ptr<SpliceTracker::State> state_;
  std::uint64_t id_ = 0;
};

void SpliceTracker::when_idle(std::function<void()> callback) {
  state_->on_idle = std::move(callback);
  if (state_->active == 0 && state_->on_idle) state_->on_idle();
}

void SpliceTracker::abort_all(sdk::error_code reason) {
  // Aborting completes pending operations later (posted), so the map does
  // not change under us; copy anyway in case a stream completes inline.
  auto aborters = state_->aborters;
  for (auto& [id, abort] : aborters) abort(reason);
}

namespace {

// What a buffer starts at: one QUIC packet's payload fits, so a trickle
// (keystrokes, small requests) never grows it.
constexpr std::size_t initial_buffer = 2 * 1024;

std::atomic<std::size_t> buffered_total{0};

/// A heap buffer counted in buffered_total while it exists.
class CopyBuffer {
 public:
  CopyBuffer() = default;
  ~CopyBuffer() { release(); }
  CopyBuffer(const CopyBuffer&) = delete;
  CopyBuffer& operator=(const CopyBuffer&) = delete;

  std::uint8_t* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// Makes the buffer exactly `size` bytes; its contents are not kept.
  void reset(std::size_t size) {
    if (size == size_) return;
    release();
    data_ = std::make_unique_for_overwrite<std::uint8_t[]>(size);
    size_ = size;
    buffered_total += size;
  }
  void release() {
    if (!data_) return;
    buffered_total -= size_;
    data_.reset();
    size_ = 0;
  }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
};

/// A socket the splice can wait on until it is readable without holding a
/// buffer meanwhile; null for streams that can only be read into one (a
/// transport's streams: the SDK's ByteStream has no wait-for-readable).
/// Type names compare by string across DSOs, so this also sees sockets a
/// plugin made (the tcp backend's).
std::function<void(std::function<void(sdk::error_code)>)> readable_waiter(sdk::ByteStream& stream) {
  using Tcp = sdk::SocketStream<boost::asio::ip::tcp::socket>;
  using Unix = sdk::SocketStream<boost::asio::local::stream_protocol::socket>;
  auto wait = [](auto& socket) {
    return [&socket](std::function<void(sdk::error_code)> done) {
      socket.async_wait(boost::asio::socket_base::wait_read, std::move(done));
    };
  };
  if (auto* tcp = dynamic_cast<Tcp*>(&stream)) return wait(tcp->socket());
  if (auto* local = dynamic_cast<Unix*>(&stream)) return wait(local->socket());
  return nullptr;
}

class Splice : public std::enable_shared_from_this<Splice> {
 public:
  Splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::function<void(const SpliceResult&)> done,
         const SpliceOptions& options)
      : keep_alive_(options.keep_alive),
        trim_ticket_(a->get_executor()),
        a_(std::move(a)),
        b_(std::move(b)),
        done_(std::move(done)),
        counter_(options.tracker),
        max_buffer_(std::max<std::size_t>(options.buffer_size, 1)),
        budget_(options.budget),
        bytes_(options.bytes),
        idle_(options.idle_timeout, sdk::Clock::now()),
        idle_timer_(a_->get_executor()) {
    forward_.target = backward_.target = std::min(initial_buffer, max_buffer_);
    forward_.wait = readable_waiter(*a_);
    backward_.wait = readable_waiter(*b_);
  }

  ~Splice() {
    if (budget_) budget_->give(borrowed_);
  }
  Splice(const Splice&) = delete;
  Splice& operator=(const Splice&) = delete;

  void start(const std::vector<std::uint8_t>& initial) {
    counter_.attach([weak = weak_from_this()](sdk::error_code reason) {
      if (auto self = weak.lock()) self->abort(reason);
    });
    if (initial.empty()) {
      read(forward_, *a_, *b_);
    } else {
      forward_.buffer.reset(std::max(initial.size(), forward_.target));
      std::copy(initial.begin(), initial.end(), forward_.buffer.data());
      write(forward_, *a_, *b_, initial.size());
    }
    read(backward_, *b_, *a_);
    if (idle_.enabled()) arm_idle(*idle_.check(sdk::Clock::now()));
  }

 private:
  struct Direction {
    CopyBuffer buffer;
    std::size_t target = 0;  ///< the size a buffer grows to while reads fill it
    /// The size of the next read's buffer when it is below target (0: target).
    std::size_t next = 0;
    /// Set for a socket: wait until readable, then take a buffer.
    std::function<void(std::function<void(sdk::error_code)>)> wait;
    std::uint64_t bytes = 0;
    std::size_t last_read = 0;
    bool finished = false;
  };

  void read(Direction& d, sdk::ByteStream& from, sdk::ByteStream& to) {
    if (d.wait && d.buffer.empty()) {
      return d.wait([self = shared_from_this(), &d, &from, &to](sdk::error_code ec) {
        if (ec) return self->fail(d, ec);
        self->read_into_buffer(d, from, to);
      });
    }
    read_into_buffer(d, from, to);
  }

  void read_into_buffer(Direction& d, sdk::ByteStream& from, sdk::ByteStream& to) {
    auto want = d.next ? d.next : d.target;
    if (d.buffer.size() != want) d.buffer.reset(want);
    from.async_read_some(boost::asio::buffer(d.buffer.data(), d.buffer.size()),
                         [self = shared_from_this(), &d, &from, &to](sdk::error_code ec, std::size_t n) {
                           if (ec == boost::asio::error::eof) {
                             d.buffer.release();
                             to.shutdown_send();
                             return self->finish(d);
                           }
                           if (ec) return self->fail(d, ec);
                           if (n) self->idle_.activity(sdk::Clock::now());
                           d.last_read = n;
                           self->write(d, from, to, n);
                         });
  }

  void write(Direction& d, sdk::ByteStream& from, sdk::ByteStream& to, std::size_t n) {
    // The buffer is only touched again after this write completes.
    boost::asio::async_write(to, boost::asio::buffer(d.buffer.data(), n),
                             [self = shared_from_this(), &d, &from, &to](sdk::error_code ec, std::size_t written) {
                               d.bytes += written;
                               self->count(d, written);
                               if (written) self->idle_.activity(sdk::Clock::now());
                               if (ec) return self->fail(d, ec);
                               self->resize(d);
                               self->read(d, from, to);
                             });
  }

  /// After each copy: a read that filled the buffer doubles it (bulk data
  /// is flowing); one that came back small shrinks it towards what flowed.
  /// A socket side that was not filled is drained: its buffer goes, and the
  /// next read waits for readability first.
  ///
  /// A side that cannot be waited on holds its next buffer for as long as
  /// its peer stays quiet, which may be for good: after a read that did not
  /// fill the buffer, the next one is sized by what that read brought
  /// (target stays, so a read that fills it goes straight back to target).
  /// 1,000 HTTP/2 streams that each echoed 64 KiB held ~38 KiB more each on
  /// the edge while every one of them waited with its grown buffer.
  void resize(Direction& d) {
    auto size = d.buffer.size();
    auto floor = std::min(initial_buffer, max_buffer_);
    if (d.last_read == size) {
      if (d.next == 0) return grow(d);
      d.next = 0;  // a small read filled up: back to target
      return;
    }
    if (d.last_read < d.target / 4 && d.target > floor) {
      auto smaller = std::max(floor, std::bit_ceil(std::max<std::size_t>(d.last_read, 1) * 2));
      if (budget_) {
        auto given = std::min(d.target - smaller, borrowed_);
        budget_->give(given);
        borrowed_ -= given;
      }
      d.target = smaller;
    }
    if (d.wait) return d.buffer.release();  // a socket side holds no buffer while it waits
    auto tail = std::clamp(std::bit_ceil(std::max<std::size_t>(d.last_read, 1)), floor, d.target);
    d.next = tail < d.target ? tail : 0;
  }

  void grow(Direction& d) {
    auto size = d.target;
    if (size >= max_buffer_) return;
    auto bigger = std::min(size * 2, max_buffer_);
    if (budget_ && !budget_->take(bigger - size)) return;
    if (budget_) borrowed_ += bigger - size;
    d.target = bigger;
  }

  /// The live counters: cheap enough per write (a few additions).
  void count(const Direction& d, std::size_t n) {
    if (n == 0) return;
    bool forward = &d == &forward_;
    counter_.copied(forward, n);
    if (bytes_) bytes_->add(forward, n);
  }

  void arm_idle(sdk::TimePoint at) {
    idle_timer_.expires_at(at);
    idle_timer_.async_wait([self = shared_from_this()](sdk::error_code ec) {
      if (ec || self->done_ == nullptr) return;
      if (auto next = self->idle_.check(sdk::Clock::now())) return self->arm_idle(*next);
      self->abort(sdk::make_error_code(sdk::errc::idle_timeout));
    });
  }

  void abort(sdk::error_code reason) {
    if (!done_) return;  // already over
    if (!error_) error_ = reason;
    if (aborted_) return;
    aborted_ = true;  // pending operations end with operation_aborted
    a_->abort();
    b_->abort();
  }

  void fail(Direction& d, sdk::error_code ec) {
    if (!error_ && ec != boost::asio::error::operation_aborted) error_ = ec;
    d.buffer.release();
    abort(error_);
    finish(d);
  }

  void finish(Direction& d) {
    d.finished = true;
    if (forward_.finished && backward_.finished && done_) {
      idle_timer_.cancel();
      auto done = std::move(done_);
      done_ = nullptr;
      done(SpliceResult{forward_.bytes, backward_.bytes, error_});
    }
  }

  std::shared_ptr<const void> keep_alive_;  // first: goes after everything that may run plugin code
  HeapTrimTicket trim_ticket_;  // goes after the streams and buffers
  sdk::ByteStreamPtr a_, b_;
  std::function<void(const SpliceResult&)> done_;
  SpliceCounter counter_;
  std::size_t max_buffer_;
  std::shared_ptr<BufferBudget> budget_;
  std::shared_ptr<ByteCounter> bytes_;
  std::size_t borrowed_ = 0;  ///< bytes of budget_ this splice's buffers grew into
  Direction forward_, backward_;
  IdleDeadline idle_;
  boost::asio::steady_timer idle_timer_;
  sdk::error_code error_;
  bool aborted_ = false;
};

}  // namespace

void splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::vector<std::uint8_t> initial_a_to_b,
            std::function<void(const SpliceResult&)> done, const SpliceOptions& options) {
  std::make_shared<Splice>(std::move(a), std::move(b), std::move(done), options)->start(initial_a_to_b);
}

void splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::vector<std::uint8_t> initial_a_to_b,
            std::function<void(const SpliceResult&)> done, SpliceTracker* tracker, std::size_t buffer_size) {
  splice(std::move(a), std::move(b), std::move(initial_a_to_b), std::move(done),
         SpliceOptions{tracker, nullptr, buffer_size, sdk::Duration::zero()});
}

std::size_t splice_buffer_bytes() { return buffered_total.load(); }

}  // namespace warren::core
