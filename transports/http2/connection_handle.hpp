#pragma once
// The application's handle on an established HTTP/2 connection.

#include "http2_connection.hpp"

#include <warren/sdk/transport.hpp>

namespace warren::http2 {

class ConnectionHandle final : public sdk::Connection {
 public:
  explicit ConnectionHandle(Http2Connection::Ptr connection) : connection_(std::move(connection)) {}
  /// Closes the connection (GOAWAY to the peer); streams still held fail
  /// their pending operations with operation_aborted.
  ~ConnectionHandle() override { connection_->close(boost::asio::error::operation_aborted); }

  executor_type get_executor() override { return connection_->get_executor(); }
  void close(sdk::error_code reason) override { connection_->close(reason); }
  std::string remote_address() const override { return connection_->remote_address(); }
  sdk::ConnectionStats stats() const override { return connection_->stats(); }

 private:
  void async_open_stream_impl(sdk::StreamHandler handler) override { connection_->open_stream(std::move(handler)); }
  void async_accept_stream_impl(sdk::StreamHandler handler) override { connection_->accept_stream(std::move(handler)); }

  Http2Connection::Ptr connection_;
};

}  // namespace warren::http2
