#include "tls_socket.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <sys/socket.h>

namespace tcptls {
namespace {

using sdk::tls::gnutls_text;

constexpr char priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3";  // TLS 1.3 only
constexpr std::size_t max_record = 16384;                     // RFC 8446 §5.1

/// GnuTLS's own push is send() with no flags: a write to a socket the peer
/// reset would raise SIGPIPE and kill the host process.
ssize_t push_no_signal(gnutls_transport_ptr_t fd, const void* data, std::size_t size) {
  return ::send(static_cast<int>(reinterpret_cast<std::intptr_t>(fd)), data, size, MSG_NOSIGNAL);
}

bool would_block(ssize_t rv) { return rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED; }

/// The SDK's reading of a failed TLS record call: the peer is gone without a
/// close_notify (reset, or FIN mid-stream), or this side closed the socket.
sdk::error_code record_error(ssize_t rv, bool open) {
  if (!open) return boost::asio::error::operation_aborted;
  (void)rv;
  return sdk::make_error_code(sdk::errc::stream_reset);
}

}  // namespace

int TlsSocket::verify_trampoline(gnutls_session_t session) {
  auto* self = static_cast<TlsSocket*>(gnutls_session_get_ptr(session));
  return sdk::tls::verify_edge_certificate(session, self->verify_, self->server_name_, self->refusal_);
}

bool TlsSocket::init(unsigned flags, bool nodelay, std::string& why) {
  if (int rv = gnutls_init(&session_, flags | GNUTLS_NONBLOCK); rv < 0) {
    session_ = nullptr;
    why = "gnutls_init: " + gnutls_text(rv);
    return false;
  }
  if (int rv = gnutls_priority_set_direct(session_, priority, nullptr); rv < 0) {
    why = "gnutls_priority_set_direct: " + gnutls_text(rv);
    return false;
  }
  if (int rv = gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, credentials_->native()); rv < 0) {
    why = "gnutls_credentials_set: " + gnutls_text(rv);
    return false;
  }
  gnutls_datum_t alpn{reinterpret_cast<unsigned char*>(const_cast<char*>(alpn_protocol)),
                      static_cast<unsigned>(sizeof(alpn_protocol) - 1)};
  if (int rv = gnutls_alpn_set_protocols(session_, &alpn, 1, GNUTLS_ALPN_MANDATORY); rv < 0) {
    why = "gnutls_alpn_set_protocols: " + gnutls_text(rv);
    return false;
  }
  gnutls_session_set_ptr(session_, this);
  sdk::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(tcp::no_delay(nodelay), ec);
  gnutls_transport_set_int(session_, socket_.native_handle());
  gnutls_transport_set_push_function(session_, &push_no_signal);
  return true;
}

std::shared_ptr<TlsSocket> TlsSocket::client(tcp::socket socket, std::shared_ptr<sdk::tls::Credentials> credentials,
                                             const sdk::EdgeVerification& verify, const std::string& server_name,
                                             bool nodelay, std::string& why) {
  std::shared_ptr<TlsSocket> tls(new TlsSocket(std::move(socket)));
  tls->verify_ = verify;
  tls->server_name_ = server_name;
  tls->credentials_ = std::move(credentials);
  if (!tls->init(GNUTLS_CLIENT, nodelay, why)) return nullptr;
  gnutls_session_set_verify_function(tls->session_, &TlsSocket::verify_trampoline);
  if (!server_name.empty() && !sdk::tls::is_ip_literal(server_name))
    gnutls_server_name_set(tls->session_, GNUTLS_NAME_DNS, server_name.data(), server_name.size());
  return tls;
}

std::shared_ptr<TlsSocket> TlsSocket::server(tcp::socket socket, std::shared_ptr<sdk::tls::Credentials> credentials,
                                             bool nodelay, std::string& why) {
  std::shared_ptr<TlsSocket> tls(new TlsSocket(std::move(socket)));
  tls->credentials_ = std::move(credentials);
  if (!tls->init(GNUTLS_SERVER, nodelay, why)) return nullptr;
  return tls;
}

TlsSocket::~TlsSocket() {
  if (session_) gnutls_deinit(session_);
}

