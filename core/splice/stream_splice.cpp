#include "core/splice/stream_splice.hpp"

#include "core/splice/idle_deadline.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

namespace warren::core {

/// Holds one count in a tracker for as long as it lives, and lets the
/// tracker abort its splice.
class SpliceCounter {
 public:
  explicit SpliceCounter(SpliceTracker* tracker) {
    if (!tracker) return;
    state_ = tracker->state_;
    ++state_->active;
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

constexpr std::size_t initial_buffer = 4 * 1024;

class Splice : public std::enable_shared_from_this<Splice> {
 public:
  Splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::function<void(const SpliceResult&)> done,
         const SpliceOptions& options)
      : a_(std::move(a)),
        b_(std::move(b)),
        done_(std::move(done)),
        counter_(options.tracker),
        max_buffer_(std::max<std::size_t>(options.buffer_size, 1)),
        budget_(options.budget),
        idle_(options.idle_timeout, sdk::Clock::now()),
        idle_timer_(a_->get_executor()) {
    forward_.buffer.resize(std::min(initial_buffer, max_buffer_));
    backward_.buffer.resize(std::min(initial_buffer, max_buffer_));
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
      if (initial.size() > forward_.buffer.size()) forward_.buffer.resize(initial.size());
      std::copy(initial.begin(), initial.end(), forward_.buffer.begin());
      write(forward_, *a_, *b_, initial.size());
    }
    read(backward_, *b_, *a_);
    if (idle_.enabled()) arm_idle(*idle_.check(sdk::Clock::now()));
  }

 private:
  struct Direction {
    std::vector<std::uint8_t> buffer;
    std::uint64_t bytes = 0;
    bool filled = false;  ///< the last read filled the buffer: grow it
    bool finished = false;
  };

  void read(Direction& d, sdk::ByteStream& from, sdk::ByteStream& to) {
    from.async_read_some(boost::asio::buffer(d.buffer),
                         [self = shared_from_this(), &d, &from, &to](sdk::error_code ec, std::size_t n) {
                           if (ec == boost::asio::error::eof) {
                             to.shutdown_send();
                             return self->finish(d);
                           }
                           if (ec) return self->fail(d, ec);
                           if (n) self->idle_.activity(sdk::Clock::now());
                           d.filled = n == d.buffer.size();
                           self->write(d, from, to, n);
                         });
  }

  void write(Direction& d, sdk::ByteStream& from, sdk::ByteStream& to, std::size_t n) {
    // The buffer is only touched again after this write completes.
    boost::asio::async_write(to, boost::asio::buffer(d.buffer.data(), n),
                             [self = shared_from_this(), &d, &from, &to](sdk::error_code ec, std::size_t written) {
                               d.bytes += written;
                               if (written) self->idle_.activity(sdk::Clock::now());
                               if (ec) return self->fail(d, ec);
                               if (d.filled) self->grow(d);
                               self->read(d, from, to);
                             });
  }

  void grow(Direction& d) {
    auto size = d.buffer.size();
    if (size >= max_buffer_) return;
    auto bigger = std::min(size * 2, max_buffer_);
    if (budget_ && !budget_->take(bigger - size)) return;
    if (budget_) borrowed_ += bigger - size;
    d.buffer.resize(bigger);
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

  sdk::ByteStreamPtr a_, b_;
  std::function<void(const SpliceResult&)> done_;
  SpliceCounter counter_;
  std::size_t max_buffer_;
  std::shared_ptr<BufferBudget> budget_;
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

}  // namespace warren::core
