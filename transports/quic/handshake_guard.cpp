#include "handshake_guard.hpp"

#include <algorithm>
#include <string_view>

namespace warren::quic {

const char* verdict_name(InitialVerdict verdict) {
  switch (verdict) {
    case InitialVerdict::accept: return "accept";
    case InitialVerdict::retry: return "retry";
    case InitialVerdict::global_cap: return "global_cap";
    case InitialVerdict::source_cap: return "source_cap";
  }
  return "unknown";
}

SourceKey SourceKey::of(const boost::asio::ip::address& address) {
  SourceKey key;
  if (address.is_v6() && !address.to_v6().is_v4_mapped()) {
    auto bytes = address.to_v6().to_bytes();
    key.bytes[0] = 6;
    std::copy_n(bytes.begin(), 8, key.bytes.begin() + 1);  // the /64
  } else {
    auto v4 = address.is_v6() ? boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
                              : address.to_v4();
    auto bytes = v4.to_bytes();
    key.bytes[0] = 4;
    std::copy(bytes.begin(), bytes.end(), key.bytes.begin() + 1);
  }
  return key;
}

std::size_t SourceKeyHash::operator()(const SourceKey& key) const noexcept {
  return std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()));
}

void RateEstimator::advance(std::chrono::nanoseconds now) {
  if (now < start_ + window_) return;
  // One window later the current count becomes the previous one; more than
  // one later, both are history.
  previous_ = now < start_ + 2 * window_ ? current_ : 0;
  current_ = 0;
  start_ = now - (now - start_) % window_;
}

void RateEstimator::add(std::chrono::nanoseconds now) {
  advance(now);
  current_ += 1;
}

double RateEstimator::per_second(std::chrono::nanoseconds now) const {
  RateEstimator copy = *this;
  copy.advance(now);
  double covered = 1.0 - static_cast<double>((now - copy.start_).count()) / static_cast<double>(window_.count());
  double events = copy.previous_ * std::clamp(covered, 0.0, 1.0) + copy.current_;
  return events * (static_cast<double>(std::chrono::nanoseconds(std::chrono::seconds(1)).count()) /
                   static_cast<double>(window_.count()));
}

bool HandshakeGuard::wants_retry(std::size_t from_source, std::chrono::nanoseconds now) const {
  switch (limits_.retry) {
    case RetryMode::always: return true;
    case RetryMode::never: return false;
    case RetryMode::automatic:
      // A source at its cap is asked to prove itself rather than dropped: a
      // spoofer cannot answer, a busy NAT can.
      return rate_.per_second(now) > static_cast<double>(limits_.retry_above_rate) ||
             pending_unvalidated_ >= limits_.retry_above_pending || from_source >= limits_.max_handshakes_per_source;
  }
  return true;
}

InitialVerdict HandshakeGuard::on_initial(const boost::asio::ip::address& source, bool validated,
                                          std::chrono::nanoseconds now) {
  ++counters_.initials;
  if (!validated) rate_.add(now);
  auto key = SourceKey::of(source);
  auto it = per_source_.find(key);
  std::size_t from_source = it == per_source_.end() ? 0 : it->second;
  InitialVerdict verdict = InitialVerdict::accept;
  if (pending_ >= limits_.max_handshakes) {
    verdict = InitialVerdict::global_cap;
  } else if (!validated && wants_retry(from_source, now)) {
    verdict = InitialVerdict::retry;
  } else if (from_source >= limits_.max_handshakes_per_source) {
    verdict = InitialVerdict::source_cap;
  }
  switch (verdict) {
    case InitialVerdict::accept:
      ++counters_.accepted;
      ++pending_;
      if (!validated) ++pending_unvalidated_;
      ++per_source_[key];
      break;
    case InitialVerdict::retry: ++counters_.retried; break;
    case InitialVerdict::global_cap: ++counters_.global_cap; break;
    case InitialVerdict::source_cap: ++counters_.source_cap; break;
  }
  return verdict;
}

void HandshakeGuard::handshake_ended(const boost::asio::ip::address& source, bool validated) {
  if (pending_ > 0) --pending_;
  if (!validated && pending_unvalidated_ > 0) --pending_unvalidated_;
  auto it = per_source_.find(SourceKey::of(source));
  if (it != per_source_.end() && --it->second == 0) per_source_.erase(it);
}

}  // namespace warren::quic
