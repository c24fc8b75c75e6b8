// The `dns-srv` plugin loaded by name, as users get it, against a real
// dnsmasq on a free loopback port (started and stopped by each test).

#include "dnsmasq_server.hpp"
#include "plugin_fixture.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include <algorithm>

using namespace warren;
using namespace std::chrono_literals;
using sdk::testing::item;
using sdk::testing::TableBuilder;
using test::DnsmasqServer;
using test::DnsRecords;

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kName = "_warren._udp.example.test";

struct Resolved {
  sdk::error_code error;
  std::vector<sdk::EdgeAddress> edges;
  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    for (const auto& e : edges) out.push_back(e.to_string());
    return out;
  }
};

struct DnsSrvFixture : test::PluginFixture {
  core::PluginPtr<sdk::Discovery> discovery;

  void make(const TableBuilder& table) {
    discovery = PluginFixture::make<sdk::Discovery>(sdk::PluginKind::discovery, "dns-srv", table.table());
    REQUIRE(errors() == std::vector<std::string>{});
    REQUIRE(discovery);
  }

  Resolved resolve() {
    std::optional<Resolved> result;
    discovery->async_resolve([&](sdk::error_code ec, std::vector<sdk::EdgeAddress> edges) {
      result = Resolved{ec, std::move(edges)};
    });
    run_until([&] { return result.has_value(); }, 15s);
    INFO(log_text());
    REQUIRE(result);
    if (result->error) UNSCOPED_INFO("log after a failed resolve:\n" << log_text());
    return *result;
  }

  /// Runs the loop until `done()` or `limit`; the loop may run dry between calls.
  template <typename Done>
  void run_until(Done done, std::chrono::milliseconds limit) {
    io.restart();
    for (auto deadline = Clock::now() + limit; !done() && Clock::now() < deadline;) {
      if (io.run_one_for(100ms) == 0) io.restart();
    }
  }

  /// Lets `d` of real time pass on the loop (paces polling; never waits for an event).
  void pause(std::chrono::milliseconds d) {
    boost::asio::steady_timer timer(io, d);
    bool over = false;
    timer.async_wait([&](const boost::system::error_code&) { over = true; });
    run_until([&] { return over; }, d + 5s);
  }

  /// Log lines at `level` that contain every one of `parts`.
  std::size_t count(sdk::LogLevel level, std::vector<std::string> parts) const {
    return static_cast<std::size_t>(std::count_if(logger.lines.begin(), logger.lines.end(), [&](const auto& line) {
      return line.first == level && std::all_of(parts.begin(), parts.end(), [&](const std::string& p) {
               return line.second.find(p) != std::string::npos;
             });
    }));
  }
  std::string log_text() const {
    std::string out;
    for (const auto& [level, text] : logger.lines) out += text + "\n";
    return out;
  }
};

/// Three edges under one name, at priorities 10, 0 and 20.
DnsRecords three_edges(unsigned ttl = 0) {
  return {
      {{kName, "edge1.example.test", 7844, 10, 10},
       {kName, "edge2.example.test", 7845, 0, 20},
       {kName, "edge3.example.test", 7846, 20, 30}},
      {{"edge1.example.test", "127.0.0.1"}, {"edge2.example.test", "127.0.0.2"}, {"edge3.example.test", "127.0.0.3"}},
      ttl};
}

TableBuilder table_for(const DnsmasqServer& dns, std::string name = kName) {
  TableBuilder t;
  t.set("name", std::move(name)).set("resolvers", {item(dns.address())});
  return t;
}

}  // namespace

TEST_CASE("dns-srv orders a real SRV answer by priority and tags every edge") {
  DnsmasqServer dns(three_edges());
  DnsSrvFixture f;
  f.make(table_for(dns));
  auto r = f.resolve();
  REQUIRE_FALSE(r.error);
  CHECK(r.addresses() == std::vector<std::string>{"127.0.0.2:7845", "127.0.0.1:7844", "127.0.0.3:7846"});
  CHECK(r.edges[0].host == "edge2.example.test");
  CHECK(r.edges[0].region == kName);
  CHECK(r.edges[0].priority == 0);
  CHECK(r.edges[0].weight == 20);
  CHECK(r.edges[2].priority == 20);
  CHECK(f.count(sdk::LogLevel::info, {kName, "3 target(s) from resolver " + dns.address()}) == 1);
}

