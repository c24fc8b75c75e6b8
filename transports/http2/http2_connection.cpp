// The connection's socket, TLS and timers. Streams: http2_connection_streams.cpp;
// nghttp2's callbacks: h2_session_callbacks.cpp.

#include "http2_connection.hpp"

#include "h2_session.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/endpoint.hpp>

#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace warren::http2 {
namespace {

using Clock = std::chrono::steady_clock;

// Ciphertext we let pile up before we stop asking nghttp2 for frames: past
// it, the socket (TCP's window) holds the streams back.
constexpr std::size_t outgoing_high_water = 256 << 10;
// How long a closing connection waits for its GOAWAY to leave.
constexpr auto close_linger = std::chrono::seconds(1);

}  // namespace

Http2Connection::Http2Connection(boost::asio::any_io_executor executor, tcp::socket socket,
                                 std::unique_ptr<TlsChannel> tls, const ConnectionLimits& limits, sdk::Logger& logger,
                                 bool h2_client)
    : executor_(executor),
      socket_(std::move(socket)),
      tls_(std::move(tls)),
      limits_(limits),
      logger_(logger),
      h2_client_(h2_client),
      handshake_timer_(executor),
      idle_timer_(executor),
      keepalive_timer_(executor),
      last_received_(Clock::now()),
      read_buffer_(64 << 10) {}

Http2Connection::Ptr Http2Connection::client(boost::asio::any_io_executor executor, std::unique_ptr<TlsChannel> tls,
                                             const ConnectionLimits& limits, sdk::Logger& logger) {
  tcp::socket socket(executor);
  return Ptr(new Http2Connection(executor, std::move(socket), std::move(tls), limits, logger, false));
}

Http2Connection::Ptr Http2Connection::server(tcp::socket socket, std::unique_ptr<TlsChannel> tls,
                                             const ConnectionLimits& limits, sdk::Logger& logger) {
  auto executor = socket.get_executor();
  return Ptr(new Http2Connection(executor, std::move(socket), std::move(tls), limits, logger, true));
}

Http2Connection::~Http2Connection() {
  if (session_) nghttp2_session_del(session_);
}

void Http2Connection::start_handshake_timer() {
  if (limits_.handshake_timeout <= sdk::Duration::zero()) return;
  handshake_timer_.expires_after(limits_.handshake_timeout);
  handshake_timer_.async_wait([weak = weak_from_this()](const sdk::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->established_ || self->failure_) return;
    self->finish_handshake(sdk::make_error_code(sdk::errc::handshake_timeout));
  });
}

void Http2Connection::dial(const tcp::endpoint& peer, Ready ready) {
  ready_ = std::move(ready);
  remote_ = sdk::format_host_port(peer.address().to_string(), peer.port());
  start_handshake_timer();
  socket_.async_connect(peer, [self = shared_from_this()](const sdk::error_code& ec) {
    if (self->failure_) return;
    if (ec) {
      self->logger_.error("cannot connect to " + self->remote_ + " (TCP): " + ec.message());
      return self->finish_handshake(sdk::make_error_code(sdk::errc::dial_failed));
    }
    self->configure_socket();
    self->drive_handshake();
    if (!self->failure_) self->start_read();
  });
}

void Http2Connection::handshake(Ready ready) {
  ready_ = std::move(ready);
  sdk::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  remote_ = ec ? "?" : sdk::format_host_port(peer.address().to_string(), peer.port());
  configure_socket();
  start_handshake_timer();
  drive_handshake();
  if (!failure_) start_read();
}

void Http2Connection::configure_socket() {
  sdk::error_code ignored;
  // Every stream's first bytes are latency: never wait for Nagle.
  socket_.set_option(tcp::no_delay(true), ignored);
  auto idle = std::chrono::duration_cast<std::chrono::seconds>(limits_.settings.tcp_keepalive).count();
  socket_.set_option(boost::asio::socket_base::keep_alive(idle > 0), ignored);
  if (idle > 0) {
    int fd = socket_.native_handle();
    int seconds = static_cast<int>(std::max<long long>(1, idle));
    int interval = std::max(1, seconds / 3), probes = 3;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof seconds);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  }
}

