#pragma once
// Transport plugins: a connection carrying many byte streams between a
// connector and an edge. One plugin gives both sides: dial (connector) and
// listen (edge). One Transport object is one endpoint: every connection it
// dials shares its socket (all legs of a connector use one UDP socket).

#include <warren/sdk/byte_stream.hpp>
#include <warren/sdk/certificate_pin.hpp>
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

/// How the dialing side verifies the edge. Exactly one way is chosen.
struct EdgeVerification {
  std::optional<CertificatePin> pin_sha256;  ///< SHA-256 of the edge's DER leaf certificate
  std::string ca_file;                                     ///< PEM bundle of trusted CAs
  bool insecure = false;                                   ///< accept any certificate (loudly)
};

struct DialOptions {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  std::string server_name;  ///< TLS SNI; the edge's host name or address text
  EdgeVerification verify;
  Duration handshake_timeout = std::chrono::seconds(5);
  Duration idle_timeout = std::chrono::seconds(30);
  Duration keepalive = std::chrono::seconds(5);
};

struct ListenOptions {
  boost::asio::ip::address address;
  std::uint16_t port = 0;  ///< 0 picks a free port; see Listener::local_port
  std::string cert_pem;    ///< leaf first, then chain
  std::string key_pem;
  Duration handshake_timeout = std::chrono::seconds(5);
  Duration idle_timeout = std::chrono::seconds(30);
};

struct ConnectionStats {
  Duration smoothed_rtt{};
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
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

 private:
  virtual void async_open_stream_impl(StreamHandler handler) = 0;
  virtual void async_accept_stream_impl(StreamHandler handler) = 0;
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