TEST_CASE("dns-srv gives each SRV name its own region, interleaved") {
  DnsmasqServer dns(
      {{{"_a._udp.example.test", "a1.example.test", 7001, 0, 0},
        {"_a._udp.example.test", "a2.example.test", 7002, 1, 0},
        {"_b._udp.example.test", "b1.example.test", 7101, 0, 0}},
       {{"a1.example.test", "127.0.1.1"}, {"a2.example.test", "127.0.1.2"}, {"b1.example.test", "127.0.2.1"}}});
  DnsSrvFixture f;
  f.make(TableBuilder()
             .set("name", {item("_a._udp.example.test"), item("_b._udp.example.test")})
             .set("resolvers", {item(dns.address())}));
  auto r = f.resolve();
  REQUIRE_FALSE(r.error);
  CHECK(r.addresses() == std::vector<std::string>{"127.0.1.1:7001", "127.0.2.1:7101", "127.0.1.2:7002"});
  CHECK(r.edges[0].region == "_a._udp.example.test");
  CHECK(r.edges[1].region == "_b._udp.example.test");
  CHECK(r.edges[2].region == "_a._udp.example.test");
}

TEST_CASE("dns-srv completes with no_edges on NXDOMAIN, naming the record and the resolver") {
  DnsmasqServer dns(three_edges());
  DnsSrvFixture f;
  f.make(table_for(dns, "_missing._udp.example.test"));
  auto r = f.resolve();
  CHECK(r.error == sdk::make_error_code(sdk::errc::no_edges));
  CHECK(r.edges.empty());
  CHECK(f.count(sdk::LogLevel::warn, {"no edges from DNS (no_edges)", "_missing._udp.example.test",
                                      "resolver " + dns.address(), "NXDOMAIN"}) == 1);
}

TEST_CASE("dns-srv skips a target that has no A record") {
  DnsmasqServer dns({{{kName, "edge1.example.test", 7844, 0, 0},
                      {kName, "ghost.example.test", 7844, 0, 0},
                      {"_ghost._udp.example.test", "ghost.example.test", 7844, 0, 0}},
                     {{"edge1.example.test", "127.0.0.1"}}});
  DnsSrvFixture f;
  f.make(table_for(dns).set("ip_version", "4"));
  auto r = f.resolve();
  REQUIRE_FALSE(r.error);
  CHECK(r.addresses() == std::vector<std::string>{"127.0.0.1:7844"});
  CHECK(f.count(sdk::LogLevel::warn,
                {"skipped targets with no address", "ghost.example.test (no address record: A: "}) == 1);

  DnsSrvFixture g;
  g.make(table_for(dns, "_ghost._udp.example.test"));
  CHECK(g.resolve().error == sdk::make_error_code(sdk::errc::no_edges));
}

TEST_CASE("dns-srv serves the last answer while the resolver is down, then fails after max_stale") {
  DnsmasqServer dns(three_edges());
  DnsSrvFixture f;
  f.make(table_for(dns)
             .set("min_ttl", "300ms")
             .set("max_ttl", "300ms")
             .set("max_stale", "1s")
             .set("timeout", "200ms")
             .set("attempts", 1));
  auto asked = Clock::now();
  auto first = f.resolve();
  auto answered = Clock::now();
  INFO(f.log_text());
  REQUIRE_FALSE(first.error);
  dns.stop();

  int stale_served = 0;
  std::optional<Resolved> failed;
  Clock::time_point failed_at;
  for (auto deadline = answered + 10s; !failed && Clock::now() < deadline;) {
    auto r = f.resolve();
    if (r.error) {
      failed = r;
      failed_at = Clock::now();
    } else {
      CHECK(r.addresses() == first.addresses());
      if (Clock::now() >= answered + 300ms) ++stale_served;
      f.pause(50ms);  // pace the polling; the expiry is what we wait for
    }
  }
  REQUIRE(failed);
  CHECK(failed->error == sdk::make_error_code(sdk::errc::discovery_failed));
  CHECK(stale_served >= 1);
  // The answer was fetched between `asked` and `answered`; it is served for
  // its TTL (300 ms) plus max_stale (1 s), and no longer (3 s of slack for a busy machine).
  CHECK(failed_at >= asked + 1300ms);
  CHECK(failed_at <= answered + 1300ms + 3s);
  CHECK(f.count(sdk::LogLevel::warn, {kName, "no answer from resolver " + dns.address(), "serving the answer from"}) ==
        1);
  CHECK(f.count(sdk::LogLevel::warn, {"no edges from DNS (discovery_failed)", kName,
                                      "no answer from resolver " + dns.address(), "max_stale"}) == 1);
  INFO(f.log_text());
}