void TlsSocket::handshake(Done done) {
  if (!socket_.is_open()) return done(boost::asio::error::operation_aborted);
  int rv = gnutls_handshake(session_);
  if (rv == GNUTLS_E_SUCCESS) return done({});
  if (would_block(rv) || !gnutls_error_is_fatal(rv)) {
    auto direction = gnutls_record_get_direction(session_) ? tcp::socket::wait_write : tcp::socket::wait_read;
    socket_.async_wait(direction, [self = shared_from_this(), done](sdk::error_code ec) {
      if (ec) return done(ec);
      self->handshake(done);
    });
    return;
  }
  if (!socket_.is_open()) return done(boost::asio::error::operation_aborted);
  done(sdk::make_error_code(refusal_.empty() ? sdk::errc::tls_failed : sdk::errc::certificate_mismatch));
}

void TlsSocket::read_some(boost::asio::mutable_buffer buffer, Transferred done) {
  if (!socket_.is_open()) return done(boost::asio::error::operation_aborted, 0);
  ssize_t rv = gnutls_record_recv(session_, buffer.data(), buffer.size());
  if (rv > 0) return done({}, static_cast<std::size_t>(rv));
  if (rv == 0) return done(boost::asio::error::eof, 0);
  if (would_block(rv)) {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), buffer, done](sdk::error_code ec) {
      if (ec) return done(ec, 0);
      self->read_some(buffer, done);
    });
    return;
  }
  done(record_error(rv, socket_.is_open()), 0);
}

void TlsSocket::write_some(boost::asio::const_buffer buffer, Transferred done) {
  if (!socket_.is_open()) return done(boost::asio::error::operation_aborted, 0);
  // After GNUTLS_E_AGAIN GnuTLS wants the same call again; it is, the
  // buffer is the caller's until the write completes.
  ssize_t rv = gnutls_record_send(session_, buffer.data(), std::min(buffer.size(), max_record));
  if (rv >= 0) return done({}, static_cast<std::size_t>(rv));
  if (would_block(rv)) {
    socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this(), buffer, done](sdk::error_code ec) {
      if (ec) return done(ec, 0);
      self->write_some(buffer, done);
    });
    return;
  }
  done(record_error(rv, socket_.is_open()), 0);
}

void TlsSocket::shutdown_send() {
  if (sent_bye_ || !socket_.is_open()) return;
  int rv = gnutls_bye(session_, GNUTLS_SHUT_WR);
  if (would_block(rv)) {
    socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](sdk::error_code ec) {
      if (!ec) self->shutdown_send();
    });
    return;
  }
  sent_bye_ = true;
}

void TlsSocket::abort() {
  sdk::error_code ignored;
  if (!socket_.is_open()) return;
  socket_.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

void TlsSocket::close() {
  sdk::error_code ignored;
  socket_.close(ignored);
}

/// Reads exactly `size` bytes into `*buffer`.
void read_exact(std::shared_ptr<TlsSocket> tls, std::shared_ptr<std::vector<std::uint8_t>> buffer, std::size_t got,
                std::function<void(sdk::error_code)> done) {
  if (got == buffer->size()) return done({});
  auto* tls_ptr = tls.get();
  tls_ptr->read_some(boost::asio::buffer(buffer->data() + got, buffer->size() - got),
                     [tls = std::move(tls), buffer, got, done](sdk::error_code ec, std::size_t n) {
                       if (ec) return done(ec);
                       read_exact(tls, buffer, got + n, done);
                     });
}

/// Writes all of `*data`.
void write_all(std::shared_ptr<TlsSocket> tls, std::shared_ptr<const std::string> data, std::size_t sent,
               std::function<void(sdk::error_code)> done) {
  if (sent == data->size()) return done({});
  auto* tls_ptr = tls.get();
  tls_ptr->write_some(boost::asio::buffer(data->data() + sent, data->size() - sent),
                      [tls = std::move(tls), data, sent, done](sdk::error_code ec, std::size_t n) {
                        if (ec) return done(ec);
                        write_all(tls, data, sent + n, done);
                      });
}

}  // namespace tcptls
