#include "discovery/dns-srv/srv_discovery_engine.hpp"

#include <warren/sdk/endpoint.hpp>

#include <algorithm>

namespace warren::dns_srv {
namespace {

bool by_target(const ResolvedTarget& a, const ResolvedTarget& b) {
  return std::tie(a.srv.target, a.srv.port, a.srv.priority, a.srv.weight) <
         std::tie(b.srv.target, b.srv.port, b.srv.priority, b.srv.weight);
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

std::string edges_text(const std::vector<ResolvedTarget>& targets) {
  std::vector<std::string> parts;
  for (const auto& t : targets) {
    std::vector<std::string> addresses;
    for (const auto& a : t.addresses) addresses.push_back(a.to_string());
    parts.push_back(sdk::format_host_port(t.srv.target, t.srv.port) + " (priority " + std::to_string(t.srv.priority) +
                    ", weight " + std::to_string(t.srv.weight) + ": " + join(addresses, ", ") + ")");
  }
  return join(parts, "; ");
}

}  // namespace

SrvDiscoveryEngine::SrvDiscoveryEngine(std::vector<std::string> names, CacheLimits limits, std::string resolver,
                                       bool has_fallback)
    : resolver_(std::move(resolver)), has_fallback_(has_fallback), limits_(limits) {
  for (auto& n : names) names_.push_back(NameState{std::move(n), AnswerCache(limits), {}, {}, {}, {}, {}});
}

std::vector<std::size_t> SrvDiscoveryEngine::names_to_look_up(sdk::TimePoint now) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i].cache.freshness(now) != Freshness::fresh) out.push_back(i);
  return out;
}

void SrvDiscoveryEngine::warn_once(NameState& state, std::string text) {
  if (text == state.last_warning) return;
  log_.push_back({sdk::LogLevel::warn, text});
  state.last_warning = std::move(text);
}

void SrvDiscoveryEngine::handle_lookup(std::size_t index, NameLookup lookup, sdk::TimePoint now) {
  NameState& state = names_[index];
  state.partial.clear();
  const std::string at = " at resolver " + resolver_;
  switch (lookup.outcome) {
    case Outcome::could_not_ask:
      state.round = Outcome::could_not_ask;
      state.round_detail = state.name + ": no answer from resolver " + resolver_ + " (" + lookup.detail + ")";
      return;
    case Outcome::no_records:
      // The DNS says the name has no edges: its old answer must not be served.
      state.cache.forget();
      state.round = Outcome::no_records;
      state.round_detail = state.name + ": no SRV records" + at + " (" + lookup.detail + ")";
      return;
    case Outcome::answered: answered(state, lookup, now); return;
  }
}

void SrvDiscoveryEngine::answered(NameState& state, NameLookup& lookup, sdk::TimePoint now) {
  const std::string at = " at resolver " + resolver_;
  std::vector<ResolvedTarget> resolved;
  std::vector<std::string> skipped, unasked;
  sdk::Duration ttl = lookup.srv_ttl;
  for (auto& target : lookup.targets) {
    if (target.outcome == Outcome::answered && !target.addresses.empty()) {
      ttl = std::min(ttl, target.ttl);
      resolved.push_back({std::move(target.srv), std::move(target.addresses)});
    } else if (target.outcome == Outcome::could_not_ask) {
      unasked.push_back(target.srv.target + " (" + target.detail + ")");
    } else {
      skipped.push_back(target.srv.target + " (" + target.detail + ")");
    }
  }
  std::sort(resolved.begin(), resolved.end(), by_target);  // DNS order varies; ours must not
  std::string skipped_text =
      skipped.empty() ? "" : state.name + ": skipped targets with no address" + at + ": " + join(skipped, ", ");
  if (!unasked.empty()) {
    // Part of the answer is unknown: keep the last good one if there is one.
    state.round = Outcome::could_not_ask;
    state.round_detail = state.name + ": no answer from resolver " + resolver_ + " for targets " + join(unasked, ", ");
    state.partial = std::move(resolved);
    return;
  }
  if (resolved.empty()) {
    state.cache.forget();
    state.round = Outcome::no_records;
    state.round_detail =
        lookup.targets.empty() ? state.name + ": the SRV answer" + at + " lists no target" : skipped_text;
    return;
  }
  auto applied = state.cache.store(resolved, ttl, now);
  state.round = Outcome::answered;
  state.round_detail.clear();
  if (!skipped_text.empty()) {
    warn_once(state, skipped_text);
  } else {
    state.last_warning.clear();  // every problem is over: say the next one again
  }
  auto level = resolved == state.last_told ? sdk::LogLevel::debug : sdk::LogLevel::info;
  log_.push_back({level, state.name + ": " + std::to_string(resolved.size()) + " target(s) from resolver " + resolver_ +
                             ", fresh for " + sdk::human_duration(applied) + ": " + edges_text(resolved)});
  state.last_told = std::move(resolved);
}

