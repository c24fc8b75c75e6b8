// What `warren status` prints from /status documents, as exact text.

#include "core/admin/status_text.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace warren::core;

namespace {

std::chrono::system_clock::time_point at_ten() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 11;
  tm.tm_mday = 1;
  tm.tm_hour = 10;
  return std::chrono::system_clock::from_time_t(timegm(&tm));  // 2026-12-01T10:00:00Z
}

boost::json::object doc(const char* json) { return boost::json::parse(json).as_object(); }

}  // namespace

TEST_CASE("status text: a table pads columns to the widest cell and trims trailing blanks") {
  CHECK(text_table({{"A", "BB", "C"}, {"xxx", "", ""}, {"y", "z", "w"}}) ==
        "A    BB  C\n"
        "xxx\n"
        "y    z   w\n");
}

TEST_CASE("status text: byte counts in binary units with one decimal") {
  CHECK(byte_text(0) == "0 B");
  CHECK(byte_text(1023) == "1023 B");
  CHECK(byte_text(1536) == "1.5 KiB");
  CHECK(byte_text(20u << 20) == "20.0 MiB");
  CHECK(byte_text(3ull << 30) == "3.0 GiB");
}

TEST_CASE("status text: the role comes from the document, else from its keys") {
  CHECK(status_role(doc(R"({"role":"edge"})")) == "edge");
  CHECK(status_role(doc(R"({"legs":[]})")) == "connector");
  CHECK(status_role(doc(R"({"tunnels":[]})")) == "edge");
  CHECK(status_role(doc(R"({"something":1})")).empty());
}

TEST_CASE("status text: a connector's legs with state, edge, transport, RTT and the last reconnect's reason") {
  auto status = doc(R"({"role":"connector","tunnel":"web","connector_id":"0123456789abcdef",
    "config_file":"/etc/warren/tunnel.toml","started":"2026-12-01T09:00:00.000Z","ready":true,
    "legs":[
      {"leg":0,"state":"registered","address":"127.0.0.1:7844","transport":"quic","rtt_ms":1.3,"streams_open":2,
       "since":"2026-12-01T09:58:00.000Z","last_reconnect":null,"last_error":null},
      {"leg":1,"state":"registered","address":"127.0.0.1:7845","transport":"http2","rtt_ms":0.8,"streams_open":0,
       "since":"2026-12-01T09:59:30.000Z","last_error":"idle_timeout",
       "last_reconnect":{"time":"2026-12-01T09:59:20.000Z","event":"lost","address":"127.0.0.1:7846",
                         "transport":"quic","error":"idle_timeout"}},
      {"leg":2,"state":"scheduled","address":null,"transport":null,"rtt_ms":null,"streams_open":0,"since":null,
       "last_reconnect":null,"last_error":"auth_failed"}],
    "streams_open":2,"streams_total":12,"bytes":{"to_backend":1536,"from_backend":300}})");
  CHECK(connector_status_text(status, at_ten()) ==
        "connector 0123456789abcdef, tunnel 'web', config /etc/warren/tunnel.toml\n"
        "ready; up 60 min (since 2026-12-01T09:00:00.000Z); streams: 2 open, 12 in all; 1.5 KiB to the backend, "
        "300 B from it\n"
        "\n"
        "LEG  STATE       EDGE            TRANSPORT  RTT     SINCE  STREAMS  LAST RECONNECT\n"
        "0    registered  127.0.0.1:7844  quic       1.3 ms  2 min  2        -\n"
        "1    registered  127.0.0.1:7845  http2      0.8 ms  30 s   0        idle_timeout 40 s ago (127.0.0.1:7846)\n"
        "2    scheduled   -               -          -       -      0        - (last failure: auth_failed)\n");
}

TEST_CASE("status text: a quick tunnel's connector that is not ready says so") {
  auto status = doc(R"({"tunnel":"","connector_id":"ab","started":"2026-12-01T09:59:55.000Z","ready":false,
    "legs":[{"leg":0,"state":"dialing","address":"127.0.0.1:7844","transport":"quic","rtt_ms":null,
             "streams_open":0,"since":null,"last_reconnect":null,"last_error":null}]})");
  CHECK(connector_status_text(status, at_ten()) ==
        "connector ab, quick tunnel\n"
        "not ready (no leg registered); up 5 s (since 2026-12-01T09:59:55.000Z)\n"
        "\n"
        "LEG  STATE    EDGE            TRANSPORT  RTT  SINCE  STREAMS  LAST RECONNECT\n"
        "0    dialing  127.0.0.1:7844  quic       -    -      0        -\n");
}

