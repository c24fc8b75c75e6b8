#pragma once
// GnuTLS on memory buffers: the connection's socket code feeds it the
// ciphertext it read and sends what it produced. No GnuTLS call touches the
// socket, so Asio owns every read and write (one async read pending, one
// async write), the socket needs no non-blocking dance, and the bytes
// waiting to go out are visible: the connection stops asking nghttp2 for
// frames while they pile up (TCP backpressure reaches the streams).

#include <warren/sdk/tls_verification.hpp>
#include <warren/sdk/transport.hpp>

#include <gnutls/gnutls.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace warren::http2 {

/// ALPN of this transport: not "h2", because the roles are swapped (the
/// edge, the TLS server, is the HTTP/2 client); a warren connector that
/// reaches a web server by mistake fails in the TLS handshake, not later.
inline constexpr char alpn_protocol[] = "warren-h2/1";

class TlsChannel {
 public:
  /// The connector's side: checks the edge with `verify`; `server_name` goes
  /// into SNI (host names only) and is the name a CA-signed certificate carries.
  static std::unique_ptr<TlsChannel> client(const sdk::EdgeVerification& verify, const std::string& server_name,
                                            std::string& why);
  /// The edge's side, with the listener's certificate and key.
  static std::unique_ptr<TlsChannel> server(std::shared_ptr<sdk::tls::Credentials> credentials, std::string& why);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  /// Ciphertext read from the socket.
  void feed(const std::uint8_t* data, std::size_t size);

  enum class Step { done, again, failed };
  /// Runs the handshake on what was fed; `again` waits for more input
  /// (send outgoing() first). On `failed`, error() says why.
  Step handshake();

  enum class Read { more, closed, failed };
  /// Appends all plaintext decryptable from what was fed to `plain`.
  /// `closed` when the peer sent close_notify.
  Read read(std::vector<std::uint8_t>& plain);
  /// Encrypts `data` into outgoing(); false (error() set) if GnuTLS refuses.
  bool write(const std::uint8_t* data, std::size_t size);
  /// Queues close_notify.
  void bye();

  /// Ciphertext waiting for the socket; the caller takes it (swap or clear).
  std::vector<std::uint8_t>& outgoing() { return out_; }

  bool certificate_refused() const { return !refusal_.empty(); }
  const std::string& refusal() const { return refusal_; }
  const std::string& error() const { return error_; }

  int verify_peer();  ///< GnuTLS's verify function (client side)

 private:
  TlsChannel() = default;
  bool init(unsigned flags, std::string& why);
  static ssize_t pull(gnutls_transport_ptr_t self, void* data, std::size_t size);
  static ssize_t push(gnutls_transport_ptr_t self, const void* data, std::size_t size);

  gnutls_session_t session_ = nullptr;
  std::shared_ptr<sdk::tls::Credentials> credentials_;
  sdk::EdgeVerification verify_;
  std::string server_name_;
  std::vector<std::uint8_t> in_;
  std::size_t in_pos_ = 0;
  std::vector<std::uint8_t> out_;
  std::string refusal_;
  std::string error_;
};

}  // namespace warren::http2
