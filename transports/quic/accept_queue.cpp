#include "accept_queue.hpp"

#include "clock.hpp"
#include "completion.hpp"

#include <warren/sdk/engine_handles.hpp>

#include <cstdio>

namespace warren::quic {
namespace {

// Finished handshakes the application has not taken yet.
constexpr std::size_t max_ready = 1024;

std::chrono::nanoseconds as_duration(ngtcp2_tstamp t) { return std::chrono::nanoseconds(t); }

std::string per_second(double rate) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.0f", rate);
  return text;
}

}  // namespace

AcceptQueue::AcceptQueue(std::shared_ptr<UdpEndpoint> endpoint, std::shared_ptr<ServerCredentials> credentials,
                         StatelessReset::Ptr reset, const ConnectionLimits& limits,
                         const HandshakeLimits& handshake_limits, sdk::Logger& logger)
    : executor_(endpoint->get_executor()),
      endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      reset_(std::move(reset)),
      limits_(limits),
      logger_(logger),
      guard_(handshake_limits) {}

std::shared_ptr<PacketSink> AcceptQueue::accept(const udp::endpoint& from, const std::uint8_t* data, std::size_t len) {
  if (closed_) return nullptr;
  ngtcp2_tstamp now = now_ns();
  if (std::uint64_t shed = endpoint_->unrouted_shed(); shed != shed_seen_) {
    note(
        "shed",
        [] {
          return std::string(
              "datagrams for no connection dropped unread: new clients had used their share of the edge's time");
        },
        as_duration(now), shed - shed_seen_);
    shed_seen_ = shed;
  }
  AcceptedInitial initial{};
  if (ngtcp2_accept(&initial.header, data, len) != 0) {  // not a client's first Initial
    send_reset(from, data, len, now);
    return nullptr;
  }
  const ngtcp2_pkt_hd& hd = initial.header;
  if (ready_.size() >= max_ready) {
    // The application is not taking connections: a handshake now would
    // only be thrown away.
    ++counters_.ready_full;
    counters_.unvalidated_received += len;
    note(
        "ready_full",
        [] { return "new clients dropped: " + std::to_string(max_ready) + " connections wait to be accepted"; },
        as_duration(now));
    return nullptr;
  }
  std::uint8_t packet[AddressValidator::max_reply];
  if (AddressValidator::has_retry_token(hd)) {
    initial.original_dcid = validator_.verify(hd, from, now);
    if (!initial.original_dcid) {
      ++counters_.invalid_tokens;
      counters_.unvalidated_received += len;
      note(
          "invalid_token",
          [&] {
            return "Initials with a Retry token that is not valid for their address (last from " +
                   from.address().to_string() + ")";
          },
          as_duration(now));
      reply(from, packet, AddressValidator::write_invalid_token_close(packet, hd));
      return nullptr;
    }
  }
  bool validated = initial.original_dcid.has_value();
  auto verdict = guard_.on_initial(from.address(), validated, as_duration(now));
  if (verdict != InitialVerdict::accept) {
    if (!validated) counters_.unvalidated_received += len;
    // Rationed only while the edge looks flooded: with retry = "always" and
    // ordinary traffic every client gets its Retry.
    bool flooded = guard_.initial_rate(as_duration(now)) > static_cast<double>(guard_.limits().retry_above_rate);
    if (verdict == InitialVerdict::retry && flooded && !retry_limiter_.allow(from.address(), as_duration(now))) {
      ++counters_.retries_limited;
      note(
          "retry_limit",
          [&] {
            return "Initials dropped without a Retry: their source had used its Retry budget (last from " +
                   from.address().to_string() + ")";
          },
          as_duration(now));
    } else if (verdict == InitialVerdict::retry) {
      note(
          "retry",
          [&] {
            return "new clients asked to validate their address with a Retry (" +
                   per_second(guard_.initial_rate(as_duration(now))) + " new Initials/s, " +
                   std::to_string(guard_.pending_unvalidated()) + " unvalidated handshakes in progress)";
          },
          as_duration(now));
      reply(from, packet, validator_.write_retry(packet, hd, from, now));
    } else if (verdict == InitialVerdict::global_cap) {
      note(
          "global_cap",
          [&] { return "new clients dropped: " + std::to_string(guard_.pending()) + " handshakes in progress"; },
          as_duration(now));
    } else {
      note(
          "source_cap",
          [&] {
            return "new clients dropped: " + std::to_string(guard_.limits().max_handshakes_per_source) +
                   " handshakes in progress from one source (last " + from.address().to_string() + ")";
          },
          as_duration(now));
    }
    return nullptr;
  }
  std::string why;
  auto connection = QuicConnection::accept(endpoint_, from, initial, credentials_, reset_, limits_, logger_, why);
  if (!connection) {
    guard_.handshake_ended(from.address(), validated);
    logger_.warn("cannot accept a QUIC connection from " + from.address().to_string() + ": " + why);
    return nullptr;
  }
  QuicConnection* key = connection.get();
  handshaking_.emplace(key, Pending{connection, from.address(), validated});
  connection->start([weak_queue = weak_from_this(), key](const sdk::error_code& ec) {
    if (auto queue = weak_queue.lock()) queue->on_handshake(key, ec);
  });
  return connection;
}