TEST_CASE("status text: an edge's listeners, tunnels and legs") {
  auto status = doc(R"({"role":"edge","edge_id":"edge-1","config_file":"/etc/warren/edge.toml",
    "started":"2026-12-01T09:55:00.000Z","ready":true,
    "listeners":[{"transport":"quic","address":"0.0.0.0:7844","legs":1}],
    "tunnels":[
      {"id":"web","public_address":"0.0.0.0:20001","quick":false,"replicas":1,"streams_open":3,
       "bytes":{"to_connector":2097152,"from_connector":1024},
       "legs":[{"connector_id":"0123456789abcdef","leg":0,"state":"registered","transport":"quic",
                "remote":"10.0.0.5:51000","rtt_ms":12.4,"since":"2026-12-01T09:59:50.000Z","streams_open":3}]},
      {"id":"api","public_address":null,"quick":false,"replicas":0,"streams_open":0,
       "bytes":{"to_connector":0,"from_connector":0},"legs":[]}]})");
  CHECK(edge_status_text(status, at_ten()) ==
        "edge edge-1, config /etc/warren/edge.toml\n"
        "ready; up 5 min (since 2026-12-01T09:55:00.000Z)\n"
        "listeners: quic 0.0.0.0:7844 (1 leg)\n"
        "\n"
        "TUNNEL  PUBLIC         REPLICAS  STREAMS  TO CONNECTOR  FROM CONNECTOR\n"
        "web     0.0.0.0:20001  1         3        2.0 MiB       1.0 KiB\n"
        "api     -              0         0        0 B           0 B\n"
        "\n"
        "TUNNEL  CONNECTOR         LEG  STATE       TRANSPORT  REMOTE          RTT      SINCE  STREAMS\n"
        "web     0123456789abcdef  0    registered  quic       10.0.0.5:51000  12.4 ms  10 s   3\n");
}

TEST_CASE("status text: an edge's udp tunnel shows its kind and its flows") {
  auto status = doc(R"({"role":"edge","edge_id":"e","config_file":"","started":"2026-12-01T10:00:00.000Z",
    "ready":true,"listeners":[],
    "tunnels":[{"id":"dns","public_address":"0.0.0.0:20053","kind":"udp","flows":{"active":7,"total":90},
                "quick":false,"replicas":1,"streams_open":0,"bytes":{"to_connector":0,"from_connector":0},
                "legs":[]}]})");
  CHECK_THAT(edge_status_text(status, at_ten()),
             Catch::Contains("TUNNEL  PUBLIC               REPLICAS  STREAMS  TO CONNECTOR  FROM CONNECTOR\n"
                             "dns     0.0.0.0:20053 (udp)  1         7 flows  0 B           0 B\n"));
}

TEST_CASE("status text: an edge's udp tunnel shows its datagrams' bytes and each leg's flows, not its udp stream") {
  auto status = doc(R"({"role":"edge","edge_id":"e","config_file":"","started":"2026-12-01T10:00:00.000Z",
    "ready":true,"listeners":[{"transport":"quic","address":"127.0.0.1:7844","legs":2}],
    "tunnels":[{"id":"dns","public_address":"127.0.0.1:20053","kind":"udp","flows":{"active":3,"total":40,"legs":2},
                "quick":false,"replicas":1,"streams_open":0,"bytes":{"to_connector":4096,"from_connector":1200},
                "legs":[{"connector_id":"c1","leg":0,"state":"registered","transport":"quic","remote":"127.0.0.1:5000",
                         "rtt_ms":0.4,"since":"2026-12-01T09:59:00.000Z","streams_open":0,"flows_open":2},
                        {"connector_id":"c1","leg":1,"state":"registered","transport":"quic","remote":"127.0.0.1:5001",
                         "rtt_ms":0.5,"since":"2026-12-01T09:59:00.000Z","streams_open":0,"flows_open":1}]}]})");
  CHECK(edge_status_text(status, at_ten()) ==
        "edge e\n"
        "ready; up 0 s (since 2026-12-01T10:00:00.000Z)\n"
        "listeners: quic 127.0.0.1:7844 (2 legs)\n"
        "\n"
        "TUNNEL  PUBLIC                 REPLICAS  STREAMS  TO CONNECTOR  FROM CONNECTOR\n"
        "dns     127.0.0.1:20053 (udp)  1         3 flows  4.0 KiB       1.2 KiB\n"
        "\n"
        "TUNNEL  CONNECTOR  LEG  STATE       TRANSPORT  REMOTE          RTT     SINCE  STREAMS\n"
        "dns     c1         0    registered  quic       127.0.0.1:5000  0.4 ms  60 s   2 flows\n"
        "dns     c1         1    registered  quic       127.0.0.1:5001  0.5 ms  60 s   1 flow\n");
}

