#pragma once
// Transport plugins: a connection carrying many byte streams between a
// connector and an edge. One plugin gives both sides: dial (connector) and
// listen (edge). One Transport object is one endpoint: every connection it
// dials shares its socket (all legs of a connector use one UDP socket).
//
// The async contract, for every async_* here and in byte_stream.hpp:
//  - A completion never runs inside the call that started it, even when the
//    result is known at once (a refused dial, a closed connection): it is
//    posted (completion.hpp: complete_later), so callers may start an
//    operation while holding locks on their own state or inside a loop.
//  - Nor inside a protocol library's callback (ngtcp2, nghttp2, GnuTLS).
//  - Every handler runs on its associated executor (bind_executor), by
//    default the transport's: the executor in sdk::PluginContext.
//  - Threading: one io_context run by one thread, the loop's. Every call
//    into a transport object comes from that thread; objects need no locks
//    and must not run work on other threads (a plugin that must, posts the
//    result back to the loop's executor).
//  - Each handler completes exactly once. Destroying an object completes
//    its pending handlers with boost::asio::error::operation_aborted.
//  - At most one async_accept, one async_accept_stream per connection, and
//    one read plus one write per stream may be pending at once.
//
// What each error code means (sdk::errc, error.hpp; names by sdk::name):
//   dial:   dial_failed        no route, refused, unreachable: nothing answered
//                              the transport at the address (fails fast)
//           handshake_timeout  something may be there but the handshake did not
//                              finish within DialOptions::handshake_timeout
//           certificate_mismatch  the edge's certificate failed the pin or CA check
//           tls_failed         TLS failed otherwise (no common version, ALPN …)
//           config_invalid     the options cannot work (no way to verify the edge)
//           operation_aborted  the transport was destroyed during the dial
//   listen: port_in_use (or boost::asio::error::address_in_use) for a taken
//           port; config_invalid for an unusable certificate or key
//   accept (async_accept, async_accept_stream) and every pending operation
//   when a connection ends:
//           idle_timeout       nothing arrived for idle_timeout
//           peer_closed        the peer closed the connection (close(), or
//                              its process or handle went away cleanly)
//           peer_unreachable   the network said the peer is gone (ICMP)
//           protocol_error     the peer broke the protocol; the connection is closed
//           operation_aborted  this side closed or destroyed the object
//   read:   boost::asio::error::eof after the peer's shutdown_send (clean end);
//           stream_reset when the peer aborted or destroyed its stream
//   write:  stream_reset when the peer stopped reading (STOP_SENDING, RST);
//           the connection's error when the connection ended

