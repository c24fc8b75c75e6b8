// What a reload of the edge changes, decided from two configs without I/O
// (core/edge/edge_reload_plan.hpp): tunnels added, removed and changed,
// listeners added and removed, [edge] keys applied or needing a restart.

#include "core/edge/edge_reload_plan.hpp"

#include "core/config/toml_tree.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace warren;
using namespace warren::core;

namespace {

const std::string base = R"([edge]
id = "edge-a"
state_dir = "./state"
public_ports = "20000-20999"

[[listen]]
plugin = "quic"
address = "127.0.0.1:7844"

[[tunnels]]
id = "web"
token = "s3cret"

[[tunnels]]
id = "ssh"
tokens = ["k1", "k2"]
public_port = 20022
)";

EdgeConfig read(const std::string& text) {
  sdk::Diagnostics d;
  auto root = read_toml_text(text, "/srv/edge.toml", d);
  REQUIRE(root);
  auto config = read_edge_config(*root, "/srv/edge.toml", d);
  for (const auto& x : d.list()) FAIL(x.to_string());
  return config;
}

/// `base` with `from` replaced by `to` (which must be found).
std::string edited(const std::string& from, const std::string& to) {
  auto text = base;
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

bool has_in(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.find(part) != std::string::npos; });
}

/// A line applied (logged at info).
bool has_line(const EdgeReloadPlan& plan, const std::string& part) { return has_in(plan.lines(), part); }
/// A line left for a restart (logged as a warning).
bool has_restart_line(const EdgeReloadPlan& plan, const std::string& part) {
  return has_in(plan.restart_lines(), part);
}

}  // namespace

TEST_CASE("reload plan: the same file plans nothing") {
  auto plan = diff_edge_config(read(base), read(base));
  CHECK(plan.empty());
  CHECK(plan.lines().empty());
}

TEST_CASE("reload plan: a tunnel added and one removed are named by id") {
  auto fresh = read(edited("[[tunnels]]\nid = \"web\"\ntoken = \"s3cret\"\n",
                           "[[tunnels]]\nid = \"api\"\ntoken = \"a\"\npublic_port = 20080\n"));
  auto plan = diff_edge_config(read(base), fresh);
  REQUIRE(plan.tunnels_added.size() == 1);
  CHECK(plan.tunnels_added[0].id == "api");
  CHECK(plan.tunnels_added[0].public_port == 20080);
  CHECK(plan.tunnels_removed == std::vector<std::string>{"web"});
  CHECK(plan.tunnels_changed.empty());
  CHECK(plan.listeners_added.empty());
  CHECK(plan.listeners_removed.empty());
  CHECK(has_line(plan, "tunnel 'api' added"));
  CHECK(has_line(plan, "tunnel 'web' removed"));
}

TEST_CASE("reload plan: a token list, max_replicas and public_port changed are one change of that tunnel") {
  auto fresh = read(edited("tokens = [\"k1\", \"k2\"]\npublic_port = 20022\n",
                           "tokens = [\"k2\", \"k3\"]\npublic_port = 20023\nmax_replicas = 2\n"));
  auto plan = diff_edge_config(read(base), fresh);
  REQUIRE(plan.tunnels_changed.size() == 1);
  const auto& c = plan.tunnels_changed[0];
  CHECK(c.entry.id == "ssh");
  CHECK(c.tokens);
  CHECK(c.entry.tokens == std::vector<std::string>{"k2", "k3"});
  CHECK(c.max_replicas);
  CHECK(c.old_max_replicas == 4);
  CHECK(c.public_port);
  CHECK(c.old_public_port == 20022);
  CHECK(c.entry.public_port == 20023);
  CHECK(plan.tunnels_added.empty());
  CHECK(plan.tunnels_removed.empty());
  CHECK(has_line(plan, "tunnel 'ssh': its tokens changed (2 accepted now)"));
  CHECK(has_line(plan, "tunnel 'ssh': max_replicas 4 -> 2"));
}

TEST_CASE("reload plan: token and tokens with the same single secret are no change") {
  auto fresh = read(edited("token = \"s3cret\"", "tokens = [\"s3cret\"]"));
  CHECK(diff_edge_config(read(base), fresh).empty());
}

TEST_CASE("reload plan: a listener added, one removed, and one whose table changed is both") {
  auto two = edited("[[tunnels]]\nid = \"web\"",
                    "[[listen]]\nplugin = \"http2\"\naddress = \"127.0.0.1:7845\"\n\n[[tunnels]]\nid = \"web\"");
  auto plan = diff_edge_config(read(base), read(two));
  CHECK(plan.listeners_added == std::vector<std::size_t>{1});
  CHECK(plan.listeners_removed.empty());

  auto moved = edited("address = \"127.0.0.1:7844\"", "address = \"127.0.0.1:7846\"");
  plan = diff_edge_config(read(base), read(moved));
  CHECK(plan.listeners_added == std::vector<std::size_t>{0});
  CHECK(plan.listeners_removed == std::vector<std::size_t>{0});

  auto tuned = edited("address = \"127.0.0.1:7844\"", "address = \"127.0.0.1:7844\"\nmax_streams = 10");
  plan = diff_edge_config(read(base), read(tuned));
  CHECK(plan.listeners_added == std::vector<std::size_t>{0});
  CHECK(plan.listeners_removed == std::vector<std::size_t>{0});

  // Reordered, the same two listeners: nothing to do.
  auto swapped = "[[listen]]\nplugin = \"http2\"\naddress = \"127.0.0.1:7845\"\n\n" + base;
  plan = diff_edge_config(read(two), read(swapped));
  CHECK(plan.listeners_added.empty());
  CHECK(plan.listeners_removed.empty());
}

