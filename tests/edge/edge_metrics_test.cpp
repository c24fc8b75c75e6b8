#include "core/edge/edge_metrics.hpp"

#include <catch2/catch.hpp>

using warren::core::EdgeMetrics;

TEST_CASE("metrics render in the Prometheus text format") {
  EdgeMetrics m;
  m.tunnels = 2;
  m.streams_total = 7;
  m.bytes_for("web")->add(true, 60);  // a tunnel's counter feeds the total
  m.bytes_for("api")->add(true, 40);
  m.registrations_refused["auth_failed"] = 3;
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE warren_tunnels gauge\nwarren_tunnels 2\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE warren_streams_total counter\nwarren_streams_total 7\n"));
  CHECK_THAT(text, Catch::Contains("warren_bytes_total{direction=\"to_connector\"} 100\n"));
  CHECK_THAT(text, Catch::Contains("warren_registrations_refused_total{reason=\"auth_failed\"} 3\n"));
}

TEST_CASE("every public refusal reason is exported from the start, so rates can be taken at once") {
  EdgeMetrics m;
  m.public_refused["source_rate"] += 4;
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE warren_public_refused_total counter\n"));
  for (const char* reason : {"source_limit", "tunnel_limit", "total_limit", "no_live_leg"})
    CHECK_THAT(text, Catch::Contains(std::string("warren_public_refused_total{reason=\"") + reason + "\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("warren_public_refused_total{reason=\"source_rate\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("warren_public_idle_closed_total 0\n"));
  CHECK_THAT(text, Catch::Contains("warren_streams_aborted_leg_gone_total 0\n"));
}

TEST_CASE("registration throttling and wrong credentials are exported by reason from the start") {
  EdgeMetrics m;
  m.registrations_throttled["source_auth_failures"] += 2;
  m.auth_failures = 11;
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE warren_registrations_throttled_total counter\n"));
  for (const char* reason : {"source_rate", "tunnel_rate", "tunnel_auth_failures"})
    CHECK_THAT(text, Catch::Contains(std::string("warren_registrations_throttled_total{reason=\"") + reason + "\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("warren_registrations_throttled_total{reason=\"source_auth_failures\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE warren_auth_failures_total counter\nwarren_auth_failures_total 11\n"));
}

namespace {

// A listener that only reports numbers, as a transport plugin's would.
class ReportingListener final : public warren::sdk::Listener {
 public:
  std::uint16_t local_port() const override { return 7844; }
  void close() override {}
  warren::sdk::ListenerStats stats() const override {
    using Kind = warren::sdk::ListenerMetric::Kind;
    return {{"quic_initials_total", "Initials.", Kind::counter, {{"verdict", "retry"}}, 12},
            {"quic_initials_total", "Initials.", Kind::counter, {{"verdict", "accept"}}, 3},
            {"quic_handshakes_pending", "In progress.", Kind::gauge, {}, 2},
            {"Bad-Name", "Skipped.", Kind::gauge, {}, 1}};
  }

 private:
  void async_accept_impl(warren::sdk::ConnectionHandler) override {}
};

}  // namespace

TEST_CASE("listener stats render with one HELP and TYPE per name and the listener's port") {
  std::vector<warren::sdk::ListenerPtr> listeners;
  listeners.push_back(std::make_unique<ReportingListener>());
  auto text = warren::core::render_listener_stats(listeners);
  CHECK_THAT(text, Catch::Contains("# HELP warren_quic_initials_total Initials.\n"
                                   "# TYPE warren_quic_initials_total counter\n"
                                   "warren_quic_initials_total{listener=\"7844\",verdict=\"retry\"} 12\n"
                                   "warren_quic_initials_total{listener=\"7844\",verdict=\"accept\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE warren_quic_handshakes_pending gauge\n"
                                   "warren_quic_handshakes_pending{listener=\"7844\"} 2\n"));
  CHECK_THAT(text, !Catch::Contains("Bad-Name"));
}
