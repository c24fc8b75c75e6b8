#include "core/edge/replayable_stream.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <mutex>
#include <span>

namespace warren::core {

using boost::asio::error::operation_aborted;

/// The live ReplayCores of one execution context. Shared with the cores, so
/// that one outliving its context still finds it when it is destroyed.
struct ParkedCores {
  std::mutex mutex;
  std::set<ReplayCore*> cores;

  /// Drops every core's kept handlers. Dropping them may destroy other
  /// cores (a splice's last owner was a handler), which leave the set on
  /// their own: hence one at a time, without the lock.
  void shutdown() {
    std::unique_lock lock(mutex);
    while (!cores.empty()) {
      auto* core = *cores.begin();
      cores.erase(cores.begin());
      auto keep = core->weak_from_this().lock();
      if (!keep) continue;  // being destroyed
      lock.unlock();
      core->drop_handlers();
      keep.reset();
      lock.lock();
    }
  }
};

namespace {

/// Asio destroys the handlers of its own pending operations when their
/// io_context shuts down; this service does the same for the handlers a
/// ReplayCore keeps (see ReplayCore::parked_).
class ParkedCoresService final : public boost::asio::execution_context::service {
 public:
  static inline boost::asio::execution_context::id id;
  explicit ParkedCoresService(boost::asio::execution_context& context) : service(context) {}
  const std::shared_ptr<ParkedCores> cores = std::make_shared<ParkedCores>();

 private:
  void shutdown() override { cores->shutdown(); }
};

std::shared_ptr<ParkedCores> parked_cores_of(const sdk::ByteStream::executor_type& executor) {
  auto& context = boost::asio::query(executor, boost::asio::execution::context);
  return boost::asio::use_service<ParkedCoresService>(context).cores;
}

}  // namespace

ReplayableStream::ReplayableStream(executor_type executor, ReplayLimits limits, sdk::TimePoint now, ReplayHooks hooks)
    : core_(std::make_shared<ReplayCore>(std::move(executor), limits, now, std::move(hooks))) {}

ReplayableStream::~ReplayableStream() { core_->close(); }

ReplayableStream::executor_type ReplayableStream::get_executor() { return core_->executor_; }
void ReplayableStream::shutdown_send() { core_->shutdown_send(); }
void ReplayableStream::abort() { core_->abort(); }
void ReplayableStream::async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) {
  core_->read(buffer, std::move(handler));
}
void ReplayableStream::async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) {
  core_->write(buffer, std::move(handler));
}

ReplayCore::ReplayCore(sdk::ByteStream::executor_type executor, ReplayLimits limits, sdk::TimePoint now,
                       ReplayHooks hooks)
    : executor_(std::move(executor)),
      parked_(parked_cores_of(executor_)),
      state_(limits, now),
      hooks_(std::move(hooks)) {
  std::lock_guard lock(parked_->mutex);
  parked_->cores.insert(this);
}

ReplayCore::~ReplayCore() {
  std::lock_guard lock(parked_->mutex);
  parked_->cores.erase(this);
}

bool ReplayCore::waiting_on(LegId leg) const {
  return state_.phase() == ReplayState::Phase::waiting && state_.leg() == leg && inner_;
}

bool ReplayCore::accepted_on(LegId leg) const {
  return state_.phase() == ReplayState::Phase::accepted && state_.leg() == leg;
}

void ReplayCore::leg_lost(LegId leg) {
  if (!aborted_ && waiting_on(leg)) failed(sdk::make_error_code(sdk::errc::peer_closed));
}

// --- the splice's side -------------------------------------------------------

void ReplayCore::read(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) {
  if (state_.phase() == ReplayState::Phase::accepted && inner_ && !aborted_)
    return inner_->async_read_some(buffer, std::move(handler));
  read_buffer_ = buffer;
  read_handler_.emplace(std::move(handler));
  if (aborted_ || state_.phase() == ReplayState::Phase::given_up) return complete_read(operation_aborted, 0);
  issue_read();
}

void ReplayCore::write(boost::asio::const_buffer buffer, sdk::WriteHandler handler) {
  if (state_.phase() == ReplayState::Phase::accepted && inner_ && !inner_writing_ && !aborted_)
    return inner_->async_write_some(buffer, std::move(handler));
  write_buffer_ = buffer;
  write_kept_ = 0;
  write_handler_.emplace(std::move(handler));
  if (aborted_ || state_.phase() == ReplayState::Phase::given_up) return complete_write(operation_aborted, 0);
  try_write();
}

