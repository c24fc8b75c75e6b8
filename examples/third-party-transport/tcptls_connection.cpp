#include "tcptls_connection.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/engine_handles.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace tcptls {
namespace {

using sdk::complete_if_pending;
using sdk::complete_later;
using sdk::store_handler;

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

/// Reads and drops what arrives until the peer ends, then closes: a stream
/// released after shutdown_send keeps its socket until its FIN is read, so
/// late bytes from the peer cannot turn into a RST that destroys ours.
void drain_then_close(std::shared_ptr<TlsSocket> tls, std::shared_ptr<std::array<char, 4096>> scratch) {
  auto* tls_ptr = tls.get();
  tls_ptr->read_some(boost::asio::buffer(*scratch), [tls = std::move(tls), scratch](sdk::error_code ec, std::size_t) {
    if (ec) return tls->close();
    drain_then_close(tls, scratch);
  });
}

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
      return self->end(sdk::make_error_code(sdk::errc::idle_timeout), false);  // silent, as QUIC
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
    send_control('Q');
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

std::shared_ptr<StreamState> Connection::track(std::shared_ptr<TlsSocket> tls) {
  auto state = std::make_shared<StreamState>();
  state->tls = std::move(tls);
  std::erase_if(streams_, [](const std::weak_ptr<StreamState>& w) { return w.expired(); });
  streams_.push_back(state);
  return state;
}

sdk::ByteStreamPtr Connection::handle(std::shared_ptr<StreamState> state) {
  return std::make_unique<sdk::StreamHandle<Connection, StreamState>>(shared_from_this(), std::move(state));
}

void Connection::dial_stream(char kind, std::function<void(sdk::error_code, std::shared_ptr<StreamState>)> done) {
  auto socket = std::make_shared<tcp::socket>(executor_);
  sdk::error_code ec;
  socket->open(peer_.protocol(), ec);
  if (!ec) bound_buffers(*socket, timing_, ec);
  if (ec) return done(sdk::make_error_code(sdk::errc::dial_failed), nullptr);
  socket->async_connect(peer_, [self = shared_from_this(), socket, kind, done](sdk::error_code ec) {
    if (self->ended_) return done(self->ended_, nullptr);
    if (ec) return done(sdk::make_error_code(sdk::errc::dial_failed), nullptr);
    std::string why;
    auto tls = TlsSocket::client(std::move(*socket), self->credentials_, self->verify_, self->server_name_,
                                 self->timing_.nodelay, why);
    if (!tls) return done(sdk::make_error_code(sdk::errc::tls_failed), nullptr);
    // Tracked from now on, so that ending the connection aborts the dial too.
    auto state = self->track(tls);
    tls->handshake([self, state, kind, done](sdk::error_code ec) {
      if (ec) return done(self->ended_ ? self->ended_ : ec, nullptr);
      std::string hello(1, kind);
      hello.append(self->token_.begin(), self->token_.end());
      write_all(state->tls, std::make_shared<const std::string>(std::move(hello)), 0,
                [self, state, done](sdk::error_code ec) {
                  if (ec) return done(self->ended_ ? self->ended_ : ec, nullptr);
                  auto answer = std::make_shared<std::vector<std::uint8_t>>(1);
                  read_exact(state->tls, answer, 0, [self, state, answer, done](sdk::error_code ec) {
                    if (self->ended_) return done(self->ended_, nullptr);
                    if (ec || (*answer)[0] != 'K') {
                      state->tls->abort();
                      return done(sdk::make_error_code(sdk::errc::protocol_error), nullptr);
                    }
                    done({}, state);
                  });
                });
    });
  });
}

void Connection::adopt_stream(std::shared_ptr<TlsSocket> tls, char kind) {
  if (ended_ || (kind == 'R' && opens_waiting_.empty())) return tls->abort();
  std::shared_ptr<sdk::StreamHandler> opener;
  if (kind == 'R') {
    opener = std::move(opens_waiting_.front());
    opens_waiting_.pop_front();
  }
  auto state = track(std::move(tls));
  // The answer goes out before the stream is handed over: one writer at a time.
  write_all(state->tls, std::make_shared<const std::string>("K"), 0,
            [self = shared_from_this(), state, opener](sdk::error_code ec) {
              if (ec || self->ended_) {
                state->tls->abort();
                if (opener && !self->ended_)
                  complete_later(self->executor_, std::move(*opener), sdk::make_error_code(sdk::errc::stream_reset),
                                 sdk::ByteStreamPtr());
                return;
              }
              if (opener)
                return complete_later(self->executor_, std::move(*opener), sdk::error_code(), self->handle(state));
              self->deliver_accepted(state);
            });
}

void Connection::deliver_accepted(std::shared_ptr<StreamState> state) {
  if (ended_) return state->tls->abort();
  if (accept_waiting_) {
    sdk::StreamHandler waiting = std::move(accept_waiting_);
    accept_waiting_ = nullptr;
    return complete_later(executor_, std::move(waiting), sdk::error_code(), handle(std::move(state)));
  }
  accepted_.push_back(std::move(state));
}

void Connection::open_stream(sdk::StreamHandler handler) {
  if (ended_) return complete_later(executor_, std::move(handler), ended_, sdk::ByteStreamPtr());
  auto shared = std::make_shared<sdk::StreamHandler>(std::move(handler));
  if (!dialer_) {
    // Only the connector can reach the other end with a new TCP connection.
    opens_waiting_.push_back(shared);
    return send_control('O');
  }
  dial_stream('S', [self = shared_from_this(), shared](sdk::error_code ec, std::shared_ptr<StreamState> state) {
    if (ec) return complete_later(self->executor_, std::move(*shared), ec, sdk::ByteStreamPtr());
    complete_later(self->executor_, std::move(*shared), sdk::error_code(), self->handle(std::move(state)));
  });
}

void Connection::accept_stream(sdk::StreamHandler handler) {
  if (!accepted_.empty()) {
    auto state = std::move(accepted_.front());
    accepted_.pop_front();
    return complete_later(executor_, std::move(handler), sdk::error_code(), handle(std::move(state)));
  }
  if (ended_) return complete_later(executor_, std::move(handler), ended_, sdk::ByteStreamPtr());
  store_handler(accept_waiting_, std::move(handler));
}

void Connection::read(const std::shared_ptr<StreamState>& s, boost::asio::mutable_buffer buffer,
                      sdk::ReadHandler handler) {
  if (buffer.size() == 0) return complete_later(executor_, std::move(handler), sdk::error_code(), std::size_t{0});
  store_handler(s->read, std::move(handler));
  s->tls->read_some(buffer, [self = shared_from_this(), s](sdk::error_code ec, std::size_t n) {
    if (!ec) {
      self->bytes_received_ += n;
      self->last_heard_ = sdk::Clock::now();
    }
    complete_if_pending(self->executor_, s->read, ec, n);
  });
}

void Connection::write(const std::shared_ptr<StreamState>& s, boost::asio::const_buffer buffer,
                       sdk::WriteHandler handler) {
  if (buffer.size() == 0) return complete_later(executor_, std::move(handler), sdk::error_code(), std::size_t{0});
  store_handler(s->write, std::move(handler));
  s->tls->write_some(buffer, [self = shared_from_this(), s](sdk::error_code ec, std::size_t n) {
    if (!ec) self->bytes_sent_ += n;
    complete_if_pending(self->executor_, s->write, ec, n);
  });
}

void Connection::shutdown_send(const std::shared_ptr<StreamState>& s) {
  s->shut = true;
  s->tls->shutdown_send();
}

void Connection::abort(const std::shared_ptr<StreamState>& s) { s->tls->abort(); }

void Connection::release(const std::shared_ptr<StreamState>& s) {
  // The handle is gone: its pending operations end now, and nothing may
  // touch its buffers any more (cancel stops GnuTLS before it reads into them).
  sdk::error_code ignored;
  s->tls->socket().cancel(ignored);
  complete_if_pending(executor_, s->read, boost::asio::error::operation_aborted, std::size_t{0});
  complete_if_pending(executor_, s->write, boost::asio::error::operation_aborted, std::size_t{0});
  if (s->shut && s->tls->open() && !ended_) return drain_then_close(s->tls, std::make_shared<std::array<char, 4096>>());
  s->tls->abort();
}

}  // namespace tcptls
