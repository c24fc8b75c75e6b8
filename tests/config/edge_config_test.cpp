#include "core/config/edge_config.hpp"
#include "core/config/toml_tree.hpp"

#include <catch2/catch.hpp>

using namespace warren;

namespace {

const std::string contract = R"([edge]
id = "edge-a"
state_dir = "./warren-edge"
public_host = "127.0.0.1"
public_ports = "20000-20999"
quick_tunnels = false
admin = "127.0.0.1:9100"

[[listen]]
plugin = "quic"
address = "127.0.0.1:7844"

[[tunnels]]
id = "web"
token = "s3cret"
public_port = 20080
)";

std::pair<core::EdgeConfig, std::vector<std::string>> read(const std::string& text) {
  sdk::Diagnostics d;
  auto root = core::read_toml_text(text, "/srv/edge.toml", d);
  REQUIRE(root);
  auto config = core::read_edge_config(*root, "/srv/edge.toml", d);
  std::vector<std::string> errors;
  for (const auto& x : d.list()) errors.push_back(x.to_string());
  return {config, errors};
}

}  // namespace

TEST_CASE("the contract's edge config reads as written") {
  auto [e, errors] = read(contract);
  CHECK(errors.empty());
  CHECK(e.edge.id == "edge-a");
  CHECK(e.edge.state_dir == "/srv/warren-edge");
  CHECK(e.edge.public_ports.first == 20000);
  CHECK(e.edge.public_ports.last == 20999);
  REQUIRE(e.edge.admin);
  CHECK(e.edge.admin->port == 9100);
  REQUIRE(e.listen.size() == 1);
  CHECK(e.listen[0].transport.plugin == "quic");
  CHECK(e.listen[0].address == sdk::Endpoint{"127.0.0.1", 7844});
  CHECK(e.listen[0].transport.table.entries.empty());  // address is core's
  REQUIRE(e.tunnels.size() == 1);
  CHECK(e.tunnels[0].public_port == 20080);
}

TEST_CASE("duplicate tunnel ids and ports point at the first definition") {
  auto [e, errors] = read(contract + "\n[[tunnels]]\nid = \"web\"\ntoken = \"x\"\npublic_port = 20080\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], Catch::Contains("public_port 20080 is already used by the tunnel at /srv/edge.toml:16:15"));
  CHECK_THAT(errors[1], Catch::Contains("tunnel id 'web' is already defined at /srv/edge.toml:13:1"));
}

TEST_CASE("port ranges parse and bad ones are explained") {
  CHECK(core::parse_port_range("20000-20999").has_value());
  CHECK(core::parse_port_range("8080")->last == 8080);
  CHECK_FALSE(core::parse_port_range("20999-20000"));
  CHECK_FALSE(core::parse_port_range("0-10"));
  CHECK_FALSE(core::parse_port_range("a-b"));
  auto [e, errors] = read([] {
    std::string t = contract;
    return t.replace(t.find("20000-20999"), 11, "20000..20999");
  }());
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("/srv/edge.toml:5:16: 'public_ports' = \"20000..20999\" must be"));
}