TEST_CASE("dns-srv picks up a changed record once its TTL is over") {
  constexpr unsigned kTtl = 2;
  auto records = three_edges(kTtl);
  DnsmasqServer dns(records);
  DnsSrvFixture f;
  f.make(table_for(dns).set("min_ttl", "0s").set("max_ttl", "1h"));  // the DNS TTL rules
  auto asked = Clock::now();
  REQUIRE(f.resolve().addresses().front() == "127.0.0.2:7845");
  auto answered = Clock::now();

  // edge2 moves to 127.0.0.4: dnsmasq answers so at once; we may see it only after the TTL.
  records.hosts[1].address = "127.0.0.4";
  dns.set_hosts(records.hosts, records.hosts[1]);
  auto r = f.resolve();
  if (Clock::now() < asked + std::chrono::seconds(kTtl))  // else the machine was too slow to tell
    CHECK(r.addresses().front() == "127.0.0.2:7845");     // still fresh: not asked again

  std::optional<Clock::time_point> seen;
  for (auto deadline = answered + 15s; !seen && Clock::now() < deadline;) {
    if (f.resolve().addresses().front() == "127.0.0.4:7845")
      seen = Clock::now();
    else
      f.pause(50ms);
  }
  REQUIRE(seen);
  CHECK(*seen >= asked + std::chrono::seconds(kTtl));
  CHECK(*seen <= answered + std::chrono::seconds(kTtl) + 5s);
}

TEST_CASE("dns-srv resolves targets to AAAA, A or both as ip_version says") {
  DnsmasqServer dns(
      {{{kName, "dual.example.test", 7844, 0, 0}, {"_six._udp.example.test", "six.example.test", 7844, 0, 0}},
       {{"dual.example.test", "127.0.0.5"}, {"dual.example.test", "::1"}, {"six.example.test", "::1"}}});
  std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"6", {"[::1]:7844"}}, {"4", {"127.0.0.5:7844"}}, {"auto", {"127.0.0.5:7844", "[::1]:7844"}}};
  for (const auto& [version, expected] : cases) {
    DnsSrvFixture f;
    f.make(table_for(dns).set("ip_version", version));
    auto r = f.resolve();
    INFO("ip_version = " << version);
    REQUIRE_FALSE(r.error);
    CHECK(r.addresses() == expected);
    CHECK(r.edges.front().host == "dual.example.test");
  }
  DnsSrvFixture v6;
  v6.make(table_for(dns, "_six._udp.example.test").set("ip_version", 6));  // an integer reads as "6"
  CHECK(v6.resolve().addresses() == std::vector<std::string>{"[::1]:7844"});
  DnsSrvFixture v4;
  v4.make(table_for(dns, "_six._udp.example.test").set("ip_version", "4"));
  CHECK(v4.resolve().error == sdk::make_error_code(sdk::errc::no_edges));
}

TEST_CASE("dns-srv uses the fallback list only when DNS gives nothing") {
  DnsmasqServer dns(three_edges());
  DnsSrvFixture f;
  f.make(table_for(dns, "_missing._udp.example.test").set("fallback", {item("127.0.0.9:7844"), item("[::1]:7845")}));
  auto r = f.resolve();
  REQUIRE_FALSE(r.error);
  CHECK(r.addresses() == std::vector<std::string>{"127.0.0.9:7844", "[::1]:7845"});
  CHECK(r.edges[0].region == "fallback");
  CHECK(f.count(sdk::LogLevel::warn, {"_missing._udp.example.test", "trying the fallback list"}) == 1);

  DnsSrvFixture g;  // a name that resolves: the fallback stays unused
  g.make(table_for(dns).set("fallback", {item("127.0.0.9:7844")}));
  CHECK(g.resolve().addresses().size() == 3);

  dns.stop();  // nothing cached and nobody answers
  DnsSrvFixture h;
  h.make(table_for(dns).set("timeout", "100ms").set("attempts", 1).set("fallback", {item("127.0.0.9:7844")}));
  CHECK(h.resolve().addresses() == std::vector<std::string>{"127.0.0.9:7844"});
}