void Http2Connection::drive_handshake() {
  auto step = tls_->handshake();
  start_write();
  if (step == TlsChannel::Step::done) return finish_handshake({});
  if (step == TlsChannel::Step::failed) {
    auto code = tls_->certificate_refused() ? sdk::errc::certificate_mismatch : sdk::errc::tls_failed;
    if (h2_client_)
      logger_.debug("TLS handshake with " + remote_ + " failed: " + tls_->error());
    else
      logger_.error("cannot connect to " + remote_ + ": " + tls_->error());
    finish_handshake(sdk::make_error_code(code));
  }
}

void Http2Connection::finish_handshake(const sdk::error_code& result) {
  handshake_timer_.cancel();
  if (result) return fail(result, no_goaway);
  if (!start_session()) return fail(sdk::make_error_code(sdk::errc::tls_failed), no_goaway);
  established_ = true;
  last_received_ = Clock::now();
  arm_idle_timer();
  arm_keepalive_timer();
  if (auto ready = std::exchange(ready_, nullptr)) ready({});
  // Application data may have come with the handshake's last flight.
  process_plaintext();
}

void Http2Connection::start_read() {
  socket_.async_read_some(
      boost::asio::buffer(read_buffer_),
      [self = shared_from_this()](const sdk::error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

void Http2Connection::on_read(const sdk::error_code& ec, std::size_t n) {
  if (failure_) return;
  if (ec) {
    if (!established_) {
      logger_.debug("connection to " + remote_ + " ended during the TLS handshake: " + ec.message());
      return finish_handshake(sdk::make_error_code(sdk::errc::tls_failed));
    }
    return fail(sdk::make_error_code(sdk::errc::peer_closed), no_goaway);
  }
  bytes_received_ += n;
  last_received_ = Clock::now();
  tls_->feed(read_buffer_.data(), n);
  if (!established_)
    drive_handshake();
  else
    process_plaintext();
  if (!failure_) start_read();
}

void Http2Connection::process_plaintext() {
  if (failure_ || !session_) return;
  plain_.clear();
  auto result = tls_->read(plain_);
  if (!plain_.empty()) {
    auto rv = nghttp2_session_mem_recv(session_, plain_.data(), plain_.size());
    if (rv < 0) {
      logger_.debug("HTTP/2 error from " + remote_ + ": " + nghttp2_strerror(static_cast<int>(rv)));
      return fail(sdk::make_error_code(sdk::errc::protocol_error), NGHTTP2_PROTOCOL_ERROR);
    }
  }
  if (failure_) return;
  if (remote_goaway_) return fail(*remote_goaway_, no_goaway);
  if (result == TlsChannel::Read::failed) {
    logger_.debug("TLS error from " + remote_ + ": " + tls_->error());
    return fail(sdk::make_error_code(sdk::errc::protocol_error), no_goaway);
  }
  if (result == TlsChannel::Read::closed) return fail(sdk::make_error_code(sdk::errc::peer_closed), no_goaway);
  flush();
}

void Http2Connection::pump_session() {
  while (session_ && tls_->outgoing().size() < outgoing_high_water) {
    const std::uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      logger_.debug("HTTP/2 send error toward " + remote_ + ": " + nghttp2_strerror(static_cast<int>(n)));
      if (!failure_) fail(sdk::make_error_code(sdk::errc::protocol_error), no_goaway);
      return;
    }
    if (n == 0) break;
    if (!tls_->write(data, static_cast<std::size_t>(n))) {
      if (!failure_) fail(sdk::make_error_code(sdk::errc::tls_failed), no_goaway);
      return;
    }
  }
}

void Http2Connection::flush() {
  if (failure_ || !established_) return;
  pump_session();
  if (failure_) return;
  start_write();
  if (session_ && !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_) && !write_pending_)
    fail(sdk::make_error_code(sdk::errc::peer_closed), no_goaway);
}

void Http2Connection::start_write() {
  if (write_pending_ || tls_->outgoing().empty() || !socket_.is_open()) return;
  writing_.clear();
  writing_.swap(tls_->outgoing());
  write_pending_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                           [self = shared_from_this()](const sdk::error_code& ec, std::size_t n) {
                             self->write_pending_ = false;
                             self->bytes_sent_ += n;
                             if (ec) {
                               if (!self->failure_)
                                 return self->fail(sdk::make_error_code(sdk::errc::peer_closed), no_goaway);
                               return self->finish_close();
                             }
                             if (self->closing_) {
                               if (self->tls_->outgoing().empty()) return self->finish_close();
                               return self->start_write();
                             }
                             if (!self->established_) return self->start_write();
                             self->flush();
                           });
}

