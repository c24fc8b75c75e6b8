#include "tcptls_connection.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/endpoint.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace tcptls {
namespace {

using sdk::complete_if_pending;
using sdk::complete_later;

}  // namespace

Connection::Connection(boost::asio::any_io_executor executor, Timing timing, sdk::Logger& logger)
    : executor_(executor),
      timing_(timing),
      logger_(logger),
      handshake_timer_(executor),
      idle_timer_(executor),
      keepalive_timer_(executor) {}

Connection::Ptr Connection::dialer(boost::asio::any_io_executor executor, tcp::endpoint peer,
                                   std::shared_ptr<sdk::tls::Credentials> credentials, sdk::EdgeVerification verify,
                                   std::string server_name, Timing timing, sdk::Logger& logger) {
  Ptr c(new Connection(executor, timing, logger));
  c->dialer_ = true;
  c->peer_ = peer;
  c->credentials_ = std::move(credentials);
  c->verify_ = std::move(verify);
  c->server_name_ = std::move(server_name);
  c->remote_ = sdk::format_host_port(peer.address().to_string(), peer.port());
  return c;
}

Connection::Ptr Connection::accepted(std::shared_ptr<TlsSocket> control, Token token, Timing timing,
                                     sdk::Logger& logger, std::function<void()> forget) {
  Ptr c(new Connection(control->socket().get_executor(), timing, logger));
  sdk::error_code ec;
  auto peer = control->socket().remote_endpoint(ec);
  c->remote_ = sdk::format_host_port(peer.address().to_string(), peer.port());
  c->control_ = std::move(control);
  c->token_ = token;
  c->forget_ = std::move(forget);
  c->established_ = true;
  return c;
}

void Connection::dial(Ready ready) {
  ready_ = std::move(ready);
  auto self = shared_from_this();
  if (timing_.handshake_timeout > sdk::Duration::zero()) {
    handshake_timer_.expires_after(timing_.handshake_timeout);
    handshake_timer_.async_wait([self](sdk::error_code ec) {
      if (!ec) self->finish_dial(sdk::make_error_code(sdk::errc::handshake_timeout));
    });
  }
  connecting_ = std::make_shared<tcp::socket>(executor_);
  sdk::error_code ec;
  connecting_->open(peer_.protocol(), ec);
  if (!ec) bound_buffers(*connecting_, timing_, ec);
  if (ec) return finish_dial(sdk::make_error_code(sdk::errc::dial_failed));
  connecting_->async_connect(peer_, [self](sdk::error_code ec) {
    if (!self->ready_) return;
    // Refused or unreachable: nothing answers at that address.
    if (ec) return self->finish_dial(sdk::make_error_code(sdk::errc::dial_failed));
    std::string why;
    self->control_ = TlsSocket::client(std::move(*self->connecting_), self->credentials_, self->verify_,
                                       self->server_name_, self->timing_.nodelay, why);
    self->connecting_.reset();
    if (!self->control_) {
      self->logger_.error("cannot dial " + self->remote_ + ": " + why);
      return self->finish_dial(sdk::make_error_code(sdk::errc::tls_failed));
    }
    self->control_->handshake([self](sdk::error_code ec) {
      if (!self->ready_) return;
      if (ec) {
        if (!self->control_->refusal().empty()) self->logger_.error(self->control_->refusal());
        return self->finish_dial(ec);
      }
      // The dialer's idle timeout rides in the hello: both ends time out alike.
      std::string text(17, '\0');
      text[0] = 'C';
      auto idle_ms = static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(self->timing_.idle_timeout).count());
      for (int i = 0; i < 4; ++i) text[1 + i] = static_cast<char>((idle_ms >> (24 - 8 * i)) & 0xff);
      auto hello = std::make_shared<const std::string>(std::move(text));
      write_all(self->control_, hello, 0, [self](sdk::error_code ec) {
        if (ec) return self->finish_dial(ec);
        auto token = std::make_shared<std::vector<std::uint8_t>>(16);
        read_exact(self->control_, token, 0, [self, token](sdk::error_code ec) {
          if (ec) return self->finish_dial(sdk::make_error_code(sdk::errc::protocol_error));
          std::copy(token->begin(), token->end(), self->token_.begin());
          self->finish_dial({});
        });
      });
    });
  });
}

void Connection::finish_dial(const sdk::error_code& ec) {
  if (!ready_) return;
  auto ready = std::move(ready_);
  ready_ = nullptr;
  handshake_timer_.cancel();
  if (ec) {
    ended_ = ec;
    if (connecting_) connecting_->close();
    if (control_) control_->abort();
  } else {
    established_ = true;
    start();
  }
  ready(ec);
}

void Connection::start() {
  last_heard_ = sdk::Clock::now();
  arm_idle();
  if (dialer_) arm_keepalive();
  read_control();
}

