#pragma once
// The application's handle on one HTTP/2 stream. The bytes and handlers
// live in StreamState; the connection does the work.

#include "http2_connection.hpp"

#include <warren/sdk/byte_stream.hpp>

namespace warren::http2 {

class Http2Stream final : public sdk::ByteStream {
 public:
  Http2Stream(Http2Connection::Ptr connection, std::shared_ptr<StreamState> state)
      : connection_(std::move(connection)), state_(std::move(state)) {}
  /// After shutdown_send() the data already written and END_STREAM still go
  /// out (what arrives is dropped); otherwise the stream is reset.
  ~Http2Stream() override { connection_->release(state_); }

  executor_type get_executor() override { return connection_->get_executor(); }
  void shutdown_send() override { connection_->shutdown_send(state_); }
  void abort() override { connection_->abort(state_); }

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) override {
    connection_->read(state_, buffer, std::move(handler));
  }
  void async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) override {
    connection_->write(state_, buffer, std::move(handler));
  }

  Http2Connection::Ptr connection_;
  std::shared_ptr<StreamState> state_;
};

}  // namespace warren::http2
