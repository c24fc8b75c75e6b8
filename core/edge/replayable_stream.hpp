#pragma once
// The tunnel side of one public connection at the edge, as the splice sees
// it: a byte stream that may move to another leg until the connector
// answers. Until its StreamReply arrives it keeps the client bytes written
// to it (ReplayState: bounded; past the bound the splice's write waits, so
// the client is not read), and if the data stream fails first — reset,
// ended, its leg lost — or the reply is a refusal, it opens a stream on
// another leg (via `reopen`), writes the kept bytes there and goes on, the
// splice none the wiser. Client bytes are forwarded at once: nothing waits
// for the reply. After the reply every operation goes straight to the data
// stream. A leg without replies (an older connector) is accepted at once.

#include "core/edge/replay_state.hpp"
#include "core/protocol/frame_decoder.hpp"

#include <warren/sdk/byte_stream.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace warren::core {

/// A data stream opened on a leg.
struct Dispatch {
  LegId leg = 0;  ///< 0: no leg was left to try
  sdk::ByteStreamPtr stream;
  bool expects_reply = false;  ///< the leg's connector sends a StreamReply first
  /// Bytes that go out on `stream` before any other (its encoded
  /// StreamHeader), in one write with the kept bytes and the client bytes
  /// already waiting. Empty when the header is written already.
  std::vector<std::uint8_t> prefix;
};
using DispatchHandler = std::function<void(sdk::error_code, Dispatch)>;

struct ReplayHooks {
  /// Opens a stream on a leg not in `tried`; completes with the error and
  /// the leg when that fails, with leg 0 when no leg is left.
  std::function<void(const std::set<LegId>& tried, DispatchHandler)> reopen;
  /// The stream on `from` died unanswered (`why`): `attempt` starts now.
  std::function<void(LegId from, sdk::error_code why, unsigned attempt)> replaying;
  /// The connector refused the stream.
  std::function<void(sdk::errc)> refused;
  /// No attempt left: the splice must end now (the client is reset).
  std::function<void(sdk::error_code)> gave_up;
};

class ReplayCore;
struct ParkedCores;

class ReplayableStream final : public sdk::ByteStream {
 public:
  ReplayableStream(executor_type executor, ReplayLimits limits, sdk::TimePoint now, ReplayHooks hooks);
  ~ReplayableStream() override;
  ReplayableStream(const ReplayableStream&) = delete;
  ReplayableStream& operator=(const ReplayableStream&) = delete;

  /// The state the edge keeps a weak handle to (see ReplayHandle).
  std::shared_ptr<ReplayCore> core() const { return core_; }

  executor_type get_executor() override;
  void shutdown_send() override;
  void abort() override;

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) override;
  void async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) override;

  std::shared_ptr<ReplayCore> core_;
};

/// What the edge may do with a forwarded stream it holds weakly.
class ReplayCore : public std::enable_shared_from_this<ReplayCore> {
 public:
  ReplayCore(sdk::ByteStream::executor_type executor, ReplayLimits limits, sdk::TimePoint now, ReplayHooks hooks);
  ~ReplayCore();
  ReplayCore(const ReplayCore&) = delete;
  ReplayCore& operator=(const ReplayCore&) = delete;

  /// The result of opening the first stream (or of a reopen).
  void dispatched(sdk::error_code ec, Dispatch dispatch);
  /// True while the stream on `leg` has not answered: losing `leg` replays it.
  bool waiting_on(LegId leg) const;
  /// True once the stream on `leg` carries the connection for good.
  bool accepted_on(LegId leg) const;
  /// `leg` ended: if this stream was waiting on it, replay it elsewhere now.
  void leg_lost(LegId leg);
  const ReplayState& state() const { return state_; }

 private:
  friend class ReplayableStream;
  friend struct ParkedCores;

  void read(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler);
  void write(boost::asio::const_buffer buffer, sdk::WriteHandler handler);
  void shutdown_send();
  void abort();
  void close();
  /// The executor's context shut down: the splice's handlers kept here are
  /// destroyed, as Asio destroys those of its own pending operations.
  void drop_handlers();

  void issue_read();
  void try_write();
  void on_read(std::uint64_t generation, sdk::error_code ec, std::size_t n);
  void on_write(std::uint64_t generation, sdk::error_code ec, std::size_t n);
  void failed(sdk::error_code why);
  void replay_elsewhere(sdk::error_code why);
  void resume();
  void give_up(sdk::error_code why);
  void complete_read(sdk::error_code ec, std::size_t n);
  void complete_write(sdk::error_code ec, std::size_t n);

  sdk::ByteStream::executor_type executor_;
  /// Each handler kept below owns the splice, which owns the ReplayableStream
  /// that owns this core: a cycle only completing the handler breaks. These
  /// are the cores to break it for when the io_context shuts down with the
  /// splice still running (an edge stopped with a connection unanswered).
  std::shared_ptr<ParkedCores> parked_;
  ReplayState state_;
  ReplayHooks hooks_;
  sdk::ByteStreamPtr inner_;
  std::uint64_t generation_ = 0;  ///< bumped whenever inner_ is dropped: older completions are ignored
  std::optional<protocol::StreamReplyDecoder> decoder_;
  // The splice's pending operations while they are ours to complete.
  boost::asio::mutable_buffer read_buffer_;
  std::optional<sdk::ReadHandler> read_handler_;
  boost::asio::const_buffer write_buffer_;
  std::optional<sdk::WriteHandler> write_handler_;
  std::size_t write_kept_ = 0;  ///< bytes of the pending write already kept (and sent)
  bool inner_reading_ = false;
  bool inner_writing_ = false;
  bool client_fin_ = false;
  bool aborted_ = false;
};

}  // namespace warren::core
