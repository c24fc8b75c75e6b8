#include "core/runtime/stream_splice.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

namespace warren::core {

/// Holds one count in a tracker for as long as it lives.
class SpliceCounter {
 public:
  explicit SpliceCounter(SpliceTracker* tracker) {
    if (!tracker) return;
    active_ = tracker->active_;
    on_idle_ = tracker->on_idle_;
    ++*active_;
  }
  ~SpliceCounter() {
    if (active_ && --*active_ == 0 && *on_idle_) (*on_idle_)();
  }
  SpliceCounter(const SpliceCounter&) = delete;
  SpliceCounter& operator=(const SpliceCounter&) = delete;

 private:
  std::shared_ptr<std::size_t> active_;
  std::shared_ptr<std::function<void()>> on_idle_;
};

void SpliceTracker::when_idle(std::function<void()> callback) {
  *on_idle_ = std::move(callback);
  if (*active_ == 0 && *on_idle_) (*on_idle_)();
}

namespace {

class Splice : public std::enable_shared_from_this<Splice> {
 public:
  Splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::function<void(const SpliceResult&)> done,
         SpliceTracker* tracker, std::size_t buffer_size)
      : a_(std::move(a)), b_(std::move(b)), done_(std::move(done)), counter_(tracker) {
    forward_.buffer.resize(buffer_size);
    backward_.buffer.resize(buffer_size);
  }

  void start(const std::vector<std::uint8_t>& initial) {
    if (initial.empty()) {
      read(forward_, *a_, *b_);
    } else {
      if (initial.size() > forward_.buffer.size()) forward_.buffer.resize(initial.size());
      std::copy(initial.begin(), initial.end(), forward_.buffer.begin());
      write(forward_, *a_, *b_, initial.size());
    }
    read(backward_, *b_, *a_);
  }

 private:
  struct Direction {
    std::vector<std::uint8_t> buffer;
    std::uint64_t bytes = 0;
    bool finished = false;
  };

  void read(Direction& d, sdk::ByteStream& from, sdk::ByteStream& to) {
    from.async_read_some(boost::asio::buffer(d.buffer),
                         [self = shared_from_this(), &d, &from, &to](sdk::error_code ec, std::size_t n) {
                           if (ec == boost::asio::error::eof) {
                             to.shutdown_send();
                             return self->finish(d, {});
                           }
                           if (ec) return self->fail(d, ec);
                           self->write(d, from, to, n);
                         });
  }

  void write(Direction& d, sdk::ByteStream& from, sdk::ByteStream& to, std::size_t n) {
    // The buffer is only touched again after this write completes.
    boost::asio::async_write(to, boost::asio::buffer(d.buffer.data(), n),
                             [self = shared_from_this(), &d, &from, &to](sdk::error_code ec, std::size_t written) {
                               d.bytes += written;
                               if (ec) return self->fail(d, ec);
                               self->read(d, from, to);
                             });
  }

  void fail(Direction& d, sdk::error_code ec) {
    if (!error_ && ec != boost::asio::error::operation_aborted) error_ = ec;
    if (!aborted_) {
      aborted_ = true;  // the other direction's pending operation ends with operation_aborted
      a_->abort();
      b_->abort();
    }
    finish(d, ec);
  }

  void finish(Direction& d, sdk::error_code) {
    d.finished = true;
    if (forward_.finished && backward_.finished && done_) {
      auto done = std::move(done_);
      done(SpliceResult{forward_.bytes, backward_.bytes, error_});
    }
  }

  sdk::ByteStreamPtr a_, b_;
  std::function<void(const SpliceResult&)> done_;
  SpliceCounter counter_;
  Direction forward_, backward_;
  sdk::error_code error_;
  bool aborted_ = false;
};

}  // namespace

void splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::vector<std::uint8_t> initial_a_to_b,
            std::function<void(const SpliceResult&)> done, SpliceTracker* tracker, std::size_t buffer_size) {
  std::make_shared<Splice>(std::move(a), std::move(b), std::move(done), tracker, buffer_size)
      ->start(initial_a_to_b);
}

}  // namespace warren::core
