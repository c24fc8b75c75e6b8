#pragma once
// The `group` backend's keys: its targets, how streams are spread over them,
// and how their health is judged. Flat keys (health_check_*), because a
// plugin's schema reads one table; docs/config.md lists them all.

#include "plugins/group/target_pool.hpp"

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/loopback.hpp>
#include <warren/sdk/time.hpp>

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <vector>

namespace warren::group {

using sdk::is_loopback;

enum class HealthCheck { none, tcp, http };

struct GroupConfig {
  std::vector<sdk::Endpoint> targets;  ///< required, 1..64, each at most once
  Balance balance = Balance::round_robin;
  bool allow_remote = false;
  sdk::Duration connect_timeout = std::chrono::seconds(5);  ///< one stream's deadline, a retry included
  bool nodelay = true;
  HealthCheck health_check = HealthCheck::tcp;
  sdk::Duration health_check_interval = std::chrono::seconds(1);
  sdk::Duration health_check_timeout = std::chrono::milliseconds(500);  ///< <= the interval
  unsigned rise = 2;
  unsigned fall = 2;
  std::string health_check_path = "/";  ///< http only: origin-form request target
  unsigned health_check_expect_status = 200;  ///< http only
  unsigned max_connect_failures = 3;  ///< 0: no passive ejection
  sdk::Duration ejection_time = std::chrono::seconds(10);
};

const sdk::ConfigSchema<GroupConfig>& group_schema();

/// Reads a group table: other proxies' spellings of `balance` first (with
/// the word to write instead, balance_name.hpp), then group_schema(). Every
/// problem found goes to `diagnostics`; nullopt when there is one.
std::optional<GroupConfig> read_group_config(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics);

/// The engine's settings for `config`.
PoolSettings pool_settings(const GroupConfig& config);

}  // namespace warren::group
