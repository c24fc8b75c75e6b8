#pragma once
// Two connected ByteStreams over a unix socket pair: a real kernel stream
// with backpressure and half-close, and no ports.

#include "time_scale.hpp"

#include <warren/sdk/socket_stream.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <utility>

namespace warren::test {

using UnixStream = sdk::SocketStream<boost::asio::local::stream_protocol::socket>;

inline std::pair<std::unique_ptr<UnixStream>, std::unique_ptr<UnixStream>> stream_pair(boost::asio::io_context& io) {
  boost::asio::local::stream_protocol::socket a(io), b(io);
  boost::asio::local::connect_pair(a, b);
  return {std::make_unique<UnixStream>(std::move(a)), std::make_unique<UnixStream>(std::move(b))};
}

using TcpStream = sdk::SocketStream<boost::asio::ip::tcp::socket>;

/// Two connected ByteStreams over loopback TCP: for what unix sockets lack (RST).
inline std::pair<std::unique_ptr<TcpStream>, std::unique_ptr<TcpStream>> tcp_pair(boost::asio::io_context& io) {
  using boost::asio::ip::tcp;
  tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket a(io), b(io);
  a.connect(acceptor.local_endpoint());
  acceptor.accept(b);
  return {std::make_unique<TcpStream>(std::move(a)), std::make_unique<TcpStream>(std::move(b))};
}

/// Runs `io` until `done()` or a 10 s deadline (scaled: time_scale.hpp); false on the deadline.
template <typename Done>
bool run_until(boost::asio::io_context& io, Done done) {
  io.restart();
  auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(10));
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(50));
  return done();
}

}  // namespace warren::test
