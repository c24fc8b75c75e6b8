#pragma once
// One QUIC connection: owns the ngtcp2_conn, its TLS session and its timer.
// Fed datagrams by the UdpEndpoint and driven by ngtcp2's expiry; the
// application reaches it through sdk::ConnectionHandle and sdk::StreamHandle.
//
// Lifetime: shared. The application's handles hold it; a connection still
// in its handshake holds itself until the handshake ends, then hands that
// reference to the posted completion that tells the outcome (destroyed with
// the io_context if the loop never runs it). Other asynchronous work (timer,
// posted flushes) holds it weakly, so nothing keeps a connection alive that
// nobody can use.

#include "datagram_queue.hpp"
#include "peer_reachability.hpp"
#include "quic_settings.hpp"
#include "send_scheduler.hpp"
#include "stateless_reset.hpp"
#include "stream_state.hpp"
#include "tls_session.hpp"
#include "udp_endpoint.hpp"

#include <warren/sdk/log.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/asio/steady_timer.hpp>

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace warren::quic {

/// Per-connection timing, from DialOptions or ListenOptions.
struct ConnectionLimits {
  QuicSettings settings;
  sdk::Duration idle_timeout{};
  sdk::Duration handshake_timeout{};
  sdk::Duration keepalive{};  ///< zero: no PINGs of our own
};

/// What the listener learned from a client's first Initial packet.
struct AcceptedInitial {
  ngtcp2_pkt_hd header;  ///< that packet's header; `token` points into the datagram
  /// Set when the packet carried a valid Retry token: the client's DCID
  /// before our Retry, which the token sealed. The address is then validated.
  std::optional<ngtcp2_cid> original_dcid;
};

/// Bytes a server connection exchanged before its handshake completed (all
/// of them while it has not): what the anti-amplification limit governs.
struct HandshakeTraffic {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
};

class QuicConnection final : public PacketSink, public std::enable_shared_from_this<QuicConnection> {
 public:
  using Ptr = std::shared_ptr<QuicConnection>;
  /// Told once how the handshake ended: success or the reason it failed.
  using HandshakeDone = std::function<void(const sdk::error_code&)>;

  /// A client connection to `remote`; null with `why` set on failure.
  static Ptr dial(std::shared_ptr<UdpEndpoint> endpoint, const udp::endpoint& remote, const PeerCheck& check,
                  const ConnectionLimits& limits, sdk::Logger& logger, std::string& why);
  /// A server connection for a client's first Initial packet `initial`;
  /// the connection IDs it issues carry tokens derived from `reset`.
  static Ptr accept(std::shared_ptr<UdpEndpoint> endpoint, const udp::endpoint& remote, const AcceptedInitial& initial,
                    std::shared_ptr<ServerCredentials> credentials, StatelessReset::Ptr reset,
                    const ConnectionLimits& limits, sdk::Logger& logger, std::string& why);
  ~QuicConnection() override;
  QuicConnection(const QuicConnection&) = delete;
  QuicConnection& operator=(const QuicConnection&) = delete;

  /// Registers its connection IDs and, for a client, sends the first flight.
  /// `done` is called (posted) once the handshake ends either way.
  void start(HandshakeDone done);

  // PacketSink
  void on_datagram(const udp::endpoint& from, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now) override;
  void end_of_batch() override {
    complete_filled_reads();
    flush();
  }
  void on_unreachable(ngtcp2_tstamp now) override;
  /// Its io_context shuts down: every handler it keeps is destroyed unrun
  /// (live_connections.hpp says why).
  void drop_handlers();

  // What sdk::Connection offers, for sdk::ConnectionHandle.
  boost::asio::any_io_executor get_executor() const { return executor_; }
  void open_stream(sdk::StreamHandler handler);
  void accept_stream(sdk::StreamHandler handler);
  /// Closes at once, telling the peer; everything pending fails with
  /// operation_aborted.
  void close(sdk::error_code reason);
  std::string remote_address() const;
  sdk::ConnectionStats stats() const;
  // Datagrams (quic_connection_datagrams.cpp), as sdk::Connection's.
  std::size_t max_datagram_size() const;
  bool send_datagram(std::span<const std::byte> payload);
  void receive_datagram(sdk::DatagramHandler handler);
  /// Server side: the client proved its address with a Retry token.
  bool address_validated() const { return address_validated_; }
  HandshakeTraffic handshake_traffic() const;

  // What sdk::ByteStream offers, for sdk::StreamHandle.
  void read(const std::shared_ptr<StreamState>& stream, boost::asio::mutable_buffer buffer, sdk::ReadHandler handler);
  void write(const std::shared_ptr<StreamState>& stream, boost::asio::const_buffer buffer, sdk::WriteHandler handler);
  void shutdown_send(const std::shared_ptr<StreamState>& stream);
  void abort(const std::shared_ptr<StreamState>& stream);
  /// The handle is gone: abort, except that a half-closed send side still
  /// delivers what was written before shutdown_send().
  void release(const std::shared_ptr<StreamState>& stream);

  // ngtcp2 callbacks (see quic_connection_callbacks.cpp); 0 or an ngtcp2 error.
  ngtcp2_conn* native() const { return conn_; }
  int on_handshake_completed();
  int on_stream_open(std::int64_t id);
  int on_recv_stream_data(std::uint32_t flags, std::int64_t id, const std::uint8_t* data, std::size_t len,
                          StreamState* stream);
  int on_acked_stream_data(std::uint64_t offset, std::uint64_t len, StreamState* stream);
  int on_stream_close(std::int64_t id, StreamState* stream);
  int on_stream_reset(StreamState* stream);
  int on_stream_stop_sending(StreamState* stream);
  int on_extend_max_local_streams();
  int on_extend_max_stream_data(std::int64_t id);
  int on_new_connection_id(ngtcp2_cid* cid, std::uint8_t* token, std::size_t cidlen);
  int on_remove_connection_id(const ngtcp2_cid* cid);
  /// Client: the edge's token for a connection ID we start or stop using.
  int on_dcid_status(int type, const std::uint8_t* token);
  int on_recv_datagram(const std::uint8_t* data, std::size_t len);
  /// ngtcp2 validated a stateless reset: the peer has lost this connection.
  int on_stateless_reset();

 private:
  QuicConnection(std::shared_ptr<UdpEndpoint> endpoint, const udp::endpoint& remote, const ConnectionLimits& limits,
                 sdk::Logger& logger, bool server);
  bool create_native(const ngtcp2_cid& dcid, const ngtcp2_cid& scid, const AcceptedInitial* initial, std::string& why);

  // Packets and time (quic_connection.cpp, quic_connection_send.cpp).
  /// Bytes a packet may take now (a buffer ngtcp2 may pad to the end).
  std::size_t packet_room() const;
  void flush();
  /// One pass of writing packets; false if the connection failed.
  bool write_packets();
  /// ngtcp2_conn_handle_expiry; false if that ended the connection.
  bool handle_expiry(ngtcp2_tstamp now);
  void schedule_flush();
  void arm_timer();
  void on_timer();
  /// Fails the connection if ICMP reports convicted the peer (PeerReachability).
  bool check_reachability(ngtcp2_tstamp now);
  /// A write ngtcp2 refused with `error`: sends what the batch holds and fails the connection.
  void fail_write(PacketBatch& batch, ngtcp2_ssize error);
  void account_sent(StreamState& stream, ngtcp2_ssize taken, std::size_t offered, bool fin_offered);
  /// Offers the first queued datagram to the packet being built
  /// (quic_connection_datagrams.cpp): ngtcp2's result, as writev_datagram's,
  /// or nullopt having dropped one that cannot fit (nothing was written);
  /// `accepted` says if it went in.
  std::optional<ngtcp2_ssize> write_datagram(ngtcp2_path* path, ngtcp2_pkt_info* info, std::uint8_t* packet, std::size_t room,
                              ngtcp2_tstamp now, bool& accepted);
  /// The connection ended: a pending datagram receive completes with `reason`.
  void fail_datagrams(sdk::error_code reason);
  void log_handshake_failure(const std::string& line);
  /// A dial whose Initial the local host refused to send (`error`:
  /// EPERM/EACCES, a firewall drop on output) or that heard nothing back
  /// (`error` 0) fails with errc::quic_broken: UDP looks blocked.
  void fail_blocked(int error);
  /// Any datagram of this connection came back from the peer (a client that
  /// heard nothing before its handshake timed out suspects UDP is blocked).
  bool heard_from_peer() const { return bytes_received_ > 0; }
  void handle_read_error(int rv);
  void fail(sdk::error_code reason, const ngtcp2_connection_close_error* close_error);
  /// Sends CONNECTION_CLOSE; returns the packet (empty if none was due).
  std::vector<std::uint8_t> send_connection_close(const ngtcp2_connection_close_error& close_error);
  /// Posts notify_handshake, handing it the handshake's self-reference.
  void post_handshake_done();
  void notify_handshake();

  // Streams (quic_connection_streams.cpp).
  std::shared_ptr<StreamState> add_stream(std::int64_t id);
  void try_open_streams();
  void enqueue(const std::shared_ptr<StreamState>& stream);
  void consume(StreamState& stream, std::size_t n);
  void give_stream_credit(StreamState& stream, std::size_t n);
  /// The application now holds `stream`: its buffered bytes stop counting
  /// against the connection window.
  void adopt(StreamState& stream);
  void return_connection_credit(StreamState& stream);
  void discard_received(StreamState& stream);
  void return_stream_credit(StreamState& stream);
  void fail_streams(sdk::error_code reason);
  /// Completes every read that datagrams of this batch filled (in part).
  void complete_filled_reads();
  /// Completes the pending read: with the bytes it holds, if any, else `ec`.
  void complete_read(StreamState& stream, sdk::error_code ec);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<UdpEndpoint> endpoint_;
  udp::endpoint remote_;
  ConnectionLimits limits_;
  sdk::Logger& logger_;
  bool server_;

  ngtcp2_conn* conn_ = nullptr;
  std::unique_ptr<TlsSession> tls_;
  ngtcp2_cid original_dcid_{};  ///< server: the client's first DCID, routed until the handshake ends
  boost::asio::steady_timer timer_;
  ngtcp2_tstamp armed_expiry_ = 0;  ///< the timer's deadline, while timer_armed_
  bool timer_armed_ = false;
  bool flush_scheduled_ = false;

  Ptr handshake_owner_;  ///< self-reference held while the handshake runs
  HandshakeDone handshake_done_;
  bool handshake_completed_ = false;
  bool failed_ = false;
  sdk::error_code reason_;            ///< why the connection ended
  sdk::error_code callback_failure_;  ///< set by a callback that refused something

  std::unordered_map<std::int64_t, std::shared_ptr<StreamState>> streams_;
  SendScheduler send_queue_;  ///< streams with bytes or a FIN to send: control and short writes first
  std::deque<std::shared_ptr<StreamState>> accept_queue_;
  std::vector<std::shared_ptr<StreamState>> filled_reads_;  ///< reads to complete at end_of_batch
  sdk::StreamHandler accept_handler_;
  std::deque<sdk::StreamHandler> open_handlers_;

  // Datagrams: bounded both ways (quic_connection_datagrams.cpp says why these bounds).
  DatagramQueue datagrams_out_;
  DatagramQueue datagrams_in_;
  sdk::DatagramHandler datagram_handler_;
  std::uint64_t datagrams_sent_ = 0;
  std::uint64_t datagrams_received_ = 0;
  std::uint64_t datagrams_dropped_ = 0;

  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
  bool address_validated_ = false;
  PeerReachability reachability_;
  StatelessReset::Ptr reset_secret_;  ///< server: derives the tokens of the IDs we issue
  std::vector<std::array<std::uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN>> reset_tokens_;  ///< client: registered with endpoint_
  bool reset_by_peer_ = false;
  std::optional<HandshakeTraffic> traffic_at_handshake_;  ///< taken when the handshake completed
};

}  // namespace warren::quic