const std::vector<ResolvedTarget>* SrvDiscoveryEngine::serve(NameState& state, sdk::TimePoint now) {
  const auto* usable = state.cache.usable(now);
  if (state.round != Outcome::could_not_ask) return usable;
  if (usable) {
    auto ago = now - *state.cache.fetched_at();
    auto left = state.cache.stale_until() - now;
    // One warning per failure: the text names the failure, not the clock.
    if (state.last_warning != state.round_detail) {
      log_.push_back({sdk::LogLevel::warn, state.round_detail + "; serving the answer from " +
                                               sdk::human_duration(ago) + " ago, for at most " +
                                               sdk::human_duration(left) + " more (max_stale)"});
      state.last_warning = state.round_detail;
    }
    return usable;
  }
  if (state.cache.freshness(now) == Freshness::expired)
    state.round_detail +=
        "; the last answer is more than max_stale (" + sdk::human_duration(limits_.max_stale) + ") past its TTL";
  if (!state.partial.empty()) {
    warn_once(state, state.round_detail + "; using the targets that did resolve");
    return &state.partial;
  }
  return nullptr;
}

std::vector<sdk::EdgeAddress> SrvDiscoveryEngine::edges_of(const NameState& state,
                                                           const std::vector<ResolvedTarget>& targets,
                                                           sdk::RandomSource& random) const {
  std::vector<SrvRecord> records;
  for (const auto& t : targets) records.push_back(t.srv);
  std::vector<sdk::EdgeAddress> out;
  for (auto i : rfc2782_order(records, random)) {
    for (const auto& address : targets[i].addresses) {
      sdk::EdgeAddress e;
      e.address = address;
      e.port = targets[i].srv.port;
      e.host = targets[i].srv.target;
      e.region = state.name;
      e.priority = targets[i].srv.priority;
      e.weight = targets[i].srv.weight;
      out.push_back(std::move(e));
    }
  }
  return out;
}

ResolveResult SrvDiscoveryEngine::result(sdk::TimePoint now, sdk::RandomSource& random) {
  std::vector<std::vector<sdk::EdgeAddress>> per_name;
  std::vector<std::string> why;
  std::vector<NameState*> empty_handed;
  bool could_not_ask = false;
  for (auto& state : names_) {
    if (const auto* targets = serve(state, now)) {
      per_name.push_back(edges_of(state, *targets, random));
    } else {
      could_not_ask = could_not_ask || state.round == Outcome::could_not_ask;
      why.push_back(state.round_detail.empty() ? state.name + ": no answer" : state.round_detail);
      empty_handed.push_back(&state);
    }
    state.round.reset();
    state.round_detail.clear();
    state.partial.clear();
  }
  // Round-robin over names: the first edges of a list are in distinct regions.
  ResolveResult out;
  for (std::size_t rank = 0;; ++rank) {
    bool any = false;
    for (const auto& edges : per_name) {
      if (rank >= edges.size()) continue;
      out.edges.push_back(edges[rank]);
      any = true;
    }
    if (!any) break;
  }
  if (!out.edges.empty()) {
    // The other names carry on; say once what is wrong with these.
    for (std::size_t i = 0; i < empty_handed.size(); ++i) warn_once(*empty_handed[i], why[i]);
    last_empty_.clear();
    return out;
  }
  out.error = sdk::make_error_code(could_not_ask ? sdk::errc::discovery_failed : sdk::errc::no_edges);
  out.why = join(why, "; ");
  out.use_fallback = has_fallback_;
  auto text = "no edges from DNS (" + std::string(sdk::name(out.error)) + "): " + out.why +
              (has_fallback_ ? "; trying the fallback list" : "");
  log_.push_back({text == last_empty_ ? sdk::LogLevel::debug : sdk::LogLevel::warn, text});
  last_empty_ = std::move(text);
  return out;
}

ResolveResult SrvDiscoveryEngine::fallback_result(const ResolveResult& dns, const std::vector<TargetLookup>& fallback) {
  ResolveResult out;
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < fallback.size(); ++i) {
    const auto& f = fallback[i];
    if (f.addresses.empty()) failed.push_back(sdk::format_host_port(f.srv.target, f.srv.port) + " (" + f.detail + ")");
    for (const auto& address : f.addresses) {
      sdk::EdgeAddress e;
      e.address = address;
      e.port = f.srv.port;
      e.host = f.srv.target;
      e.region = kFallbackRegion;
      e.priority = static_cast<std::uint16_t>(i);  // the list's order is the preference
      out.edges.push_back(std::move(e));
    }
  }
  if (!failed.empty()) log_.push_back({sdk::LogLevel::warn, "fallback entries with no address: " + join(failed, ", ")});
  if (out.edges.empty()) {
    out.error = dns.error;
    out.why = dns.why + "; no fallback entry resolved";
  }
  return out;
}

std::vector<LogLine> SrvDiscoveryEngine::take_log() {
  std::vector<LogLine> out;
  out.swap(log_);
  return out;
}

}  // namespace warren::dns_srv
