#include "discovery/dns-srv/answer_cache.hpp"

#include <algorithm>

namespace warren::dns_srv {

const char* to_string(Freshness f) {
  switch (f) {
    case Freshness::none: return "none";
    case Freshness::fresh: return "fresh";
    case Freshness::stale: return "stale";
    case Freshness::expired: return "expired";
  }
  return "unknown";
}

sdk::Duration AnswerCache::store(std::vector<ResolvedTarget> targets, sdk::Duration ttl, sdk::TimePoint now) {
  ttl = std::clamp(ttl, limits_.min_ttl, limits_.max_ttl);
  answer_ = Stored{std::move(targets), now, now + ttl};
  return ttl;
}

Freshness AnswerCache::freshness(sdk::TimePoint now) const {
  if (!answer_) return Freshness::none;
  if (now < answer_->expires_at) return Freshness::fresh;
  if (now < stale_until()) return Freshness::stale;
  return Freshness::expired;
}

const std::vector<ResolvedTarget>* AnswerCache::usable(sdk::TimePoint now) const {
  auto f = freshness(now);
  return f == Freshness::fresh || f == Freshness::stale ? &answer_->targets : nullptr;
}

std::optional<sdk::TimePoint> AnswerCache::fetched_at() const {
  if (!answer_) return std::nullopt;
  return answer_->fetched_at;
}

}  // namespace warren::dns_srv
