#pragma once
// The application's handle on one QUIC stream. The bytes and handlers live
// in StreamState; the connection does the work.

#include "quic_connection.hpp"

#include <warren/sdk/byte_stream.hpp>

namespace warren::quic {

class QuicStream final : public sdk::ByteStream {
 public:
  QuicStream(QuicConnection::Ptr connection, std::shared_ptr<StreamState> state)
      : connection_(std::move(connection)), state_(std::move(state)) {}
  /// Aborts what is unfinished: a direction already half-closed with
  /// shutdown_send() still delivers its data; others are reset.
  ~QuicStream() override;

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

  QuicConnection::Ptr connection_;
  std::shared_ptr<StreamState> state_;
};

}  // namespace warren::quic