void Http2Connection::close(const sdk::error_code& reason) {
  std::uint32_t code = reason == sdk::errc::idle_timeout ? idle_timeout_code : std::uint32_t{NGHTTP2_NO_ERROR};
  fail(reason, code);
}

void Http2Connection::fail(const sdk::error_code& reason, std::uint32_t goaway_code) {
  if (failure_) return;
  failure_ = reason ? reason : sdk::make_error_code(sdk::errc::peer_closed);
  handshake_timer_.cancel();
  idle_timer_.cancel();
  keepalive_timer_.cancel();
  fail_streams(failure_);
  if (auto ready = std::exchange(ready_, nullptr)) ready(failure_);
  if (goaway_code != no_goaway && established_ && session_ && socket_.is_open()) {
    // Tell the peer why, then close once that has left (or after a linger).
    nghttp2_session_terminate_session(session_, goaway_code);
    pump_session();
    tls_->bye();
    closing_ = true;
    start_write();
    if (!write_pending_) return finish_close();
    idle_timer_.expires_after(close_linger);
    idle_timer_.async_wait([weak = weak_from_this()](const sdk::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->finish_close();
    });
    return;
  }
  finish_close();
}

void Http2Connection::finish_close() {
  closing_ = false;
  idle_timer_.cancel();
  if (!socket_.is_open()) return;
  sdk::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void Http2Connection::arm_idle_timer() {
  if (limits_.idle_timeout <= sdk::Duration::zero() || failure_) return;
  idle_timer_.expires_at(last_received_ + limits_.idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this()](const sdk::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->failure_) return;
    if (Clock::now() >= self->last_received_ + self->limits_.idle_timeout)
      return self->fail(sdk::make_error_code(sdk::errc::idle_timeout), idle_timeout_code);
    self->arm_idle_timer();
  });
}

void Http2Connection::arm_keepalive_timer() {
  if (limits_.keepalive <= sdk::Duration::zero() || failure_) return;
  keepalive_timer_.expires_after(limits_.keepalive);
  keepalive_timer_.async_wait([weak = weak_from_this()](const sdk::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->failure_) return;
    if (Clock::now() - self->last_received_ >= self->limits_.keepalive) {
      nghttp2_submit_ping(self->session_, NGHTTP2_FLAG_NONE, nullptr);
      self->flush();
    }
    self->arm_keepalive_timer();
  });
}

sdk::ConnectionStats Http2Connection::stats() const {
  sdk::ConnectionStats out;
  out.bytes_sent = bytes_sent_;
  out.bytes_received = bytes_received_;
  tcp_info info{};
  socklen_t size = sizeof info;
  if (socket_.is_open() &&
      ::getsockopt(const_cast<tcp::socket&>(socket_).native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) == 0)
    out.smoothed_rtt = std::chrono::microseconds(info.tcpi_rtt);  // the kernel's smoothed RTT
  return out;
}

}  // namespace warren::http2