TEST_CASE("dns-srv shares one lookup among concurrent resolves and survives being destroyed mid-lookup") {
  DnsmasqServer dns(three_edges());
  DnsSrvFixture f;
  f.make(table_for(dns));
  std::vector<Resolved> results;
  for (int i = 0; i < 3; ++i)
    f.discovery->async_resolve([&](sdk::error_code ec, std::vector<sdk::EdgeAddress> e) {
      results.push_back({ec, std::move(e)});
    });
  f.run_until([&] { return results.size() == 3; }, 15s);
  REQUIRE(results.size() == 3);
  INFO(f.log_text());
  INFO("dnsmasq running: " << dns.running() << "\n" << dns.log());
  for (const auto& r : results) CHECK(r.addresses().size() == 3);

  // A resolver that never answers: a bound UDP socket nobody reads.
  DnsSrvFixture g;
  boost::asio::ip::udp::socket silent(g.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  g.make(TableBuilder()
             .set("name", kName)
             .set("resolvers", {item("127.0.0.1:" + std::to_string(silent.local_endpoint().port()))})
             .set("timeout", "5s"));
  bool called = false;
  g.discovery->async_resolve([&](sdk::error_code, std::vector<sdk::EdgeAddress>) { called = true; });
  g.pause(100ms);
  g.discovery.reset();  // a query in flight: dropped, never called back
  g.pause(100ms);
  CHECK_FALSE(called);
}

TEST_CASE("dns-srv config: name as a string or a list, and errors where they are written") {
  test::PluginFixture f;
  auto ok = f.make<sdk::Discovery>(sdk::PluginKind::discovery, "dns-srv",
                                   TableBuilder().set("name", kName).set("resolvers", {item("127.0.0.1")}).table());
  CHECK(ok);
  test::PluginFixture g;
  CHECK_FALSE(g.make<sdk::Discovery>(sdk::PluginKind::discovery, "dns-srv",
                                     TableBuilder()
                                         .set("name", {item(kName), item(kName)})
                                         .set("resolvers", {item("dns.example:53"), item("[::1]:5353")})
                                         .set("fallback", {item("edge")})
                                         .set("min_ttl", "1m")
                                         .set("max_ttl", "30s")
                                         .set("ip_version", 5)
                                         .table()));
  CHECK(g.errors() == std::vector<std::string>{"'ip_version' = \"5\" is not one of auto, 4, 6; did you mean '4'?"});
  test::PluginFixture h;
  CHECK_FALSE(h.make<sdk::Discovery>(sdk::PluginKind::discovery, "dns-srv",
                                     TableBuilder()
                                         .set("name", {item(kName), item(kName)})
                                         .set("resolvers", {item("dns.example:53"), item("[::1]:5353")})
                                         .set("fallback", {item("edge")})
                                         .set("min_ttl", "1m")
                                         .set("max_ttl", "30s")
                                         .table()));
  CHECK(h.errors() ==
        std::vector<std::string>{"'name' lists \"_warren._udp.example.test\" twice",
                                 "'resolvers' entry \"dns.example:53\": a resolver must be an IP address, not a name",
                                 "'fallback' entry \"edge\": missing ':PORT'",
                                 "'max_ttl' (30s) must not be less than 'min_ttl' (1m)"});
  test::PluginFixture m;
  CHECK_FALSE(m.make<sdk::Discovery>(sdk::PluginKind::discovery, "dns-srv", TableBuilder().table()));
  REQUIRE(m.errors().size() == 1);
  CHECK(m.errors()[0].rfind("missing required key 'name'", 0) == 0);

  auto found = f.loader.find(sdk::PluginKind::discovery, "dns-srv");
  REQUIRE(std::holds_alternative<core::LoadedPlugin>(found));
  auto keys = std::get<core::LoadedPlugin>(found).keys();
  REQUIRE(keys);
  std::vector<std::string> names;
  for (const auto& k : keys->keys) {
    names.push_back(k.name);
    CHECK_FALSE(k.doc.empty());
  }
  CHECK(names == std::vector<std::string>{"name", "resolvers", "timeout", "attempts", "min_ttl", "max_ttl", "max_stale",
                                          "fallback", "ip_version"});
}
