#pragma once
// The application's handle on an established QUIC connection.

#include "quic_connection.hpp"

#include <warren/sdk/transport.hpp>

namespace warren::quic {

class ConnectionHandle final : public sdk::Connection {
 public:
  explicit ConnectionHandle(QuicConnection::Ptr connection) : connection_(std::move(connection)) {}
  /// Closes the connection (CONNECTION_CLOSE to the peer); streams still
  /// held fail their pending operations with operation_aborted.
  ~ConnectionHandle() override;

  executor_type get_executor() override { return connection_->get_executor(); }
  void close(sdk::error_code reason) override { connection_->close(reason); }
  std::string remote_address() const override { return connection_->remote_address(); }
  sdk::ConnectionStats stats() const override { return connection_->stats(); }

 private:
  void async_open_stream_impl(sdk::StreamHandler handler) override { connection_->open_stream(std::move(handler)); }
  void async_accept_stream_impl(sdk::StreamHandler handler) override { connection_->accept_stream(std::move(handler)); }

  QuicConnection::Ptr connection_;
};

}  // namespace warren::quic
