// How a public connection reaches the connector: admission, a leg from the
// registry, a stream on it, and re-dispatch to another leg (another replica
// first) while the connector has not answered the stream.
#include "core/edge/edge_leg.hpp"
#include "core/edge/edge_server.hpp"
#include "core/log/logging.hpp"
#include "core/protocol/frame_encoder.hpp"

#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/socket_stream.hpp>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <set>

namespace warren::core {

using boost::asio::ip::tcp;

namespace {

/// What the client sent already (most clients speak first: an HTTP request,
/// a TLS ClientHello), read without waiting. It goes out with the stream
/// header in the first write on the data stream: one packet, and the
/// connector has the request as soon as its backend is connected. Without
/// this the splice reads it one loop pass later, after the header left alone.
std::vector<std::uint8_t> read_waiting_bytes(tcp::socket& client) {
  constexpr std::size_t first_read = 2048;  // the splice's first buffer is as large
  boost::system::error_code ec;
  client.non_blocking(true, ec);  // async operations are unaffected; sync ones must not block the loop
  if (ec) return {};
  std::vector<std::uint8_t> bytes(first_read);
  std::size_t n = client.read_some(boost::asio::buffer(bytes), ec);
  // would_block: nothing yet; an end or an error: the splice's own read meets it again.
  if (ec || n == 0) return {};
  bytes.resize(n);
  return bytes;
}

}  // namespace

void EdgeServer::refuse(tcp::socket& client, const std::string& tunnel_id, const SourceKey& source,
                        const AdmissionDecision& decision) {
  ++metrics_.streams_refused;
  ++metrics_.public_refused[std::string(refusal_name(decision.refusal))];
  if (decision.log) {
    auto more = decision.suppressed
                    ? fmt::format(" ({} more from this source since its last line)", decision.suppressed)
                    : std::string();
    tunnel_log(tunnel_id).info("refused a public connection from {}: {}{}", source.to_string(),
                               refusal_sentence(decision.refusal, admission_.limits()), more);
  }
  // RST at once: the client learns now, and no TIME_WAIT or FIN_WAIT state stays here.
  boost::system::error_code ignored;
  client.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  client.close(ignored);
}

void EdgeServer::forward(const std::string& tunnel_id, AcceptedClient accepted) {
  auto now = sdk::Clock::now();
  auto& client = accepted.socket;
  const auto& peer = accepted.peer;
  const auto& local = accepted.local;
  auto source = SourceKey::of(peer.address());
  auto decision = admission_.admit(source, tunnel_id, now);
  if (!decision.admitted()) return refuse(client, tunnel_id, source, decision);
  protocol::StreamHeader header{sdk::format_host_port(peer.address().to_string(), peer.port()),
                                sdk::format_host_port(local.address().to_string(), local.port()),
                                protocol::StreamKind::tcp};
  // Encoded once: every attempt writes the same bytes, ahead of the client's.
  std::string encode_problem;
  auto encoded = protocol::encode(header, &encode_problem);
  if (!encoded) {
    // Socket addresses always fit a header; this guards against the encoder's rules changing.
    tunnel_log(tunnel_id).error("cannot encode the stream header of {}: {}", header.client_address, encode_problem);
    admission_.release(source, tunnel_id);
    return;  // the client's socket closes here
  }
  auto header_bytes = std::make_shared<const protocol::FrameBytes>(std::move(*encoded));
  auto leg = registry_.open_stream(tunnel_id, now);
  if (!leg || !legs_.count(*leg)) {
    if (leg) registry_.close_stream(tunnel_id);
    return refuse(client, tunnel_id, source,
                  admission_.refuse_admitted(source, tunnel_id, PublicRefusal::no_live_leg, now));
  }
  ++metrics_.streams_total;
  ++metrics_.streams_active;
  auto first = read_waiting_bytes(client);
  auto public_side = std::make_unique<sdk::SocketStream<tcp::socket>>(std::move(client));
  auto id = next_forwarded_++;
  auto tracker = std::make_shared<SpliceTracker>();
  auto connectors_tried = std::make_shared<std::set<std::string>>();
  connectors_tried->insert(registry_.connector_of(*leg));
  ReplayHooks hooks;
  hooks.reopen = [this, tunnel_id, header_bytes, connectors_tried](const std::set<LegId>& tried, DispatchHandler done) {
    redispatch(tunnel_id, header_bytes, tried, *connectors_tried, std::move(done));
  };
  hooks.replaying = [this, tunnel_id, client = header.client_address](LegId from, sdk::error_code why,
                                                                      unsigned attempt) {
    ++metrics_.streams_redispatched;
    tunnel_log(tunnel_id).debug("the stream of {} on leg {} ended unanswered ({}); attempt {} on another leg", client,
                                from, sdk::name(why), attempt);
  };
  hooks.refused = [this](sdk::errc code) { ++metrics_.stream_refusals[std::string(sdk::name(code))]; };
  hooks.gave_up = [this, tunnel_id, client = header.client_address, tracker](sdk::error_code why) {
    ++metrics_.streams_unanswered;
    tunnel_log(tunnel_id).debug("no leg answered the stream of {} ({}); resetting the client", client, sdk::name(why));
    tracker->abort_all(why);
  };
  auto tunnel_side = std::make_unique<ReplayableStream>(io_.get_executor(), ReplayLimits{}, now, std::move(hooks));
  auto core = tunnel_side->core();
  forwarded_[id] = Forwarded{core, tracker};
  SpliceOptions options;
  options.tracker = tracker.get();
  options.budget = buffer_budget_;
  options.idle_timeout = config_.edge.public_idle_timeout;
  options.bytes = metrics_.bytes_for(tunnel_id);  // counted per write: /metrics sees a long transfer grow
  splice(
      std::move(public_side), std::move(tunnel_side), std::move(first),
      [this, tunnel_id, source, id](const SpliceResult& r) {
        if (r.error == sdk::errc::idle_timeout) ++metrics_.public_idle_closed;
        forwarded_.erase(id);
        registry_.close_stream(tunnel_id);
        admission_.release(source, tunnel_id);
        --metrics_.streams_active;
      },
      options);
  open_on_leg(*leg, header_bytes, [weak = std::weak_ptr(core)](sdk::error_code e, Dispatch d) {
    if (auto c = weak.lock()) c->dispatched(e, std::move(d));
  });
}

void EdgeServer::open_on_leg(LegId leg, const HeaderBytes& header, DispatchHandler done) {
  auto it = legs_.find(leg);
  if (it == legs_.end() || stopped_) {
    return boost::asio::post(io_, [leg, done = std::move(done)] {
      done(sdk::make_error_code(sdk::errc::peer_closed), Dispatch{leg, nullptr, false, {}});
    });
  }
  bool replies = it->second->stream_replies();
  it->second->open_data_stream(
      [this, leg, replies, header, done = std::move(done)](sdk::error_code e, sdk::ByteStreamPtr stream) {
        if (!e && !legs_.count(leg)) e = sdk::make_error_code(sdk::errc::peer_closed);  // the leg ended meanwhile
        if (e) {
          log().debug("cannot open a stream on leg {}: {}", leg, e.message());
          if (stream) stream->abort();
          return done(e, Dispatch{leg, nullptr, replies, {}});
        }
        done({}, Dispatch{leg, std::move(stream), replies, *header});
      });
}

void EdgeServer::redispatch(const std::string& tunnel_id, const HeaderBytes& header, const std::set<LegId>& tried,
                            std::set<std::string>& connectors_tried, DispatchHandler done) {
  auto leg = stopped_ ? std::nullopt : registry_.redispatch_leg(tunnel_id, sdk::Clock::now(), tried, connectors_tried);
  if (!leg || !legs_.count(*leg)) {
    return boost::asio::post(
        io_, [done = std::move(done)] { done(sdk::make_error_code(sdk::errc::peer_closed), Dispatch{}); });
  }
  connectors_tried.insert(registry_.connector_of(*leg));
  open_on_leg(*leg, header, std::move(done));
}

}  // namespace warren::core
