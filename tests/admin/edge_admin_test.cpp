// The edge's /status document and its per-tunnel and per-listener metrics,
// rendered from a snapshot: exact text.

#include "core/admin/admin_server.hpp"
#include "core/edge/edge_admin.hpp"
#include "core/splice/stream_splice.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace warren::core;
using namespace std::chrono_literals;

namespace {

EdgeStatus sample_status(std::chrono::system_clock::time_point started) {
  EdgeStatus s;
  s.edge_id = "edge-1";
  s.config_file = "/etc/warren/edge.toml";
  s.started = started;
  s.ready = true;
  s.listeners.push_back({"quic", "127.0.0.1:7844", 1});
  EdgeTunnelStatus web;
  web.id = "web";
  web.public_address = "127.0.0.1:20001";
  web.replicas = 1;
  web.streams_open = 2;
  web.bytes_to_connector = 10;
  web.bytes_from_connector = 20;
  EdgeLegStatus leg;
  leg.connector_id = "c1";
  leg.index = 1;
  leg.transport = "quic";
  leg.remote = "127.0.0.1:50000";
  leg.state = "registered";
  leg.rtt = 1250us;
  leg.since = started + 1s;
  leg.streams_open = 2;
  web.legs.push_back(leg);
  s.tunnels.push_back(web);
  EdgeTunnelStatus quiet;
  quiet.id = "api";
  s.tunnels.push_back(quiet);
  return s;
}

}  // namespace

TEST_CASE("edge status: the document names the run, listeners, tunnels and every leg") {
  auto started = std::chrono::system_clock::time_point(std::chrono::seconds(1'796'000'000));  // 2026-11-30T...
  auto text = render_edge_status(sample_status(started), started + 90s);
  REQUIRE(text.back() == '\n');
  auto doc = boost::json::parse(text).as_object();
  CHECK(doc.at("role") == "edge");
  CHECK(doc.at("edge_id") == "edge-1");
  CHECK(doc.at("config_file") == "/etc/warren/edge.toml");
  CHECK(doc.at("started") == utc_text(started).c_str());
  CHECK(doc.at("uptime_s") == 90);
  CHECK(doc.at("ready") == true);
  CHECK(boost::json::serialize(doc.at("listeners")) == R"([{"transport":"quic","address":"127.0.0.1:7844","legs":1}])");
  const auto& tunnels = doc.at("tunnels").as_array();
  REQUIRE(tunnels.size() == 2);
  CHECK(boost::json::serialize(tunnels[0]) ==
        R"({"id":"web","public_address":"127.0.0.1:20001","kind":"tcp","quick":false,"replicas":1,"streams_open":2,)"
        R"("bytes":{"to_connector":10,"from_connector":20},"legs":[{"connector_id":"c1","leg":1,"state":"registered",)"
        R"("transport":"quic","remote":"127.0.0.1:50000","rtt_ms":1.2E0,"since":")" +
            utc_text(started + 1s) + R"(","streams_open":2}]})");
  CHECK(tunnels[1].at("public_address").is_null());
  CHECK(tunnels[1].at("legs").as_array().empty());
  CHECK_FALSE(tunnels[1].as_object().contains("flows"));  // a tcp tunnel has none
}

TEST_CASE("edge status: a udp tunnel shows its kind and its flows") {
  auto started = std::chrono::system_clock::time_point(std::chrono::seconds(1'796'000'000));
  auto status = sample_status(started);
  status.tunnels[1].kind = "udp";
  status.tunnels[1].public_address = "127.0.0.1:20053";
  status.tunnels[1].flows_active = 3;
  status.tunnels[1].flows_total = 40;
  status.tunnels[1].flow_legs = 2;
  auto doc = boost::json::parse(render_edge_status(status, started)).as_object();
  const auto& dns = doc.at("tunnels").as_array()[1].as_object();
  CHECK(dns.at("kind") == "udp");
  CHECK(boost::json::serialize(dns.at("flows")) == R"({"active":3,"total":40,"legs":2})");
}

TEST_CASE("edge status: a udp tunnel's leg says its flows, a tcp tunnel's leg has no such key") {
  auto started = std::chrono::system_clock::time_point(std::chrono::seconds(1'796'000'000));
  auto status = sample_status(started);
  status.tunnels[1].kind = "udp";
  EdgeLegStatus leg;
  leg.connector_id = "c2";
  leg.state = "registered";
  leg.flows_open = 5;
  status.tunnels[1].legs.push_back(leg);
  auto doc = boost::json::parse(render_edge_status(status, started)).as_object();
  const auto& tunnels = doc.at("tunnels").as_array();
  const auto& udp_leg = tunnels[1].at("legs").as_array()[0].as_object();
  CHECK(udp_leg.at("flows_open") == 5);
  CHECK(udp_leg.at("streams_open") == 0);
  CHECK_FALSE(tunnels[0].at("legs").as_array()[0].as_object().contains("flows_open"));
}

TEST_CASE("edge status: metrics per tunnel and per listener, bytes of gone tunnels kept") {
  std::map<std::string, std::shared_ptr<ByteCounter>> bytes;
  bytes["web"] = std::make_shared<ByteCounter>();
  bytes["web"]->add(true, 10);
  bytes["web"]->add(false, 20);
  bytes["old"] = std::make_shared<ByteCounter>();
  bytes["old"]->add(true, 5);
  CHECK(render_edge_tunnel_metrics(sample_status({}), bytes) ==
        "# HELP warren_tunnel_legs Legs of each tunnel, registered or draining.\n"
        "# TYPE warren_tunnel_legs gauge\n"
        "warren_tunnel_legs{tunnel=\"web\"} 1\n"
        "warren_tunnel_legs{tunnel=\"api\"} 0\n"
        "# HELP warren_tunnel_streams_active Public connections of each tunnel being forwarded now.\n"
        "# TYPE warren_tunnel_streams_active gauge\n"
        "warren_tunnel_streams_active{tunnel=\"web\"} 2\n"
        "warren_tunnel_streams_active{tunnel=\"api\"} 0\n"
        "# HELP warren_tunnel_bytes_total Bytes forwarded through each tunnel, counted as they are written (running "
        "streams included).\n"
        "# TYPE warren_tunnel_bytes_total counter\n"
        "warren_tunnel_bytes_total{tunnel=\"old\",direction=\"to_connector\"} 5\n"
        "warren_tunnel_bytes_total{tunnel=\"old\",direction=\"from_connector\"} 0\n"
        "warren_tunnel_bytes_total{tunnel=\"web\",direction=\"to_connector\"} 10\n"
        "warren_tunnel_bytes_total{tunnel=\"web\",direction=\"from_connector\"} 20\n"
        "# HELP warren_listener_legs Registered legs that came through each transport listener.\n"
        "# TYPE warren_listener_legs gauge\n"
        "warren_listener_legs{address=\"127.0.0.1:7844\",transport=\"quic\"} 1\n");
}

TEST_CASE("byte counters feed their parent as each write is counted") {
  auto total = std::make_shared<ByteCounter>();
  auto tunnel = std::make_shared<ByteCounter>();
  tunnel->parent = total;
  tunnel->add(true, 3);
  tunnel->add(false, 4);
  CHECK(tunnel->a_to_b == 3);
  CHECK(tunnel->b_to_a == 4);
  CHECK(total->a_to_b == 3);
  CHECK(total->b_to_a == 4);
}