void ReplayCore::shutdown_send() {
  client_fin_ = true;
  // While dispatching or replaying, resume() passes the FIN on after the kept bytes.
  if (inner_ && state_.phase() != ReplayState::Phase::dispatching && !inner_writing_ && !aborted_)
    inner_->shutdown_send();
}

void ReplayCore::abort() {
  aborted_ = true;
  ++generation_;
  if (inner_) inner_->abort();
  complete_read(operation_aborted, 0);
  complete_write(operation_aborted, 0);
}

void ReplayCore::close() {
  aborted_ = true;
  ++generation_;
  inner_.reset();  // a reset unless the splice half-closed it first
  read_handler_.reset();
  write_handler_.reset();
}

void ReplayCore::drop_handlers() {
  aborted_ = true;
  ++generation_;
  // Moved out first: destroying them may destroy the splice and the stream
  // (the caller keeps this core alive).
  auto read = std::move(read_handler_);
  auto write = std::move(write_handler_);
  read_handler_.reset();
  write_handler_.reset();
}

void ReplayCore::complete_read(sdk::error_code ec, std::size_t n) {
  if (!read_handler_) return;
  auto handler = std::move(*read_handler_);
  read_handler_.reset();
  boost::asio::post(executor_, [handler = std::move(handler), ec, n]() mutable { std::move(handler)(ec, n); });
}

void ReplayCore::complete_write(sdk::error_code ec, std::size_t n) {
  if (!write_handler_) return;
  auto handler = std::move(*write_handler_);
  write_handler_.reset();
  write_kept_ = 0;
  boost::asio::post(executor_, [handler = std::move(handler), ec, n]() mutable { std::move(handler)(ec, n); });
}

// --- the data stream's side --------------------------------------------------

void ReplayCore::issue_read() {
  if (!read_handler_ || inner_reading_ || !inner_ || aborted_) return;
  if (state_.phase() == ReplayState::Phase::accepted) {
    auto handler = std::move(*read_handler_);
    read_handler_.reset();
    return inner_->async_read_some(read_buffer_, std::move(handler));
  }
  if (state_.phase() != ReplayState::Phase::waiting) return;
  inner_reading_ = true;
  // The reply is read into the splice's own buffer: what follows it there
  // is the backend's first bytes and is handed on in place.
  inner_->async_read_some(read_buffer_,
                          [weak = weak_from_this(), generation = generation_](sdk::error_code ec, std::size_t n) {
                            if (auto self = weak.lock()) self->on_read(generation, ec, n);
                          });
}

void ReplayCore::on_read(std::uint64_t generation, sdk::error_code ec, std::size_t n) {
  if (generation != generation_) return;  // a dropped stream's read
  inner_reading_ = false;
  // An end of stream before the reply is a failure: the splice must not
  // take it for the backend's clean close.
  if (ec == boost::asio::error::eof) ec = sdk::make_error_code(sdk::errc::peer_closed);
  if (ec) return failed(ec);
  auto* bytes = static_cast<std::uint8_t*>(read_buffer_.data());
  auto result = decoder_->parse(bytes, bytes + n);
  if (result.status == protocol::ParseStatus::need_more) return issue_read();
  if (result.status == protocol::ParseStatus::bad) {
    // A connector that garbles its reply may have reached its backend:
    // replaying could deliver the request twice, so the client is reset.
    state_.no_leg();
    return give_up(sdk::make_error_code(sdk::errc::protocol_error));
  }
  if (result.message->refused) {
    if (hooks_.refused) hooks_.refused(*result.message->refused);
    return failed(sdk::make_error_code(*result.message->refused));
  }
  state_.accepted();
  decoder_.reset();
  std::size_t rest = n - result.consumed;
  if (rest > 0) {
    std::memmove(bytes, bytes + result.consumed, rest);
    complete_read({}, rest);
  } else {
    issue_read();
  }
  try_write();
}

void ReplayCore::try_write() {
  if (!write_handler_ || inner_writing_ || !inner_ || aborted_ || write_kept_ > 0) return;
  if (state_.phase() == ReplayState::Phase::accepted) {
    auto handler = std::move(*write_handler_);
    write_handler_.reset();
    return inner_->async_write_some(write_buffer_, std::move(handler));
  }
  std::size_t take = state_.room(write_buffer_.size());
  if (take == 0) return;  // the buffer is full (or no stream yet): the client waits
  state_.sent({static_cast<const std::uint8_t*>(write_buffer_.data()), take});
  write_kept_ = take;
  inner_writing_ = true;
  boost::asio::async_write(*inner_, boost::asio::buffer(write_buffer_.data(), take),
                           [weak = weak_from_this(), generation = generation_](sdk::error_code ec, std::size_t n) {
                             if (auto self = weak.lock()) self->on_write(generation, ec, n);
                           });
}

