#pragma once
// What a connector's config means for its sans-io supervisor.

#include "core/config/connector_config.hpp"
#include "core/supervisor/supervisor_config.hpp"

namespace warren::core {

/// The supervisor's settings for `config` (`no_reconnect`: --no-reconnect).
supervisor::SupervisorConfig supervisor_config(const ConnectorConfig& config, bool no_reconnect);

}  // namespace warren::core
