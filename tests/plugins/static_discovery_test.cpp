// The `static` discovery, loaded by name.

#include "plugin_fixture.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;
using sdk::testing::item;
using sdk::testing::TableBuilder;

namespace {

std::pair<sdk::error_code, std::vector<sdk::EdgeAddress>> resolve(test::PluginFixture& f, sdk::Discovery& d) {
  std::optional<std::pair<sdk::error_code, std::vector<sdk::EdgeAddress>>> result;
  d.async_resolve([&](sdk::error_code ec, std::vector<sdk::EdgeAddress> a) { result.emplace(ec, std::move(a)); });
  for (auto deadline = std::chrono::steady_clock::now() + 10s; !result && std::chrono::steady_clock::now() < deadline;)
    f.io.run_one_for(100ms);
  REQUIRE(result);
  return *result;
}

}  // namespace

TEST_CASE("static discovery returns the edges in the configured order") {
  test::PluginFixture f;
  auto d = f.make<sdk::Discovery>(
      sdk::PluginKind::discovery, "static",
      TableBuilder().set("edges", {item("127.0.0.2:7844"), item("[::1]:7845"), item("localhost:7846")}).table());
  REQUIRE(d);
  auto [ec, edges] = resolve(f, *d);
  REQUIRE_FALSE(ec);
  REQUIRE(edges.size() >= 3);
  CHECK(edges[0].to_string() == "127.0.0.2:7844");
  CHECK(edges[0].priority == 0);
  CHECK(edges[1].to_string() == "[::1]:7845");
  CHECK(edges[2].host == "localhost");
  CHECK(edges[2].port == 7846);
  CHECK(edges[2].address.is_loopback());
}

TEST_CASE("static discovery reports every bad edge where it is written") {
  test::PluginFixture f;
  CHECK_FALSE(f.make<sdk::Discovery>(
      sdk::PluginKind::discovery, "static",
      TableBuilder().set("edges", {item("127.0.0.1"), item("edge:99999"), item("a:1"), item("a:1")}).table()));
  CHECK(f.errors() == std::vector<std::string>{"edge \"127.0.0.1\": missing ':PORT'",
                                               "edge \"edge:99999\": port 99999 is out of range 1-65535",
                                               "edge \"a:1\" is listed twice"});
}

TEST_CASE("static discovery needs at least one edge") {
  test::PluginFixture f;
  CHECK_FALSE(f.make<sdk::Discovery>(sdk::PluginKind::discovery, "static",
                                     TableBuilder().set("edges", sdk::ConfigValue::Array{}).table()));
  CHECK(f.errors() == std::vector<std::string>{"'edges' is empty; list at least one \"host:port\""});
  test::PluginFixture g;
  CHECK_FALSE(g.make<sdk::Discovery>(sdk::PluginKind::discovery, "static", TableBuilder().table()));
  CHECK(g.errors() == std::vector<std::string>{
                          "missing required key 'edges' in [plugin] (edge addresses, host:port, most preferred first)"});
}
