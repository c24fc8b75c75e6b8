#pragma once
// A TCP connection as an sdk::ByteStream.

#include <warren/sdk/byte_stream.hpp>

#include <boost/asio/ip/tcp.hpp>

namespace warren::tcp {

class TcpStream final : public sdk::ByteStream {
 public:
  explicit TcpStream(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  ~TcpStream() override;

  executor_type get_executor() override { return socket_.get_executor(); }
  void shutdown_send() override;
  void abort() override;

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) override;
  void async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) override;

  boost::asio::ip::tcp::socket socket_;
};

}  // namespace warren::tcp
