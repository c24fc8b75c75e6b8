#pragma once
// The application's handles on a transport's own connection and stream
// objects, for transport authors. A transport keeps its protocol state in an
// engine object shared by everything that uses it (timers, the socket's
// receive loop, the handles); the handles core holds only forward to it.
// QUIC and HTTP/2 both use these; a new Asio transport only writes the engine.
//
// Engine, the connection side (a class held by std::shared_ptr):
//   any_io_executor get_executor() const;        the loop's executor
//   void open_stream(StreamHandler);              completes as Connection::async_open_stream
//   void accept_stream(StreamHandler);            completes as Connection::async_accept_stream
//   void close(const error_code& reason);         idempotent; tells the peer `reason`
//   std::string remote_address() const;           "address:port" (sdk::format_host_port)
//   ConnectionStats stats() const;
// and, for an engine with datagrams (ABI 1.4; without them the handle keeps
// Connection's defaults):
//   std::size_t max_datagram_size() const;        as Connection::max_datagram_size
//   bool send_datagram(std::span<const std::byte>);  as Connection::send_datagram
//   void receive_datagram(DatagramHandler);       completes as Connection::async_receive_datagram
// and the stream side, for each stream's `State` (whatever the engine keeps per stream):
//   void read(const std::shared_ptr<State>&, mutable_buffer, ReadHandler);
//   void write(const std::shared_ptr<State>&, const_buffer, WriteHandler);
//   void shutdown_send(const std::shared_ptr<State>&);
//   void abort(const std::shared_ptr<State>&);
//   void release(const std::shared_ptr<State>&);  the handle is gone (see ~StreamHandle)
// Every one of these follows the async contract of transport.hpp: handlers
// complete later, through post (completion.hpp), never inside the call.

#include <warren/sdk/byte_stream.hpp>
#include <warren/sdk/transport.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace warren::sdk {

/// An established connection as core sees it. Owns one reference to the
/// engine; the engine lives on while its streams or timers still need it.
template <typename Engine>
class ConnectionHandle final : public Connection {
 public:
  /// `destroy_reason` is what close() tells the peer when core destroys the
  /// handle without closing first (QUIC: no error, a plain CONNECTION_CLOSE;
  /// HTTP/2: operation_aborted, a GOAWAY with CANCEL).
  explicit ConnectionHandle(std::shared_ptr<Engine> engine, error_code destroy_reason = {})
      : engine_(std::move(engine)), destroy_reason_(destroy_reason) {}
  /// Closes the connection; streams still held fail their pending
  /// operations with boost::asio::error::operation_aborted.
  ~ConnectionHandle() override { engine_->close(destroy_reason_); }
  ConnectionHandle(const ConnectionHandle&) = delete;
  ConnectionHandle& operator=(const ConnectionHandle&) = delete;

  executor_type get_executor() override { return engine_->get_executor(); }
  void close(error_code reason) override { engine_->close(reason); }
  std::string remote_address() const override { return engine_->remote_address(); }
  ConnectionStats stats() const override { return engine_->stats(); }
  std::size_t max_datagram_size() const override {
    if constexpr (has_datagrams)
      return engine_->max_datagram_size();
    else
      return 0;
  }
  bool send_datagram(std::span<const std::byte> payload) override {
    if constexpr (has_datagrams) {
      return engine_->send_datagram(payload);
    } else {
      (void)payload;
      return false;
    }
  }

 private:
  static constexpr bool has_datagrams = requires(Engine& e, std::span<const std::byte> p, DatagramHandler h) {
    e.max_datagram_size();
    e.send_datagram(p);
    e.receive_datagram(std::move(h));
  };

  void async_open_stream_impl(StreamHandler handler) override { engine_->open_stream(std::move(handler)); }
  void async_accept_stream_impl(StreamHandler handler) override { engine_->accept_stream(std::move(handler)); }
  void async_receive_datagram_impl(DatagramHandler handler) override {
    // Without datagrams, Connection's default: the handler is dropped unrun.
    if constexpr (has_datagrams)
      engine_->receive_datagram(std::move(handler));
    else
      (void)handler;
  }

  std::shared_ptr<Engine> engine_;
  error_code destroy_reason_;
};

/// One stream as core sees it: the engine and the engine's state for this
/// stream (bytes, flags, the pending read and write handlers).
template <typename Engine, typename State>
class StreamHandle final : public ByteStream {
 public:
  StreamHandle(std::shared_ptr<Engine> engine, std::shared_ptr<State> state)
      : engine_(std::move(engine)), state_(std::move(state)) {}
  /// Hands the stream back to the engine with release(): a direction already
  /// half-closed with shutdown_send() still delivers its data and FIN; the
  /// rest is reset (ByteStream's destructor contract).
  ~StreamHandle() override { engine_->release(state_); }
  StreamHandle(const StreamHandle&) = delete;
  StreamHandle& operator=(const StreamHandle&) = delete;

  executor_type get_executor() override { return engine_->get_executor(); }
  void shutdown_send() override { engine_->shutdown_send(state_); }
  void abort() override { engine_->abort(state_); }

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, ReadHandler handler) override {
    engine_->read(state_, buffer, std::move(handler));
  }
  void async_write_some_impl(boost::asio::const_buffer buffer, WriteHandler handler) override {
    engine_->write(state_, buffer, std::move(handler));
  }

  std::shared_ptr<Engine> engine_;
  std::shared_ptr<State> state_;
};

}  // namespace warren::sdk