void Connection::arm_idle() {
  if (timing_.idle_timeout <= sdk::Duration::zero()) return;
  idle_timer_.expires_at(last_heard_ + timing_.idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](sdk::error_code ec) {
    if (ec || self->ended_) return;
    if (sdk::Clock::now() - self->last_heard_ >= self->timing_.idle_timeout)
      // Told, unlike QUIC's silent close: over TCP the peer sees this close
      // at once, before its own idle timer (armed a little later) fires.
      return self->end(sdk::make_error_code(sdk::errc::idle_timeout), true);
    self->arm_idle();
  });
}

void Connection::arm_keepalive() {
  if (timing_.keepalive <= sdk::Duration::zero()) return;
  keepalive_timer_.expires_after(timing_.keepalive);
  keepalive_timer_.async_wait([self = shared_from_this()](sdk::error_code ec) {
    if (ec || self->ended_) return;
    self->send_control('P');
    self->arm_keepalive();
  });
}

void Connection::read_control() {
  control_->read_some(boost::asio::buffer(control_in_), [self = shared_from_this()](sdk::error_code ec, std::size_t n) {
    if (self->ended_) return;
    // EOF (close_notify) or a vanished socket: the peer's side is gone.
    if (ec) return self->end(sdk::make_error_code(sdk::errc::peer_closed), false);
    self->last_heard_ = sdk::Clock::now();
    self->bytes_received_ += n;
    for (std::size_t i = 0; i < n && !self->ended_; ++i) self->on_control(self->control_in_[i]);
    if (!self->ended_) self->read_control();
  });
}

void Connection::on_control(char byte) {
  switch (byte) {
    case 'P': return send_control('p');
    case 'p': return;
    case 'Q': return end(sdk::make_error_code(sdk::errc::peer_closed), false);
    case 'I': return end(sdk::make_error_code(sdk::errc::idle_timeout), false);  // the idle timeout both agreed
    case 'O':
      if (!dialer_) break;
      return dial_stream('R', [self = shared_from_this()](sdk::error_code ec, std::shared_ptr<StreamState> state) {
        if (ec) {
          self->logger_.debug("cannot open the stream the edge asked for: " + ec.message());
          return;
        }
        self->deliver_accepted(std::move(state));
      });
    default: break;
  }
  logger_.warn("closing " + remote_ + ": unknown control byte");
  end(sdk::make_error_code(sdk::errc::protocol_error), true);
}

void Connection::send_control(char byte) {
  control_out_.push_back(byte);
  flush_control();
}

void Connection::flush_control() {
  if (control_writing_ || !control_ || !control_->open()) return;
  if (control_out_.empty()) {
    if (close_after_flush_) {
      control_->shutdown_send();
      control_->close();
    }
    return;
  }
  control_writing_ = true;
  auto data = std::make_shared<const std::string>(std::move(control_out_));
  control_out_.clear();
  write_all(control_, data, 0, [self = shared_from_this(), data](sdk::error_code ec) {
    self->control_writing_ = false;
    if (ec) {
      if (!self->ended_) self->end(sdk::make_error_code(sdk::errc::peer_closed), false);
      return self->control_->abort();
    }
    self->bytes_sent_ += data->size();
    self->flush_control();
  });
}

void Connection::end(const sdk::error_code& reason, bool tell_peer) {
  if (ended_) return;
  ended_ = reason;
  idle_timer_.cancel();
  keepalive_timer_.cancel();
  if (forget_) std::exchange(forget_, nullptr)();
  complete_if_pending(executor_, accept_waiting_, reason, sdk::ByteStreamPtr());
  for (auto& waiting : opens_waiting_) complete_later(executor_, std::move(*waiting), reason, sdk::ByteStreamPtr());
  opens_waiting_.clear();
  for (auto& state : accepted_) state->tls->abort();
  accepted_.clear();
  // One TCP connection per stream: ending the connection resets every one.
  for (auto& weak : streams_)
    if (auto state = weak.lock()) state->tls->abort();
  streams_.clear();
  if (tell_peer && control_ && control_->open()) {
    close_after_flush_ = true;
    send_control(reason == sdk::make_error_code(sdk::errc::idle_timeout) ? 'I' : 'Q');
  } else if (control_) {
    control_->abort();
  }
}

void Connection::close(const sdk::error_code& reason) {
  if (!established_) {
    return finish_dial(reason ? reason : sdk::error_code(boost::asio::error::operation_aborted));
  }
  // Pending operations here fail with operation_aborted; the peer's with peer_closed.
  end(boost::asio::error::operation_aborted, true);
}

sdk::ConnectionStats Connection::stats() const {
  sdk::ConnectionStats out;
  out.bytes_sent = bytes_sent_;
  out.bytes_received = bytes_received_;
  if (control_ && control_->open()) {
    tcp_info info{};
    socklen_t size = sizeof(info);
    if (::getsockopt(const_cast<TlsSocket&>(*control_).socket().native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) ==
        0)
      out.smoothed_rtt = std::chrono::microseconds(info.tcpi_rtt);  // the kernel's smoothed RTT
  }
  return out;
}

}  // namespace tcptls
