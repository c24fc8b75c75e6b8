#pragma once
// The `dns-srv` discovery: the Asio shell around SrvDiscoveryEngine. Each
// resolve asks c-ares (CaresChannel, on the plugin's executor) for the SRV
// names without a fresh answer, then A/AAAA for every target, feeds the
// outcomes to the engine, and completes every waiting caller with its
// result; when DNS gives nothing it resolves the fallback list instead.
// Concurrent resolves share one round of queries.

#include "discovery/dns-srv/cares_channel.hpp"
#include "discovery/dns-srv/dns_srv_config.hpp"
#include "discovery/dns-srv/srv_discovery_engine.hpp"

#include <warren/sdk/discovery.hpp>
#include <warren/sdk/random.hpp>

#include <memory>

namespace warren::dns_srv {

class DnsSrvDiscovery final : public sdk::Discovery, public sdk::DiscoveryFailureDetail {
 public:
  /// Throws std::runtime_error when c-ares cannot start (the factory turns
  /// it into a config diagnostic). `random` orders equal-priority records.
  DnsSrvDiscovery(const DnsSrvConfig& config, sdk::PluginContext& context, std::unique_ptr<sdk::RandomSource> random);
  ~DnsSrvDiscovery() override;
  /// Every name, what went wrong and which resolver, from the last failed round.
  std::string last_failure() const override;

 private:
  struct State;
  void async_resolve_impl(sdk::ResolveHandler handler) override;

  std::shared_ptr<State> state_;  ///< shared with in-flight callbacks, which hold it weakly
};

}  // namespace warren::dns_srv