void ReplayCore::on_write(std::uint64_t generation, sdk::error_code ec, std::size_t) {
  if (generation != generation_) return;  // replay_elsewhere() already answered the splice
  inner_writing_ = false;
  std::size_t kept = write_kept_;
  if (ec && state_.phase() != ReplayState::Phase::waiting) return complete_write(ec, 0);
  if (ec) return failed(ec);  // the bytes are kept: replay_elsewhere() answers the splice
  complete_write({}, kept);
}

// --- moving to another leg ---------------------------------------------------

void ReplayCore::failed(sdk::error_code why) {
  if (aborted_) return;
  if (state_.failed(sdk::Clock::now()) == ReplayState::Decision::give_up) return give_up(why);
  replay_elsewhere(why);
}

void ReplayCore::replay_elsewhere(sdk::error_code why) {
  LegId from = state_.leg();
  ++generation_;
  inner_.reset();  // resets the dead stream: the connector, if alive, drops it
  inner_reading_ = inner_writing_ = false;
  decoder_.reset();
  // Bytes of the splice's write that went out on the dead stream are kept:
  // they go out again on the next one, so that write is done.
  if (write_kept_ > 0) complete_write({}, write_kept_);
  if (hooks_.replaying) hooks_.replaying(from, why, state_.attempts() + 1);
  hooks_.reopen(state_.tried(), [weak = weak_from_this(), generation = generation_](sdk::error_code ec, Dispatch d) {
    if (auto self = weak.lock(); self && generation == self->generation_) self->dispatched(ec, std::move(d));
  });
}

void ReplayCore::dispatched(sdk::error_code ec, Dispatch dispatch) {
  if (aborted_ || state_.phase() != ReplayState::Phase::dispatching) return;
  if (ec || !dispatch.stream) {
    if (dispatch.leg == 0) {
      state_.no_leg();
      return give_up(ec ? ec : sdk::make_error_code(sdk::errc::peer_closed));
    }
    if (state_.open_failed(dispatch.leg, sdk::Clock::now()) == ReplayState::Decision::give_up) return give_up(ec);
    return replay_elsewhere(ec);
  }
  inner_ = std::move(dispatch.stream);
  state_.dispatched(dispatch.leg, dispatch.expects_reply);
  if (dispatch.expects_reply) decoder_.emplace();
  // The header, the bytes kept from an earlier attempt and the client bytes
  // the splice is waiting to write (a request read at accept) go out in one
  // write: the connector gets them in one packet and connects its backend
  // with the request at hand.
  std::size_t take = (write_handler_ && write_kept_ == 0) ? state_.room(write_buffer_.size()) : 0;
  if (dispatch.prefix.empty() && state_.kept().empty() && take == 0) return resume();
  // A copy: the reply may arrive (and free the kept bytes) before this write completes.
  auto copy = std::make_shared<std::vector<std::uint8_t>>(std::move(dispatch.prefix));
  copy->reserve(copy->size() + state_.kept().size() + take);
  copy->insert(copy->end(), state_.kept().begin(), state_.kept().end());
  if (take > 0) {
    std::span<const std::uint8_t> waiting(static_cast<const std::uint8_t*>(write_buffer_.data()), take);
    copy->insert(copy->end(), waiting.begin(), waiting.end());
    state_.sent(waiting);
    write_kept_ = take;
  }
  inner_writing_ = true;
  boost::asio::async_write(*inner_, boost::asio::buffer(*copy),
                           [weak = weak_from_this(), generation = generation_, copy](sdk::error_code e, std::size_t) {
                             auto self = weak.lock();
                             if (!self || generation != self->generation_) return;
                             self->inner_writing_ = false;
                             // On failure the splice's bytes are kept: replay_elsewhere() answers its write.
                             if (e) return self->failed(e);
                             if (self->write_kept_ > 0) self->complete_write({}, self->write_kept_);
                             self->resume();
                           });
  issue_read();
}

void ReplayCore::resume() {
  // Without replies the kept bytes just went out again: nothing to keep.
  if (state_.phase() == ReplayState::Phase::accepted) state_.accepted();
  if (client_fin_ && !inner_writing_) inner_->shutdown_send();
  issue_read();
  try_write();
}

void ReplayCore::give_up(sdk::error_code why) {
  ++generation_;
  inner_.reset();
  inner_reading_ = inner_writing_ = false;
  complete_read(why, 0);
  complete_write(why, 0);
  if (hooks_.gave_up) hooks_.gave_up(why);
}

}  // namespace warren::core
