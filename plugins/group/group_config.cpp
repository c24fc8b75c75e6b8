#include "plugins/group/group_config.hpp"

#include "plugins/group/balance_name.hpp"

#include <warren/sdk/error.hpp>

namespace warren::group {

namespace asio = boost::asio;

const sdk::ConfigSchema<GroupConfig>& group_schema() {
  using namespace std::chrono_literals;
  using C = GroupConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("where the connector delivers each tunnelled stream: one of several TCP services, "
                           "balanced, with health checks")
          .endpoint_list("targets", &C::targets, "the services, host:port each; streams go to healthy ones only",
                         "target")
          .required()
          .choice("balance", &C::balance,
                  {{"round_robin", Balance::round_robin},
                   {"random", Balance::random},
                   {"least_connections", Balance::least_connections}},
                  "how streams are spread over healthy targets (least_connections: fewest open streams, round "
                  "robin among ties)")
          .boolean("allow_remote", &C::allow_remote, "allow targets that are not loopback addresses")
          .duration("connect_timeout", &C::connect_timeout,
                    "deadline for one stream's connect; a refused target is retried once on another healthy "
                    "target within it",
                    {.min = 1ms, .max = 5min})
          .boolean("nodelay", &C::nodelay, "disable Nagle's algorithm on target connections")
          .choice("health_check", &C::health_check,
                  {{"tcp", HealthCheck::tcp}, {"http", HealthCheck::http}, {"none", HealthCheck::none}},
                  "active check of each target: a TCP connect, an HTTP GET, or none (passive ejection only)")
          .duration("health_check_interval", &C::health_check_interval, "time between two checks of one target",
                    {.min = 10ms, .max = 1h})
          .duration("health_check_timeout", &C::health_check_timeout,
                    "a check that has not passed within this fails; at most the interval", {.min = 1ms, .max = 1h})
          .integer("rise", &C::rise, "consecutive passing checks that bring a down target back (HAProxy's rise)",
                   {.min = 1, .max = 100})
          .integer("fall", &C::fall, "consecutive failing checks that take a target down (HAProxy's fall)",
                   {.min = 1, .max = 100})
          .string("health_check_path", &C::health_check_path, "http checks: the path requested with GET")
          .integer("health_check_expect_status", &C::health_check_expect_status,
                   "http checks: the status a healthy target answers", {.min = 100, .max = 599})
          .integer("max_connect_failures", &C::max_connect_failures,
                   "consecutive failed connects that eject a target (Envoy's consecutive_local_origin_failure); "
                   "0: never",
                   {.min = 0, .max = 1000})
          .duration("ejection_time", &C::ejection_time,
                    "with health_check = \"none\": how long an ejected target is skipped (with checks, it comes "
                    "back after rise passing checks)",
                    {.min = 1ms, .max = 1h})
          .check([](const C& c, const sdk::CheckContext& at) {
            if (c.targets.empty()) at.error("targets", "a group needs at least one target");
            if (c.targets.size() > 64) at.error("targets", "a group takes at most 64 targets");
            if (!c.allow_remote)
              for (const auto& t : c.targets) {
                // A name (e.g. localhost) is resolved at connect time; only a literal can be judged here.
                sdk::error_code ec;
                auto literal = asio::ip::make_address(t.host, ec);
                if (!ec && !is_loopback(literal))
                  at.error("targets", "target " + t.to_string() +
                                          " is not a loopback address; tunnel clients would reach your network "
                                          "through it. Set allow_remote = true if that is intended");
              }
            if (c.health_check_timeout > c.health_check_interval)
              at.error("health_check_timeout", "health_check_timeout (" + sdk::format_duration(c.health_check_timeout) +
                                                   ") is longer than health_check_interval (" +
                                                   sdk::format_duration(c.health_check_interval) +
                                                   "): a check would still run when the next one is due");
            if (c.health_check_path.empty() || c.health_check_path.front() != '/' ||
                c.health_check_path.find_first_of(" \r\n") != std::string::npos)
              at.error("health_check_path", "health_check_path must start with '/' and hold no spaces or line "
                                            "breaks, e.g. \"/healthz\"");
            if (c.health_check != HealthCheck::http)
              for (const char* key : {"health_check_path", "health_check_expect_status"})
                if (at.has(key)) at.error(key, std::string(key) + " applies only to health_check = \"http\"");
          });
  return schema;
}

std::optional<GroupConfig> read_group_config(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) {
  sdk::Diagnostics found;
  auto rest = diagnose_balance(table, found);
  auto config = group_schema().read(rest, found);
  diagnostics.append(found);
  if (!found.ok()) return std::nullopt;
  return config;
}

PoolSettings pool_settings(const GroupConfig& c) {
  return PoolSettings{.targets = c.targets.size(),
                      .balance = c.balance,
                      .active_checks = c.health_check != HealthCheck::none,
                      .interval = c.health_check_interval,
                      .rise = c.rise,
                      .fall = c.fall,
                      .max_connect_failures = c.max_connect_failures,
                      .ejection_time = c.ejection_time};
}

}  // namespace warren::group
