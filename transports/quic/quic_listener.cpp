#include "quic_listener.hpp"

#include "accept_queue.hpp"

namespace warren::quic {
namespace {

// A listener's socket buffer is what a flood of Initials fills while the
// loop is busy or descheduled; room for ~0.5 s of 20,000 Initials/s keeps
// a connector's Initial (and everyone's packets) from being dropped there.
constexpr int listener_receive_buffer = 24 << 20;

using Kind = sdk::ListenerMetric::Kind;

sdk::ListenerMetric metric(std::string name, std::string help, Kind kind, std::uint64_t value,
                           std::vector<std::pair<std::string, std::string>> labels = {}) {
  return {std::move(name), std::move(help), kind, std::move(labels), value};
}

}  // namespace

std::unique_ptr<QuicListener> QuicListener::create(std::shared_ptr<UdpEndpoint> endpoint,
                                                   std::shared_ptr<ServerCredentials> credentials,
                                                   StatelessReset::Ptr reset, const ConnectionLimits& limits,
                                                   const HandshakeLimits& handshake_limits, sdk::Logger& logger,
                                                   std::string& why) {
  auto queue = std::make_shared<AcceptQueue>(endpoint, std::move(credentials), std::move(reset), limits, handshake_limits, logger);
  if (!queue->init()) {
    why = "no random bytes for the Retry token secret";
    return nullptr;
  }
  endpoint->set_acceptor([weak = std::weak_ptr(queue)](const udp::endpoint& from, const std::uint8_t* data,
                                                       std::size_t len) -> std::shared_ptr<PacketSink> {
    auto q = weak.lock();
    return q ? q->accept(from, data, len) : nullptr;
  });
  endpoint->enlarge_receive_buffer(listener_receive_buffer);
  endpoint->start();
  return std::unique_ptr<QuicListener>(new QuicListener(std::move(queue), endpoint->local_endpoint().port()));
}

QuicListener::~QuicListener() { close(); }

void QuicListener::close() { queue_->close(); }

bool QuicListener::replace_certificate(const std::string& cert_pem, const std::string& key_pem, std::string& why) {
  auto credentials = ServerCredentials::load(cert_pem, key_pem, why);
  if (!credentials) return false;
  queue_->replace_credentials(std::move(credentials));
  return true;
}

void QuicListener::async_accept_impl(sdk::ConnectionHandler handler) { queue_->async_accept(std::move(handler)); }

sdk::ListenerStats QuicListener::stats() const {
  const auto& guard = queue_->guard();
  const auto& verdicts = guard.counters();
  auto counters = queue_->counters_now();
  const char* initials_help = "Client first Initial packets, by what the listener did with them.";
  return {
      metric("quic_initials_total", initials_help, Kind::counter, verdicts.accepted, {{"verdict", "accept"}}),
      metric("quic_initials_total", initials_help, Kind::counter, verdicts.retried - counters.retries_limited,
             {{"verdict", "retry"}}),
      metric("quic_initials_total", initials_help, Kind::counter, counters.retries_limited,
             {{"verdict", "retry_limited"}}),
      metric("quic_initials_total", initials_help, Kind::counter, verdicts.global_cap, {{"verdict", "global_cap"}}),
      metric("quic_initials_total", initials_help, Kind::counter, verdicts.source_cap, {{"verdict", "source_cap"}}),
      metric("quic_initials_total", initials_help, Kind::counter, counters.invalid_tokens,
             {{"verdict", "invalid_token"}}),
      metric("quic_initials_total", initials_help, Kind::counter, counters.ready_full, {{"verdict", "ready_full"}}),
      metric("quic_datagrams_shed_total",
             "Datagrams for no connection dropped unread: new clients had used their share of the loop's time.",
             Kind::counter, queue_->unrouted_shed()),
      metric("quic_retry_bytes_sent_total", "Bytes of stateless Retry and INVALID_TOKEN replies.", Kind::counter,
             counters.retry_bytes),
      metric("quic_unvalidated_bytes_total",
             "Bytes exchanged with addresses not yet validated (the 3x anti-amplification limit applies).",
             Kind::counter, counters.unvalidated_received, {{"direction", "received"}}),
      metric("quic_unvalidated_bytes_total",
             "Bytes exchanged with addresses not yet validated (the 3x anti-amplification limit applies).",
             Kind::counter, counters.unvalidated_sent, {{"direction", "sent"}}),
      metric("quic_stateless_resets_total",
             "Packets for no connection this edge knows (it restarted, or the connection is gone), by what it did.",
             Kind::counter, counters.resets_sent, {{"outcome", "sent"}}),
      metric("quic_stateless_resets_total",
             "Packets for no connection this edge knows (it restarted, or the connection is gone), by what it did.",
             Kind::counter, counters.resets_limited, {{"outcome", "rate_limited"}}),
      metric("quic_stateless_reset_bytes_sent_total", "Bytes of stateless resets sent.", Kind::counter,
             counters.reset_bytes),
      metric("quic_handshakes_total", "Server handshakes that ended, by outcome.", Kind::counter,
             counters.handshakes_completed, {{"outcome", "completed"}}),
      metric("quic_handshakes_total", "Server handshakes that ended, by outcome.", Kind::counter,
             counters.handshakes_failed, {{"outcome", "failed"}}),
      metric("quic_handshakes_pending", "Server handshakes in progress.", Kind::gauge, guard.pending()),
      metric("quic_handshakes_pending_unvalidated", "Server handshakes in progress from addresses not validated.",
             Kind::gauge, guard.pending_unvalidated()),
      metric("quic_handshake_sources", "Sources with a handshake in progress.", Kind::gauge, guard.sources()),
      metric("quic_connections_unaccepted", "Finished handshakes waiting for the application.", Kind::gauge,
             queue_->ready()),
  };
}

}  // namespace warren::quic