#include <warren/sdk/byte_stream.hpp>
#include <warren/sdk/certificate_pin.hpp>
#include <warren/sdk/datagram.hpp>
#include <warren/sdk/plugin_object.hpp>
#include <warren/sdk/time.hpp>

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace warren::sdk {

using StreamHandler = boost::asio::any_completion_handler<void(error_code, ByteStreamPtr)>;

/// How the dialing side verifies the edge. Exactly one way is chosen; core
/// fills it from the tunnel's edge_fingerprint / edge_ca / insecure keys. With
/// none of them the transport refuses the dial with errc::config_invalid
/// (pending_dials.hpp: check_edge_verification).
struct EdgeVerification {
  std::optional<CertificatePin> pin_sha256;  ///< SHA-256 of the edge's DER leaf certificate
  std::string ca_file;                                     ///< PEM bundle of trusted CAs
  bool insecure = false;                                   ///< accept any certificate (loudly)
  /// More pins the leaf may match instead of pin_sha256 (ABI 1.3): an
  /// edge_fingerprint list, so an operator adds the new certificate's pin,
  /// replaces the edge's certificate, then drops the old pin. Core sets
  /// pin_sha256 to the list's first pin and these to the rest; a transport
  /// built before 1.3 checks pin_sha256 alone and so refuses the others.
  std::vector<CertificatePin> other_pins_sha256;

  /// pin_sha256 then other_pins_sha256; empty when no pin is set.
  std::vector<CertificatePin> accepted_pins() const {
    std::vector<CertificatePin> pins;
    if (pin_sha256) pins.push_back(*pin_sha256);
    pins.insert(pins.end(), other_pins_sha256.begin(), other_pins_sha256.end());
    return pins;
  }
};

/// What the connector gives a dial. Core sets address, port, server_name
/// and verify for each dial (from discovery and the tunnel config); the
/// durations are left at these defaults today.
struct DialOptions {
  boost::asio::ip::address address;  ///< the edge's address, v4 or v6; never unspecified
  std::uint16_t port = 0;            ///< the edge's port; 0 is invalid for a dial
  std::string server_name;           ///< TLS SNI; the edge's host name or address text. Empty: the address text.
                                     ///< A CA-verified certificate must carry it; an IP literal is not sent as SNI.
  EdgeVerification verify;           ///< how the edge is checked
  /// Time from the first packet to a completed handshake (TLS included);
  /// past it the dial fails with errc::handshake_timeout. Zero: no limit
  /// (the transport's own, if the protocol has one).
  Duration handshake_timeout = std::chrono::seconds(5);
  /// An established connection with nothing received for this long ends
  /// with errc::idle_timeout (QUIC: max_idle_timeout, RFC 9000 §10.1).
  /// Zero: never idle-closed.
  Duration idle_timeout = std::chrono::seconds(30);
  /// The dialer sends something (a PING) after this long without sending,
  /// so a healthy but quiet connection stays within idle_timeout on both
  /// ends and NAT bindings stay open. Zero: no keepalive. Should be well
  /// under idle_timeout.
  Duration keepalive = std::chrono::seconds(5);
};

/// What the edge gives listen(). Core sets address and port from a
/// [[listen]] table, the certificate from the edge identity, and
/// handshake_timeout from the edge's handshake_timeout key.
struct ListenOptions {
  boost::asio::ip::address address;  ///< local address; unspecified (0.0.0.0, ::) listens on all
  std::uint16_t port = 0;  ///< 0 picks a free port; see Listener::local_port
  std::string cert_pem;    ///< PEM text, leaf first, then chain
  std::string key_pem;     ///< PEM text of the leaf's private key
  /// Time an incoming connection has to complete its handshake; one that
  /// does not is dropped without reaching async_accept. Zero: no limit.
  Duration handshake_timeout = std::chrono::seconds(5);
  /// As DialOptions::idle_timeout, for accepted connections. Zero: never.
  Duration idle_timeout = std::chrono::seconds(30);
  /// A folder the transport may keep files in across restarts (the edge's
  /// state_dir; QUIC keeps its stateless reset secret there). Empty: keep
  /// nothing; what would be kept is drawn afresh per listener. ABI 1.3.
  std::string state_dir;
};

/// A snapshot of one connection, taken on the loop's thread; set by the
/// transport, read by core for leg history and metrics.
struct ConnectionStats {
  /// The transport's smoothed round-trip time (QUIC: RFC 9002 §5.3; TCP:
  /// the kernel's tcpi_rtt). Zero: not measured yet, or not measurable.
  Duration smoothed_rtt{};
  std::uint64_t bytes_sent = 0;      ///< bytes on the wire this connection sent, headers and TLS included
  std::uint64_t bytes_received = 0;  ///< bytes on the wire it received, likewise
  // Datagrams (ABI 1.4; zero on a connection without them):
  std::uint64_t datagrams_sent = 0;      ///< datagrams send_datagram queued and the transport sent
  std::uint64_t datagrams_received = 0;  ///< datagrams received from the peer, delivered or not
  std::uint64_t datagrams_dropped = 0;   ///< datagrams dropped here: refused by send_datagram, lost
                                         ///< from a full send queue, or received while the receive
                                         ///< queue was full
};

class BOOST_SYMBOL_VISIBLE Connection {
 public:
  using executor_type = boost::asio::any_io_executor;
  /// Destroying a connection closes it at once and aborts its streams.
  virtual ~Connection() = default;
  virtual executor_type get_executor() = 0;

  /// Opens a bidirectional stream; waits while the peer's stream limit is reached.
  template <typename Token>
  auto async_open_stream(Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, ByteStreamPtr)>(
        [this](auto handler) { async_open_stream_impl(std::move(handler)); }, token);
  }
  /// Waits for the next stream the peer opens. The connection's end
  /// completes it with the reason (errc::idle_timeout, errc::peer_closed …).
  template <typename Token>
  auto async_accept_stream(Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, ByteStreamPtr)>(
        [this](auto handler) { async_accept_stream_impl(std::move(handler)); }, token);
  }
  /// Closes the connection, telling the peer `reason`.
  virtual void close(error_code reason) = 0;
  /// "address:port" of the peer.
  virtual std::string remote_address() const = 0;
  virtual ConnectionStats stats() const = 0;

  // Datagrams (ABI 1.4), for UDP tunnels: unreliable, unordered, never split
  // or retransmitted (QUIC DATAGRAM frames, RFC 9221). A transport without
  // them keeps these defaults, and core carries a UDP tunnel's datagrams on
  // a stream of its own instead.

  /// The largest payload send_datagram takes on this connection now, in
  /// bytes (QUIC: bounded by the peer's max_datagram_frame_size transport
  /// parameter and the packet size in use). 0: no datagrams here (the
  /// transport has none, or the peer did not offer them).
  virtual std::size_t max_datagram_size() const { return 0; }
  /// Queues one datagram for the peer without waiting. Returns false,
  /// dropping it, when it is larger than max_datagram_size() or the
  /// transport's bounded send queue is full; either counts in
  /// ConnectionStats::datagrams_dropped.
  virtual bool send_datagram(std::span<const std::byte> payload) {
    (void)payload;
    return false;
  }
  /// Waits for the next datagram from the peer. Datagrams that arrive while
  /// none is pending wait in a bounded queue; past it they are dropped and
  /// counted. The connection's end completes it with the reason, as
  /// async_accept_stream. A transport without datagrams completes it only
  /// then.
  template <typename Token>
  auto async_receive_datagram(Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, Datagram)>(
        [this](auto handler) { async_receive_datagram_impl(std::move(handler)); }, token);
  }

 private:
  virtual void async_open_stream_impl(StreamHandler handler) = 0;
  virtual void async_accept_stream_impl(StreamHandler handler) = 0;
  /// Default: no datagrams ever arrive. The handler is dropped unrun, which
  /// destroys it; core does not call this on a connection whose
  /// max_datagram_size() is 0.
  virtual void async_receive_datagram_impl(DatagramHandler handler) { (void)handler; }
};

