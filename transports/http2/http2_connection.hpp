#pragma once
// One HTTP/2 connection over TLS over TCP, either side. The edge (TLS
// server) is the HTTP/2 client: it opens a stream per public connection
// with a plain request, natively. The connector (TLS client, HTTP/2 server)
// opens streams by claiming one of the "reverse" streams the edge keeps open
// ahead for it (settings.reverse_streams): it answers the request, and the
// edge's side accepts the stream when the answer arrives. Every stream is
// an RFC 9113 §8.5 CONNECT tunnel: END_STREAM is half-close, RST_STREAM abort.
//
// All work happens on the loop's thread; nghttp2 callbacks only change
// state and post completions (completion.hpp).

#include "http2_settings.hpp"
#include "stream_state.hpp"
#include "tls_channel.hpp"

#include <warren/sdk/log.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nghttp2/nghttp2.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace warren::http2 {

using tcp = boost::asio::ip::tcp;

struct ConnectionLimits {
  Http2Settings settings;
  sdk::Duration idle_timeout{};       ///< zero: none
  sdk::Duration handshake_timeout{};  ///< TCP connect + TLS
  sdk::Duration keepalive{};          ///< PING after this much silence; zero: none
};

class Http2Connection : public std::enable_shared_from_this<Http2Connection> {
 public:
  using Ptr = std::shared_ptr<Http2Connection>;
  /// Called once: success when the handshake completed (the connection is
  /// ready), else why not.
  using Ready = std::function<void(const sdk::error_code&)>;

  /// The connector's side; start with dial().
  static Ptr client(boost::asio::any_io_executor executor, std::unique_ptr<TlsChannel> tls,
                    const ConnectionLimits& limits, sdk::Logger& logger);
  /// The edge's side, on an accepted socket; start with handshake().
  static Ptr server(tcp::socket socket, std::unique_ptr<TlsChannel> tls, const ConnectionLimits& limits,
                    sdk::Logger& logger);
  ~Http2Connection();
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  void dial(const tcp::endpoint& peer, Ready ready);
  void handshake(Ready ready);

  boost::asio::any_io_executor get_executor() const { return executor_; }
  std::string remote_address() const { return remote_; }
  sdk::ConnectionStats stats() const;
  /// Ends the connection, telling the peer (GOAWAY). Local operations fail with `reason`.
  void close(const sdk::error_code& reason);

  void open_stream(sdk::StreamHandler handler);
  void accept_stream(sdk::StreamHandler handler);

  // Stream operations, called by sdk::StreamHandle.
  void read(const std::shared_ptr<StreamState>& stream, boost::asio::mutable_buffer buffer, sdk::ReadHandler handler);
  void write(const std::shared_ptr<StreamState>& stream, boost::asio::const_buffer buffer, sdk::WriteHandler handler);
  void shutdown_send(const std::shared_ptr<StreamState>& stream);
  void abort(const std::shared_ptr<StreamState>& stream);
  void release(const std::shared_ptr<StreamState>& stream);

  // nghttp2's callbacks (h2_session_callbacks.cpp), public for the C trampolines.
  int on_begin_headers(std::int32_t stream_id);
  int on_header(std::int32_t stream_id, std::string_view name, std::string_view value);
  int on_frame_recv(const nghttp2_frame& frame);
  int on_data(std::int32_t stream_id, const std::uint8_t* data, std::size_t size);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  ssize_t read_source(StreamState& stream, std::uint8_t* buffer, std::size_t size, std::uint32_t* flags);
  static ssize_t read_source_trampoline(nghttp2_session* session, std::int32_t stream_id, std::uint8_t* buffer,
                                        std::size_t size, std::uint32_t* flags, nghttp2_data_source* source,
                                        void* user_data);

 private:
  Http2Connection(boost::asio::any_io_executor executor, tcp::socket socket, std::unique_ptr<TlsChannel> tls,
                  const ConnectionLimits& limits, sdk::Logger& logger, bool h2_client);

  // The session and its settings (h2_session_callbacks.cpp).
  bool start_session();

  // I/O (http2_connection.cpp).
  void start_handshake_timer();
  void configure_socket();
  void drive_handshake();
  void finish_handshake(const sdk::error_code& result);
  void start_read();
  void on_read(const sdk::error_code& ec, std::size_t n);
  void process_plaintext();
  void pump_session();
  void flush();
  void start_write();
  void fail(const sdk::error_code& reason, std::uint32_t goaway_code);
  void finish_close();
  void arm_idle_timer();
  void arm_keepalive_timer();

  // Streams (http2_connection_streams.cpp).
  std::shared_ptr<StreamState> add_stream(std::int32_t id);
  sdk::ByteStreamPtr adopt(const std::shared_ptr<StreamState>& stream);
  std::shared_ptr<StreamState> submit_request(bool reverse);
  void claim_reverse(sdk::StreamHandler handler);
  void top_up_reverse();
  void deliver_accept(std::shared_ptr<StreamState> stream);
  void serve_read(StreamState& stream);
  void serve_write(StreamState& stream);
  void resume(StreamState& stream);
  void fail_streams(const sdk::error_code& reason);

  boost::asio::any_io_executor executor_;
  tcp::socket socket_;
  std::unique_ptr<TlsChannel> tls_;
  ConnectionLimits limits_;
  sdk::Logger& logger_;
  const bool h2_client_;  ///< the edge's side
  std::string remote_;
  nghttp2_session* session_ = nullptr;

  Ready ready_;
  bool established_ = false;
  bool closing_ = false;  ///< GOAWAY queued; the socket closes once it is out
  sdk::error_code failure_;
  std::optional<sdk::error_code> remote_goaway_;  ///< set by a GOAWAY; acted on after nghttp2 returns
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer keepalive_timer_;
  std::chrono::steady_clock::time_point last_received_;

  std::vector<std::uint8_t> read_buffer_;
  std::vector<std::uint8_t> plain_;
  std::vector<std::uint8_t> writing_;
  bool write_pending_ = false;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;

  std::unordered_map<std::int32_t, std::shared_ptr<StreamState>> streams_;
  std::deque<std::shared_ptr<StreamState>> ready_streams_;  ///< peer streams waiting for accept
  sdk::StreamHandler accept_handler_;
  // Connector's side: reverse streams open and unclaimed, and opens waiting for one.
  std::deque<std::int32_t> idle_reverse_;
  std::deque<sdk::StreamHandler> open_waiters_;
  // Edge's side: reverse streams submitted and not claimed yet.
  std::uint32_t reverse_outstanding_ = 0;
};

}  // namespace warren::http2
