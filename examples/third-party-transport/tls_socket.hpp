#pragma once
// One TLS 1.3 session (GnuTLS) on one TCP socket, driven by Asio: GnuTLS
// reads and writes the non-blocking socket itself, and when it would block
// (GNUTLS_E_AGAIN) the socket's async_wait resumes it. Callbacks here may
// run inside the call; the engine posts every SDK completion (complete_later).

#include <warren/sdk/tls_verification.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <gnutls/gnutls.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tcptls {

namespace sdk = warren::sdk;
using tcp = boost::asio::ip::tcp;

/// ALPN of this transport, so it never talks to a web server by mistake.
inline constexpr char alpn_protocol[] = "warren-tcptls/1";

class TlsSocket : public std::enable_shared_from_this<TlsSocket> {
 public:
  using Done = std::function<void(sdk::error_code)>;
  using Transferred = std::function<void(sdk::error_code, std::size_t)>;

  /// The connector's side: checks the edge with `verify`; `server_name` is
  /// SNI (host names only) and the name a CA-signed certificate must carry.
  static std::shared_ptr<TlsSocket> client(tcp::socket socket, std::shared_ptr<sdk::tls::Credentials> credentials,
                                           const sdk::EdgeVerification& verify, const std::string& server_name,
                                           bool nodelay, std::string& why);
  /// The edge's side.
  static std::shared_ptr<TlsSocket> server(tcp::socket socket, std::shared_ptr<sdk::tls::Credentials> credentials,
                                           bool nodelay, std::string& why);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  /// Runs the handshake: success, errc::certificate_mismatch (refusal()
  /// says why) or errc::tls_failed.
  void handshake(Done done);
  /// At least one plaintext byte; boost::asio::error::eof after the peer's
  /// close_notify; errc::stream_reset when the peer vanished without one.
  void read_some(boost::asio::mutable_buffer buffer, Transferred done);
  /// Up to one TLS record of `buffer`, taken by the kernel when it completes.
  void write_some(boost::asio::const_buffer buffer, Transferred done);
  /// close_notify: the peer reads EOF; reading here goes on (TLS 1.3 half-close).
  void shutdown_send();
  /// TCP RST at once: the peer's operations fail with stream_reset; pending
  /// ones here complete with operation_aborted.
  void abort();
  /// FIN after what is queued, and no more reading.
  void close();

  tcp::socket& socket() { return socket_; }
  const std::string& refusal() const { return refusal_; }
  bool open() const { return socket_.is_open(); }

 private:
  explicit TlsSocket(tcp::socket socket) : socket_(std::move(socket)) {}
  bool init(unsigned flags, bool nodelay, std::string& why);
  static int verify_trampoline(gnutls_session_t session);

  tcp::socket socket_;
  gnutls_session_t session_ = nullptr;
  std::shared_ptr<sdk::tls::Credentials> credentials_;
  sdk::EdgeVerification verify_;
  std::string server_name_;
  std::string refusal_;
  bool sent_bye_ = false;
};

/// Reads exactly `buffer->size() - got` more bytes into `*buffer`.
void read_exact(std::shared_ptr<TlsSocket> tls, std::shared_ptr<std::vector<std::uint8_t>> buffer, std::size_t got,
                std::function<void(sdk::error_code)> done);
/// Writes all of `*data` from `sent` on.
void write_all(std::shared_ptr<TlsSocket> tls, std::shared_ptr<const std::string> data, std::size_t sent,
               std::function<void(sdk::error_code)> done);

}  // namespace tcptls