using ConnectionPtr = std::unique_ptr<Connection>;
using ConnectionHandler = boost::asio::any_completion_handler<void(error_code, ConnectionPtr)>;

/// One number a listener reports about itself, for the edge's /metrics.
/// The edge renders it as `warren_<name>{listener="<port>",<labels>} value`
/// in the Prometheus text format, with `help` as its HELP line; samples of
/// one name must agree on `help` and `kind`.
struct ListenerMetric {
  enum class Kind { counter, gauge };
  std::string name;  ///< lower_snake_case, unique per plugin: "quic_retry_sent_total"
  std::string help;  ///< one sentence
  Kind kind = Kind::counter;
  std::vector<std::pair<std::string, std::string>> labels;  ///< e.g. {{"reason", "source_cap"}}; stable values
  std::uint64_t value = 0;
};
using ListenerStats = std::vector<ListenerMetric>;

class BOOST_SYMBOL_VISIBLE Listener {
 public:
  virtual ~Listener() = default;
  /// Waits for the next connection whose handshake completed.
  template <typename Token>
  auto async_accept(Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, ConnectionPtr)>(
        [this](auto handler) { async_accept_impl(std::move(handler)); }, token);
  }
  virtual std::uint16_t local_port() const = 0;
  /// Stops accepting; connections already accepted live on.
  virtual void close() = 0;
  /// Serves `cert_pem` and `key_pem` (as in ListenOptions) to every
  /// handshake that starts from now on (ABI 1.3); connections accepted or
  /// handshaking before keep the certificate they began with. Returns false
  /// with `why` set, keeping the old certificate, if the pair is unusable
  /// (unreadable PEM, a key that does not match). Loop's thread only. The
  /// default refuses, for a transport that cannot replace it while running.
  virtual bool replace_certificate(const std::string& cert_pem, const std::string& key_pem, std::string& why) {
    (void)cert_pem;
    (void)key_pem;
    why = "this transport cannot replace its certificate while running; restart the edge";
    return false;
  }
  /// A snapshot of the listener's own counters and gauges (defences that
  /// fired, handshakes in progress …), taken on the loop's thread when the
  /// edge renders /metrics. Cheap; the default reports nothing.
  virtual ListenerStats stats() const { return {}; }

 private:
  virtual void async_accept_impl(ConnectionHandler handler) = 0;
};

using ListenerPtr = std::unique_ptr<Listener>;

class BOOST_SYMBOL_VISIBLE Transport : public PluginObject {
 public:
  /// Dials an edge; completes once the transport handshake (TLS included)
  /// succeeded, or with errc::handshake_timeout, errc::certificate_mismatch …
  template <typename Token>
  auto async_dial(DialOptions options, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, ConnectionPtr)>(
        [this](auto handler, DialOptions o) { async_dial_impl(std::move(o), std::move(handler)); }, token,
        std::move(options));
  }
  /// Starts listening; on failure returns null and sets `ec` (errc::port_in_use …).
  virtual ListenerPtr listen(const ListenOptions& options, error_code& ec) = 0;

 private:
  virtual void async_dial_impl(DialOptions options, ConnectionHandler handler) = 0;
};

}  // namespace warren::sdk
