#include "core/edge/edge_metrics.hpp"

#include <catch2/catch.hpp>

using warren::core::EdgeMetrics;

TEST_CASE("metrics render in the Prometheus text format") {
  EdgeMetrics m;
  m.tunnels = 2;
  m.streams_total = 7;
  m.bytes_to_connector = 100;
  m.registrations_refused["authentication failed"] = 3;
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE warren_tunnels gauge\nwarren_tunnels 2\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE warren_streams_total counter\nwarren_streams_total 7\n"));
  CHECK_THAT(text, Catch::Contains("warren_bytes_total{direction=\"to_connector\"} 100\n"));
  CHECK_THAT(text, Catch::Contains("warren_registrations_refused_total{reason=\"authentication failed\"} 3\n"));
}
