#pragma once
// One tcptls connection: a control TLS connection (pings, "open a stream
// for me", goodbye) and one more TLS connection per stream, each opened by
// the connector and tied to the connection by a 16-byte token the edge
// gave out. The sdk::ConnectionHandle / sdk::StreamHandle templates give
// core its handles on this engine.
//
// Wire (after each TLS handshake, connector to edge, 17 bytes):
//   'C' + idle + 12 zeros the control connection (idle: the dialer's idle
//                         timeout, ms, 4 bytes big-endian); the edge answers the token
//   'S' + token           a stream the connector opens; the edge answers 'K'
//   'R' + token           a stream the edge asked for with 'O'; answered 'K'
// Control bytes after that: 'P' ping, 'p' pong, 'O' open one for me, 'Q' goodbye, 'I' goodbye: idle timeout.

#include "tls_socket.hpp"

#include <warren/sdk/log.hpp>
#include <warren/sdk/time.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tcptls {

using Token = std::array<std::uint8_t, 16>;

/// What one stream keeps: its socket and its one pending read and write.
struct StreamState {
  std::shared_ptr<TlsSocket> tls;
  sdk::ReadHandler read;
  sdk::WriteHandler write;
  bool shut = false;  ///< shutdown_send() was called
};

/// What a connection is told: the SDK's options and the plugin's keys.
struct Timing {
  sdk::Duration handshake_timeout{};
  sdk::Duration idle_timeout{};
  sdk::Duration keepalive{};  ///< the connector's pings; zero on the edge
  bool nodelay = true;
  int socket_buffer = 0;  ///< SO_SNDBUF and SO_RCVBUF, bytes; zero: the kernel's autotuning
};

/// Sets `timing.socket_buffer` on a socket before it connects or listens
/// (a receive buffer set later is not the window TCP advertised).
template <typename Socket>
void bound_buffers(Socket& socket, const Timing& timing, sdk::error_code& ec) {
  if (timing.socket_buffer <= 0) return;
  socket.set_option(boost::asio::socket_base::send_buffer_size(timing.socket_buffer), ec);
  if (!ec) socket.set_option(boost::asio::socket_base::receive_buffer_size(timing.socket_buffer), ec);
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Ptr = std::shared_ptr<Connection>;
  using Ready = std::function<void(const sdk::error_code&)>;

  /// The connector's end, not yet dialed.
  static Ptr dialer(boost::asio::any_io_executor executor, tcp::endpoint peer,
                    std::shared_ptr<sdk::tls::Credentials> credentials, sdk::EdgeVerification verify,
                    std::string server_name, Timing timing, sdk::Logger& logger);
  /// The edge's end of a control connection that said hello; `forget` is
  /// called once when it ends (the listener drops its token).
  static Ptr accepted(std::shared_ptr<TlsSocket> control, Token token, Timing timing, sdk::Logger& logger,
                      std::function<void()> forget);

  /// Connects, handshakes and says hello; `ready` once (handshake_timeout,
  /// dial_failed, certificate_mismatch, tls_failed, or operation_aborted by close()).
  void dial(Ready ready);
  /// Starts the control loop and timers of an established connection.
  void start();
  /// A stream connection for this token arrived at the edge ('S' or 'R').
  void adopt_stream(std::shared_ptr<TlsSocket> tls, char kind);

  // What sdk::ConnectionHandle needs.
  boost::asio::any_io_executor get_executor() const { return executor_; }
  void open_stream(sdk::StreamHandler handler);
  void accept_stream(sdk::StreamHandler handler);
  void close(const sdk::error_code& reason);
  std::string remote_address() const { return remote_; }
  sdk::ConnectionStats stats() const;

  // What sdk::StreamHandle needs.
  void read(const std::shared_ptr<StreamState>& s, boost::asio::mutable_buffer buffer, sdk::ReadHandler handler);
  void write(const std::shared_ptr<StreamState>& s, boost::asio::const_buffer buffer, sdk::WriteHandler handler);
  void shutdown_send(const std::shared_ptr<StreamState>& s);
  void abort(const std::shared_ptr<StreamState>& s);
  void release(const std::shared_ptr<StreamState>& s);

 private:
  Connection(boost::asio::any_io_executor executor, Timing timing, sdk::Logger& logger);
  void finish_dial(const sdk::error_code& ec);
  void dial_stream(char kind, std::function<void(sdk::error_code, std::shared_ptr<StreamState>)> done);
  std::shared_ptr<StreamState> track(std::shared_ptr<TlsSocket> tls);
  sdk::ByteStreamPtr handle(std::shared_ptr<StreamState> state);
  void deliver_accepted(std::shared_ptr<StreamState> state);
  void read_control();
  void on_control(char byte);
  void send_control(char byte);
  void flush_control();
  void arm_idle();
  void arm_keepalive();
  void end(const sdk::error_code& reason, bool tell_peer);

  boost::asio::any_io_executor executor_;
  Timing timing_;
  sdk::Logger& logger_;
  bool dialer_ = false;
  tcp::endpoint peer_;
  std::shared_ptr<sdk::tls::Credentials> credentials_;
  sdk::EdgeVerification verify_;
  std::string server_name_;
  std::string remote_;
  std::shared_ptr<tcp::socket> connecting_;
  Token token_{};
  std::shared_ptr<TlsSocket> control_;
  Ready ready_;
  std::function<void()> forget_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer keepalive_timer_;
  sdk::Clock::time_point last_heard_{};
  std::array<char, 64> control_in_{};
  std::string control_out_;
  bool control_writing_ = false;
  bool close_after_flush_ = false;
  sdk::error_code ended_;
  bool established_ = false;
  std::vector<std::weak_ptr<StreamState>> streams_;
  std::deque<std::shared_ptr<StreamState>> accepted_;
  sdk::StreamHandler accept_waiting_;
  std::deque<std::shared_ptr<sdk::StreamHandler>> opens_waiting_;  ///< the edge's asks, oldest first
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
};

}  // namespace tcptls
