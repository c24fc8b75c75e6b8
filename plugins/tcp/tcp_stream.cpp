#include "plugins/tcp/tcp_stream.hpp"

#include <boost/asio/error.hpp>

namespace warren::tcp {
namespace {

// The SDK promises errc::stream_reset for a reset by the peer, whatever the transport.
sdk::error_code translate(sdk::error_code ec) {
  if (ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe)
    return sdk::make_error_code(sdk::errc::stream_reset);
  return ec;
}

}  // namespace

TcpStream::~TcpStream() {
  sdk::error_code ignored;
  socket_.close(ignored);
}

void TcpStream::async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) {
  socket_.async_read_some(buffer, [h = std::move(handler)](sdk::error_code ec, std::size_t n) mutable {
    std::move(h)(translate(ec), n);
  });
}

void TcpStream::async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) {
  socket_.async_write_some(buffer, [h = std::move(handler)](sdk::error_code ec, std::size_t n) mutable {
    std::move(h)(translate(ec), n);
  });
}

void TcpStream::shutdown_send() {
  sdk::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

void TcpStream::abort() {
  // Linger 0 makes close() send RST: the peer learns the stream was abandoned.
  sdk::error_code ignored;
  socket_.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

}  // namespace warren::tcp