TEST_CASE("reload plan: [edge] keys are applied or need a restart, each named with its values") {
  auto fresh = read(edited("id = \"edge-a\"\nstate_dir = \"./state\"\npublic_ports = \"20000-20999\"\n",
                           "id = \"edge-b\"\nstate_dir = \"./state\"\npublic_ports = \"21000-21099\"\n"
                           "max_tunnels = 7\npublic_host = \"0.0.0.0\"\ngrace_period = \"5s\"\n"
                           "max_connections_per_source = 3\n"));
  auto plan = diff_edge_config(read(base), fresh);
  CHECK(plan.settings_applied == std::vector<std::string>{"public_ports: \"20000-20999\" -> \"21000-21099\"",
                                                          "max_tunnels: 1000 -> 7", "grace_period: 30s -> 5s"});
  CHECK(plan.needs_restart == std::vector<std::string>{"id: \"edge-a\" -> \"edge-b\"",
                                                       "public_host: \"127.0.0.1\" -> \"0.0.0.0\"",
                                                       "max_connections_per_source: 256 -> 3"});
  CHECK(has_restart_line(plan, "[edge] id: \"edge-a\" -> \"edge-b\": needs a restart"));
  CHECK_FALSE(has_line(plan, "[edge] id:"));
  CHECK(has_line(plan, "[edge] max_tunnels: 1000 -> 7: applied"));
  CHECK(plan.restart_lines().size() == 3);
  CHECK(plan.tunnels_changed.empty());
}

TEST_CASE("reload plan: a udp tunnel's flow keys apply live, a longer idle timeout and a kind need a restart") {
  auto running = read(edited("id = \"ssh\"\n", "id = \"ssh\"\nkind = \"udp\"\nflow_requests = 1\n"));
  auto fresh = read(edited("id = \"ssh\"\n", "id = \"ssh\"\nkind = \"udp\"\nflow_requests = 2\nflow_idle_timeout = \"5s\"\n"
                                            "flow_lifetime = \"1m\"\nmax_flows = 10\nmax_flows_per_source = 2\n"
                                            "flow_responses = 1\n"));
  auto plan = diff_edge_config(running, fresh);
  REQUIRE(plan.tunnels_changed.size() == 1);
  const auto& change = plan.tunnels_changed[0];
  CHECK_FALSE(change.kind);
  const std::string live = ": applied, to its live flows too";
  const std::string caps = ": applied to new flows (live flows stay, none ends for it)";
  CHECK(change.flows == std::vector<std::string>{"flow_idle_timeout 30s -> 5s" + live, "flow_lifetime 0s -> 1m" + live,
                                                 "flow_requests 1 -> 2" + live, "flow_responses 0 -> 1" + live,
                                                 "max_flows 1024 -> 10" + caps, "max_flows_per_source 256 -> 2" + caps});
  CHECK(change.flows_restart.empty());
  CHECK(change.old_flows.max_requests == 1);
  CHECK(change.live_flows.max_requests == 2);
  CHECK(change.live_flows.idle_timeout == std::chrono::seconds(5));
  CHECK(change.live_flows.max_flows == 10);
  CHECK(has_line(plan, "tunnel 'ssh': flow_idle_timeout 30s -> 5s: applied, to its live flows too"));
  CHECK(has_line(plan, "tunnel 'ssh': max_flows 1024 -> 10: applied to new flows (live flows stay"));
  CHECK_FALSE(has_line(plan, "max_flows 1024 -> 10: applied, to its live flows"));
  CHECK(plan.lines().size() == 6);
  CHECK(plan.restart_lines().empty());

  // Back: a longer idle timeout waits for a restart, the rest applies.
  auto back = diff_edge_config(fresh, running);
  REQUIRE(back.tunnels_changed.size() == 1);
  CHECK(back.tunnels_changed[0].flows_restart == std::vector<std::string>{"flow_idle_timeout 5s -> 30s"});
  CHECK(back.tunnels_changed[0].live_flows.idle_timeout == std::chrono::seconds(5));
  CHECK(back.tunnels_changed[0].live_flows.max_requests == 1);
  CHECK(has_restart_line(back, "tunnel 'ssh': flow_idle_timeout 5s -> 30s: needs a restart"));
  CHECK_FALSE(has_line(back, "flow_idle_timeout"));
  CHECK(back.lines().size() == 5);

  auto to_tcp = diff_edge_config(running, read(base));
  REQUIRE(to_tcp.tunnels_changed.size() == 1);
  CHECK(to_tcp.tunnels_changed[0].kind);
  CHECK(to_tcp.tunnels_changed[0].old_kind == TunnelKind::udp);
  CHECK(to_tcp.tunnels_changed[0].flows.empty());  // a tcp tunnel has none to compare
  CHECK(to_tcp.tunnels_changed[0].live_flows.max_requests == 1);  // the running ones stay
  CHECK(has_restart_line(to_tcp, "tunnel 'ssh': kind udp -> tcp: needs a restart"));
  CHECK(has_restart_line(to_tcp, "it stays udp, with the flow keys it runs with"));
  CHECK(to_tcp.lines().empty());
}