TEST_CASE("an edge with no tunnels and no quick tunnels is refused") {
  auto [e, errors] = read("[edge]\nid = \"a\"\n[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:7844\"\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("serves no tunnels"));
}

TEST_CASE("a listen address is required and checked") {
  auto [e, errors] = read("[edge]\nquick_tunnels = true\n[[listen]]\nplugin = \"quic\"\naddress = \"7844\"\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "/srv/edge.toml:5:11: 'address' = \"7844\": missing ':PORT'");
}

TEST_CASE("an [admin] table in an edge config says to write [edge] admin instead") {
  auto [e, errors] = read(contract + "\n[admin]\naddress = \"127.0.0.1:9101\"\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("/srv/edge.toml:18:1: [admin] is a connector table") &&
                            Catch::Contains("[edge] admin = \"127.0.0.1:9101\""));
}

TEST_CASE("a tunnel's kind is tcp by default and kind = udp is carried with its flow keys") {
  auto [tcp, tcp_errors] = read(contract + "kind = \"tcp\"\n");
  CHECK(tcp_errors.empty());
  REQUIRE(tcp.tunnels.size() == 1);
  CHECK(tcp.tunnels[0].kind == core::TunnelKind::tcp);
  auto [none, none_errors] = read(contract);
  CHECK(none_errors.empty());

  auto [udp, udp_errors] = read(contract + "kind = \"udp\"\n");
  CHECK(udp_errors.empty());
  REQUIRE(udp.tunnels.size() == 1);
  CHECK(udp.tunnels[0].kind == core::TunnelKind::udp);
  // The defaults are FlowSettings' own, with the edge's open_step (none).
  const auto& defaults = udp.tunnels[0].flows;
  CHECK(defaults.idle_timeout == std::chrono::seconds(30));
  CHECK(defaults.max_lifetime == sdk::Duration::zero());
  CHECK(defaults.max_requests == 0);
  CHECK(defaults.max_responses == 0);
  CHECK(defaults.max_flows == 1024);
  CHECK(defaults.max_flows_per_source == 256);
  CHECK_FALSE(defaults.open_step);

  auto [other, other_errors] = read(contract + "kind = \"sctp\"\n");
  REQUIRE(other_errors.size() == 1);
  CHECK_THAT(other_errors[0], Catch::Contains("sctp"));
}

TEST_CASE("a kind in capitals or another word for udp is an error at the value with a suggestion") {
  for (auto [written, meant] : {std::pair{"UDP", "udp"},
                                {"Udp", "udp"},
                                {"datagram", "udp"},
                                {"DGRAM", "udp"},
                                {"TCP", "tcp"},
                                {"stream", "tcp"},
                                {"upd", "udp"}}) {
    CAPTURE(written);
    auto [config, errors] = read(contract + "kind = \"" + written + "\"\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == std::string("/srv/edge.toml:17:8: 'kind' = \"") + written +
                           "\" is not one of tcp, udp; did you mean '" + meant + "'?");
  }
  // A word that is neither gets no guess.
  auto [other, errors] = read(contract + "kind = \"quic\"\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "/srv/edge.toml:17:8: 'kind' = \"quic\" is not one of tcp, udp");
}

TEST_CASE("a udp tunnel's flow keys become its FlowSettings") {
  auto [config, errors] = read(contract +
                               "kind = \"udp\"\n"
                               "flow_idle_timeout = \"5s\"\n"
                               "flow_lifetime = \"2m\"\n"
                               "flow_requests = 1\n"
                               "flow_responses = 1\n"
                               "max_flows = 10\n"
                               "max_flows_per_source = 0\n");
  REQUIRE(errors.empty());
  REQUIRE(config.tunnels.size() == 1);
  const auto& flows = config.tunnels[0].flows;
  CHECK(flows.idle_timeout == std::chrono::seconds(5));
  CHECK(flows.max_lifetime == std::chrono::minutes(2));
  CHECK(flows.max_requests == 1);
  CHECK(flows.max_responses == 1);
  CHECK(flows.max_flows == 10);
  CHECK(flows.max_flows_per_source == 0);
  CHECK_FALSE(core::udp::find_problem(flows));
}

TEST_CASE("flow keys on a tcp tunnel are errors at the key, saying to set kind = udp") {
  // contract ends on line 16: the key written after it is on line 17.
  for (const char* key : core::udp_only_tunnel_keys) {
    std::string value = std::string(key).starts_with("flow_idle") || std::string(key).starts_with("flow_life")
                            ? "\"10s\""
                            : "1";
    auto [config, errors] = read(contract + key + " = " + value + "\n");
    INFO(key);
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], Catch::StartsWith("/srv/edge.toml:17:"));
    CHECK_THAT(errors[0], Catch::Contains(std::string("'") + key + "' applies to kind = \"udp\" tunnels only"));
    CHECK_THAT(errors[0], Catch::Contains("set kind = \"udp\""));
  }
  // Out of range: at the value, naming the bound.
  auto [config, errors] = read(contract + "kind = \"udp\"\nmax_flows = 0\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("/srv/edge.toml:18:"));
  CHECK_THAT(errors[0], Catch::Contains("max_flows"));
}
