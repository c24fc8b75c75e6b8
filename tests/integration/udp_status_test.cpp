// `warren status` for a udp tunnel with real processes (trial finding: TO /
// FROM CONNECTOR stayed 0 B, each leg showed its internal udp stream as "1"
// open stream, and the connector's text said nothing of flows). Datagrams
// through an echo behind the tunnel; then the edge's table shows their bytes
// (toward the connector: warren_udp_to_connector_bytes_total) and each
// leg's flows, and the connector's shows its flows, datagrams and each
// leg's flows (trial finding: its legs' flows_open was null).

#include "core/admin/status_text.hpp"
#include "process.hpp"
#include "udp_tunnel_fixture.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <sstream>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

ProcessResult warren_status(std::uint16_t admin, bool json) {
  std::vector<std::string> argv{warren_binary(), "status", "--admin", "127.0.0.1:" + std::to_string(admin)};
  if (json) argv.push_back("--json");
  return run_process(argv, 15s);
}

boost::json::object status_json(std::uint16_t admin) {
  auto r = warren_status(admin, true);
  boost::system::error_code ec;
  auto doc = boost::json::parse(r.out, ec);
  return r.exit_code == 0 && !ec && doc.is_object() ? doc.as_object() : boost::json::object{};
}

/// The line of `text` that matches `line` whole, or "" when none does.
std::string line_matching(const std::string& text, const std::regex& line) {
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);)
    if (std::regex_match(l, line)) return l;
  return "";
}

std::vector<std::uint8_t> payload(std::size_t size, std::uint8_t fill) { return std::vector<std::uint8_t>(size, fill); }

}  // namespace

TEST_CASE("warren status shows a udp tunnel's datagram bytes and flows on both sides", "[udp]") {
  TempDir dir;
  UdpEchoServer echo;
  UdpEdge edge(dir.path);
  UdpConnector connector(dir.path, {.pin = edge.edge().pin(),
                                    .edge_port = edge.edge().quic_port(),
                                    .backend = "address = \"127.0.0.1:" + std::to_string(echo.port()) + "\""});
  REQUIRE(connector.wait_registered(15s));
  auto logs = [&] {
    return "edge:\n" + edge.edge().process().stderr_text() + "\nconnector:\n" + connector.process().stderr_text();
  };
  INFO(logs());

  // Three clients, three flows; the first exchange waits for the tunnel to carry datagrams.
  UdpClient a(edge.public_port()), b(edge.public_port()), c(edge.public_port());
  REQUIRE(a.exchange(payload(100, 1), 10s));
  for (auto* client : {&a, &b, &c})
    for (int i = 0; i < 10; ++i) {
      REQUIRE(client->send(payload(300, static_cast<std::uint8_t>(i))));
      REQUIRE(client->receive(3s));
    }

  // The edge's status agrees with its metrics: the datagrams' bytes, both
  // ways; toward the connector those a leg took (here, every one that arrived).
  auto in = edge.metric("warren_udp_to_connector_bytes_total");
  auto arrived = edge.metric("warren_udp_bytes_total", {{"direction", "in"}});
  auto out = edge.metric("warren_udp_bytes_total", {{"direction", "out"}});
  REQUIRE(in);
  REQUIRE(arrived);
  REQUIRE(out);
  CHECK(*in >= 30 * 300 + 100);
  CHECK(*in <= *arrived);
  boost::json::object tunnel;
  REQUIRE(eventually(
      [&] {
        auto doc = status_json(edge.edge().admin_port());
        if (!doc.contains("tunnels") || doc.at("tunnels").as_array().empty()) return false;
        tunnel = doc.at("tunnels").as_array()[0].as_object();
        return tunnel.at("legs").as_array().size() == 2;
      },
      10s));
  CHECK(tunnel.at("bytes").at("to_connector").to_number<double>() == *in);
  CHECK(tunnel.at("bytes").at("from_connector").to_number<double>() == *out);
  std::uint64_t flows_on_legs = 0;
  for (const auto& leg : tunnel.at("legs").as_array()) {
    CHECK(leg.at("streams_open") == 0);  // the udp stream is no public connection
    flows_on_legs += leg.at("flows_open").to_number<std::uint64_t>();
  }
  CHECK(flows_on_legs == 3);

  auto text = warren_status(edge.edge().admin_port(), false);
  REQUIRE(text.exit_code == 0);
  INFO(text.out);
  const auto to = warren::core::byte_text(static_cast<std::uint64_t>(*in));
  const auto from = warren::core::byte_text(static_cast<std::uint64_t>(*out));
  CHECK_FALSE(line_matching(text.out, std::regex("web +127\\.0\\.0\\.1:" + std::to_string(edge.public_port()) +
                                                 " \\(udp\\) +1 +3 flows +" + to + " +" + from))
                  .empty());
  // Each leg row ends with its flows (the three split over two legs), never a bare stream count.
  std::regex leg_row("web +\\S+ +[01] +registered +quic +.+ +[0-3] flows?");
  std::size_t leg_rows = 0;
  std::istringstream lines(text.out);
  for (std::string l; std::getline(lines, l);) leg_rows += std::regex_match(l, leg_row);
  CHECK(leg_rows == 2);

  // The connector's text: its flows and what they carried, and no stream count per leg.
  auto connector_text = warren_status(connector.admin_port(), false);
  REQUIRE(connector_text.exit_code == 0);
  INFO(connector_text.out);
  CHECK_FALSE(line_matching(connector_text.out,
                            std::regex("udp flows: 3 open, 3 in all; [0-9]+ datagrams \\(\\S+ \\S+\\) to the backend, "
                                       "[0-9]+ \\(\\S+ \\S+\\) from it"))
                  .empty());
  CHECK_FALSE(line_matching(connector_text.out, std::regex("flows closed: none; datagrams dropped: none")).empty());
  // LEG STATE EDGE TRANSPORT RTT SINCE STREAMS LAST RECONNECT: STREAMS is each leg's flows.
  std::regex connector_leg("[01] +registered +127\\.0\\.0\\.1:[0-9]+ +quic +.+ +[0-3] flows? +-");
  std::size_t connector_legs = 0;
  std::istringstream connector_lines(connector_text.out);
  for (std::string l; std::getline(connector_lines, l);) connector_legs += std::regex_match(l, connector_leg);
  CHECK(connector_legs == 2);

  // The connector's legs carry the same three flows as the edge's (trial finding: flows_open was null).
  auto connector_doc = status_json(connector.admin_port());
  REQUIRE(connector_doc.contains("legs"));
  std::uint64_t connector_flows = 0;
  for (const auto& leg : connector_doc.at("legs").as_array()) {
    REQUIRE(leg.as_object().contains("flows_open"));
    connector_flows += leg.at("flows_open").to_number<std::uint64_t>();
  }
  CHECK(connector_flows == 3);
}
