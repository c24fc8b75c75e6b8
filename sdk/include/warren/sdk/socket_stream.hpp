#pragma once
// An Asio stream socket (TCP, unix) as an sdk::ByteStream: what the tcp
// backend hands to core, and what the edge wraps public clients in.

#include <warren/sdk/byte_stream.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>

namespace warren::sdk {

template <typename Socket>
class SocketStream final : public ByteStream {
 public:
  explicit SocketStream(Socket socket) : socket_(std::move(socket)) {}
  ~SocketStream() override {
    error_code ignored;
    socket_.close(ignored);
  }

  executor_type get_executor() override { return socket_.get_executor(); }

  void shutdown_send() override {
    error_code ignored;
    socket_.shutdown(boost::asio::socket_base::shutdown_send, ignored);
  }

  void abort() override {
    // Linger 0 makes close() send RST: the peer learns the stream was abandoned.
    error_code ignored;
    socket_.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
  }

  Socket& socket() { return socket_; }

 private:
  // The SDK promises errc::stream_reset for a reset by the peer, whatever the transport.
  static error_code translate(error_code ec) {
    if (ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe)
      return make_error_code(errc::stream_reset);
    return ec;
  }

  void async_read_some_impl(boost::asio::mutable_buffer buffer, ReadHandler handler) override {
    socket_.async_read_some(buffer, [h = std::move(handler)](error_code ec, std::size_t n) mutable {
      std::move(h)(translate(ec), n);
    });
  }
  void async_write_some_impl(boost::asio::const_buffer buffer, WriteHandler handler) override {
    socket_.async_write_some(buffer, [h = std::move(handler)](error_code ec, std::size_t n) mutable {
      std::move(h)(translate(ec), n);
    });
  }

  Socket socket_;
};

}  // namespace warren::sdk