TEST_CASE("status text: a udp tunnel's connector shows flows, datagrams and drops, and each leg's flows") {
  auto status = doc(R"({"role":"connector","tunnel":"dns","connector_id":"c1","config_file":"/etc/warren/dns.toml",
    "started":"2026-12-01T09:59:00.000Z","ready":true,
    "legs":[{"leg":0,"state":"registered","address":"127.0.0.1:7844","transport":"quic","rtt_ms":0.4,
             "streams_open":1,"flows_open":2,"since":"2026-12-01T09:59:30.000Z","last_reconnect":null,
             "last_error":null},
            {"leg":1,"state":"registered","address":"127.0.0.1:7845","transport":"quic","rtt_ms":0.5,
             "streams_open":1,"since":"2026-12-01T09:59:30.000Z","last_reconnect":null,"last_error":null}],
    "streams_open":0,"streams_total":0,"bytes":{"to_backend":0,"from_backend":0},
    "udp":{"flows_active":2,"flows_total":14,
           "flows_closed":{"idle":10,"lifetime":0,"responses":2,"backend_refused":0},
           "datagrams_dropped":{"table_full":0,"unknown_flow":3,"send_failed":1},
           "datagrams":{"to_backend":14,"from_backend":12},"bytes":{"to_backend":1229,"from_backend":2048}}})");
  CHECK(connector_status_text(status, at_ten()) ==
        "connector c1, tunnel 'dns', config /etc/warren/dns.toml\n"
        "ready; up 60 s (since 2026-12-01T09:59:00.000Z)\n"
        "udp flows: 2 open, 14 in all; 14 datagrams (1.2 KiB) to the backend, 12 (2.0 KiB) from it\n"
        "flows closed: idle 10, responses 2; datagrams dropped: unknown_flow 3, send_failed 1\n"
        "\n"
        "LEG  STATE       EDGE            TRANSPORT  RTT     SINCE  STREAMS  LAST RECONNECT\n"
        "0    registered  127.0.0.1:7844  quic       0.4 ms  30 s   2 flows  -\n"
        // an older connector's document, without flows_open: no stream count either
        "1    registered  127.0.0.1:7845  quic       0.5 ms  30 s   -        -\n");
  // Nothing closed or dropped yet: said in a word.
  auto fresh = doc(R"({"role":"connector","tunnel":"dns","connector_id":"c1","started":"2026-12-01T09:59:00.000Z",
    "ready":true,"legs":[],"udp":{"flows_active":0,"flows_total":0,"flows_closed":{"idle":0},
    "datagrams_dropped":{"no_leg":0},"datagrams":{"to_backend":0,"from_backend":0},
    "bytes":{"to_backend":0,"from_backend":0}}})");
  CHECK_THAT(connector_status_text(fresh, at_ten()),
             Catch::Contains("udp flows: 0 open, 0 in all; 0 datagrams (0 B) to the backend, 0 (0 B) from it\n"
                             "flows closed: none; datagrams dropped: none\n"));
}

TEST_CASE("status text: an edge with no tunnel and no leg says so in words") {
  auto status = doc(R"({"role":"edge","edge_id":"e","config_file":"","started":"2026-12-01T10:00:00.000Z",
    "ready":true,"listeners":[],"tunnels":[]})");
  CHECK(edge_status_text(status, at_ten()) ==
        "edge e\n"
        "ready; up 0 s (since 2026-12-01T10:00:00.000Z)\n"
        "listeners: none\n"
        "\n"
        "no tunnels\n"
        "\n"
        "no legs registered\n");
}