void AcceptQueue::reply(const udp::endpoint& to, const std::uint8_t* packet, std::size_t len) {
  if (len == 0) return;
  counters_.retry_bytes += len;
  counters_.unvalidated_sent += len;
  endpoint_->send(to, packet, len, len);
}

void AcceptQueue::send_reset(const udp::endpoint& to, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now) {
  // Only a short header names a connection we might have had (a long one
  // is a handshake packet, which a reset must not answer: §10.3).
  if (!reset_ || (data[0] & 0x80) != 0 || len < StatelessReset::min_trigger(cid_length)) return;
  if (!reset_limiter_.allow(to.address(), as_duration(now))) {
    ++counters_.resets_limited;
    note(
        "stateless_reset_limit",
        [&] {
          return "stateless resets not sent: over their budget (last to " + to.address().to_string() + ")";
        },
        as_duration(now));
    return;
  }
  ngtcp2_cid dcid;
  ngtcp2_cid_init(&dcid, data + 1, cid_length);
  std::uint8_t packet[StatelessReset::max_size];
  std::size_t n = reset_->write(packet, len, dcid);
  if (n == 0) return;
  ++counters_.resets_sent;
  counters_.reset_bytes += n;
  endpoint_->send(to, packet, n, n);
}

void AcceptQueue::note(const char* defence, const std::function<std::string()>& detail, std::chrono::nanoseconds now,
                       std::uint64_t count) {
  if (auto times = defence_log_.fired(defence, now, count))
    logger_.warn("QUIC listener defence '" + std::string(defence) + "' fired " + std::to_string(*times) +
                 " times since its last report: " + detail());
}

void AcceptQueue::on_handshake(QuicConnection* key, const sdk::error_code& ec) {
  auto it = handshaking_.find(key);
  if (it == handshaking_.end()) return;
  Pending pending = std::move(it->second);
  handshaking_.erase(it);
  guard_.handshake_ended(pending.source, pending.validated);
  auto connection = pending.connection.lock();
  if (connection && !pending.validated) {
    auto traffic = connection->handshake_traffic();
    counters_.unvalidated_sent += traffic.sent;
    counters_.unvalidated_received += traffic.received;
  }
  if (ec || !connection) {
    ++counters_.handshakes_failed;
    logger_.debug("QUIC handshake failed: " + ec.message());
    return;
  }
  ++counters_.handshakes_completed;
  if (closed_) return;
  if (waiting_) {
    complete_if_pending(
        executor_, waiting_, sdk::error_code(),
        sdk::ConnectionPtr(std::make_unique<sdk::ConnectionHandle<QuicConnection>>(std::move(connection))));
  } else {
    ready_.push_back(std::move(connection));
  }
}

AcceptCounters AcceptQueue::counters_now() const {
  AcceptCounters now = counters_;
  for (const auto& [key, pending] : handshaking_) {
    if (pending.validated) continue;
    if (auto connection = pending.connection.lock()) {
      auto traffic = connection->handshake_traffic();
      now.unvalidated_sent += traffic.sent;
      now.unvalidated_received += traffic.received;
    }
  }
  return now;
}

void AcceptQueue::async_accept(sdk::ConnectionHandler handler) {
  const auto& executor = executor_;
  if (!ready_.empty()) {
    sdk::ConnectionPtr connection = std::make_unique<sdk::ConnectionHandle<QuicConnection>>(std::move(ready_.front()));
    ready_.pop_front();
    complete_later(executor, std::move(handler), sdk::error_code(), std::move(connection));
  } else if (closed_) {
    complete_later(executor, std::move(handler), boost::asio::error::operation_aborted, sdk::ConnectionPtr());
  } else if (waiting_) {
    complete_later(executor, std::move(handler), boost::asio::error::in_progress, sdk::ConnectionPtr());
  } else {
    store_handler(waiting_, std::move(handler));
  }
}

void AcceptQueue::close() {
  if (closed_) return;
  closed_ = true;
  shed_at_close_ = endpoint_->unrouted_shed();
  endpoint_->set_acceptor(nullptr);
  auto handshaking = std::move(handshaking_);
  handshaking_.clear();
  for (auto& [key, pending] : handshaking)
    if (auto connection = pending.connection.lock()) connection->close(boost::asio::error::operation_aborted);
  for (auto& connection : ready_) connection->close(boost::asio::error::operation_aborted);
  ready_.clear();
  complete_if_pending(executor_, waiting_, boost::asio::error::operation_aborted, sdk::ConnectionPtr());
  // Accepted connections keep the socket; with none left, the port is free.
  endpoint_.reset();
}

}  // namespace warren::quic
