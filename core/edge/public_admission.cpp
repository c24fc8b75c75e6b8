#include "core/edge/public_admission.hpp"

#include <algorithm>
#include <cstring>

namespace warren::core {

std::string_view refusal_name(PublicRefusal reason) {
  switch (reason) {
    case PublicRefusal::none: return "none";
    case PublicRefusal::source_limit: return "source_limit";
    case PublicRefusal::source_rate: return "source_rate";
    case PublicRefusal::tunnel_limit: return "tunnel_limit";
    case PublicRefusal::total_limit: return "total_limit";
    case PublicRefusal::no_live_leg: return "no_live_leg";
  }
  return "unknown";
}

std::string refusal_sentence(PublicRefusal reason, const PublicLimits& limits) {
  auto n = [](std::uint32_t v) { return std::to_string(v); };
  switch (reason) {
    case PublicRefusal::none: return "admitted";
    case PublicRefusal::source_limit:
      return "this source already holds " + n(limits.max_connections_per_source) +
             " connections (max_connections_per_source)";
    case PublicRefusal::source_rate:
      return "this source opens connections faster than " + n(limits.max_connection_rate_per_source) +
             "/s (max_connection_rate_per_source, burst " + n(limits.connection_burst_per_source) + ")";
    case PublicRefusal::tunnel_limit:
      return "the tunnel has " + n(limits.max_streams_per_tunnel) + " streams open (max_streams_per_tunnel)";
    case PublicRefusal::total_limit:
      return "the edge has " + n(limits.max_streams_total) + " streams open (max_streams_total)";
    case PublicRefusal::no_live_leg: return "no live connector leg can take the stream";
  }
  return "unknown reason";
}

SourceKey SourceKey::of(const boost::asio::ip::address& address) {
  SourceKey key;
  if (address.is_v6() && !address.to_v6().is_v4_mapped()) {
    auto bytes = address.to_v6().to_bytes();
    std::memcpy(key.bytes_.data(), bytes.data(), 8);  // the /64
    key.v6_ = true;
  } else {
    auto v4 = address.is_v4() ? address.to_v4()
                              : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
    auto bytes = v4.to_bytes();
    std::memcpy(key.bytes_.data(), bytes.data(), 4);
  }
  return key;
}

std::string SourceKey::to_string() const {
  if (!v6_) return boost::asio::ip::address_v4({bytes_[0], bytes_[1], bytes_[2], bytes_[3]}).to_string();
  boost::asio::ip::address_v6::bytes_type full{};
  std::memcpy(full.data(), bytes_.data(), 8);
  return boost::asio::ip::address_v6(full).to_string() + "/64";
}

std::size_t SourceKey::hash() const {
  std::uint64_t v;
  std::memcpy(&v, bytes_.data(), 8);
  return std::hash<std::uint64_t>{}(v ^ (v6_ ? 0x9e3779b97f4a7c15ULL : 0));
}

PublicAdmission::Source& PublicAdmission::source_at(const SourceKey& key, sdk::TimePoint now) {
  auto [it, fresh] = sources_.try_emplace(key);
  if (fresh) {
    it->second.tokens = limits_.connection_burst_per_source;
    it->second.refilled = now;
  }
  return it->second;
}

bool PublicAdmission::take_token(Source& source, sdk::TimePoint now) const {
  if (now > source.refilled) {
    double seconds = std::chrono::duration<double>(now - source.refilled).count();
    source.tokens = std::min<double>(limits_.connection_burst_per_source,
                                     source.tokens + seconds * limits_.max_connection_rate_per_source);
    source.refilled = now;
  }
  if (source.tokens < 1) return false;
  source.tokens -= 1;
  return true;
}

AdmissionDecision PublicAdmission::admit(const SourceKey& key, const std::string& tunnel, sdk::TimePoint now) {
  sweep(now);
  auto& source = source_at(key, now);
  if (!take_token(source, now)) return refused(source, PublicRefusal::source_rate, now);
  if (source.connections >= limits_.max_connections_per_source)
    return refused(source, PublicRefusal::source_limit, now);
  auto& streams = tunnel_streams_[tunnel];
  if (streams >= limits_.max_streams_per_tunnel) return refused(source, PublicRefusal::tunnel_limit, now);
  if (streams_total_ >= limits_.max_streams_total) return refused(source, PublicRefusal::total_limit, now);
  ++source.connections;
  ++streams;
  ++streams_total_;
  return {};
}

void PublicAdmission::release(const SourceKey& key, const std::string& tunnel) {
  if (auto it = sources_.find(key); it != sources_.end() && it->second.connections > 0) --it->second.connections;
  if (auto it = tunnel_streams_.find(tunnel); it != tunnel_streams_.end()) {
    if (it->second > 0) --it->second;
    if (it->second == 0) tunnel_streams_.erase(it);
  }
  if (streams_total_ > 0) --streams_total_;
}

AdmissionDecision PublicAdmission::refuse_admitted(const SourceKey& key, const std::string& tunnel,
                                                   PublicRefusal reason, sdk::TimePoint now) {
  release(key, tunnel);
  return refused(source_at(key, now), reason, now);
}

std::uint32_t PublicAdmission::connections_of(const SourceKey& key) const {
  auto it = sources_.find(key);
  return it == sources_.end() ? 0 : it->second.connections;
}

AdmissionDecision PublicAdmission::refused(Source& source, PublicRefusal reason, sdk::TimePoint now) {
  AdmissionDecision decision{reason, false, 0};
  if (!source.logged || now - *source.logged >= limits_.log_interval) {
    decision.log = true;
    decision.suppressed = source.suppressed;
    source.suppressed = 0;
    source.logged = now;
  } else {
    ++source.suppressed;
  }
  return decision;
}

void PublicAdmission::sweep(sdk::TimePoint now) {
  // Once a second: forget sources that hold nothing, whose bucket is full
  // again and whose log interval is over. What is left is bounded by the
  // sources seen in the last few seconds plus those holding connections.
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  auto refill_time = std::chrono::duration<double>(double(limits_.connection_burst_per_source) /
                                                   std::max<std::uint32_t>(limits_.max_connection_rate_per_source, 1));
  for (auto it = sources_.begin(); it != sources_.end();) {
    const auto& s = it->second;
    bool full = s.tokens >= limits_.connection_burst_per_source ||
                std::chrono::duration<double>(now - s.refilled) >= refill_time;
    bool quiet = !s.logged || now - *s.logged >= limits_.log_interval;
    if (s.connections == 0 && full && quiet) it = sources_.erase(it);
    else ++it;
  }
}

}  // namespace warren::core
