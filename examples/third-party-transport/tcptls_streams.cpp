// The streams of a tcptls connection: each one its own TCP + TLS
// connection, dialed by the connector and joined to its connection by token.
#include "tcptls_connection.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/engine_handles.hpp>

namespace tcptls {
namespace {

using sdk::complete_if_pending;
using sdk::complete_later;
using sdk::store_handler;

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
