#include <warren/sdk/config_reader.hpp>
#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren::sdk;
using testing::TableBuilder;
using namespace std::chrono_literals;

namespace {
std::vector<std::string> messages(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.list()) out.push_back(x.to_string());
  return out;
}
}  // namespace

TEST_CASE("values and defaults are read with their types") {
  auto t = TableBuilder("backend").set("address", "127.0.0.1:80").set("n", 3).set("f", 1.5).set("b", true)
               .set("d", "2s").table();
  Diagnostics d;
  ConfigReader r(t, d);
  CHECK(r.endpoint("address", std::nullopt, "") == Endpoint{"127.0.0.1", 80});
  CHECK(r.integer("n", 0, "") == 3);
  CHECK(r.number("f", 0.0, "") == 1.5);
  CHECK(r.boolean("b", false, "") == true);
  CHECK(r.duration("d", 1s, "") == 2s);
  CHECK(r.duration("absent", 7s, "") == 7s);
  CHECK(r.number("n", 0.0, "") == 3.0);  // integers are numbers too
  r.finish();
  CHECK(d.ok());
}

TEST_CASE("an unknown key near a known one suggests it, at the key's location") {
  auto t = TableBuilder("backend", "tunnel.toml").set("adress", "127.0.0.1:8080").table();
  Diagnostics d;
  {
    ConfigReader r(t, d);
    r.endpoint("address", std::nullopt, "the local service");
    r.boolean("allow_remote", false, "");
  }  // the destructor finishes
  // One error, not two: the typo explains the missing key.
  CHECK(messages(d) == std::vector<std::string>{
                           "tunnel.toml:2:1: unknown key 'adress' in [backend]; did you mean 'address'?"});
}

TEST_CASE("an unknown key far from every known one lists them") {
  auto t = TableBuilder("p").set("zzzzzz", 1).table();
  Diagnostics d;
  ConfigReader r(t, d);
  r.integer("alpha", 1, "");
  r.integer("beta", 1, "");
  r.finish();
  CHECK(messages(d) == std::vector<std::string>{"test.toml:2:1: unknown key 'zzzzzz' in [p]; known keys: alpha, beta"});
}

TEST_CASE("missing required keys are named with their doc line") {
  auto t = TableBuilder("discovery").table();
  Diagnostics d;
  ConfigReader r(t, d);
  CHECK_FALSE(r.string_list("edges", std::nullopt, "edge addresses"));
  r.finish();
  CHECK(messages(d) == std::vector<std::string>{"test.toml:1:1: missing required key 'edges' in [discovery] (edge addresses)"});
}

TEST_CASE("wrong types, bad durations and out-of-range values are errors at the value") {
  auto t = TableBuilder().set("n", "three").set("d", "30").set("m", 0.5).set("k", 9).set("j", "fulll").table();
  Diagnostics d;
  ConfigReader r(t, d);
  CHECK_FALSE(r.integer("n", 1, ""));
  CHECK_FALSE(r.duration("d", 1s, ""));
  CHECK_FALSE(r.number("m", 2.0, "", {.min = 1.0, .max = 100.0}));
  CHECK_FALSE(r.integer("k", 2, "", {.min = 1, .max = 4}));
  CHECK_FALSE(r.choice("j", {"none", "full"}, "full", ""));
  r.finish();
  CHECK(messages(d) == std::vector<std::string>{
                           "test.toml:2:1: 'n' must be an integer, not a string",
                           "test.toml:3:1: 'd' = \"30\" is not a duration; write a number with a unit: \"250ms\", "
                           "\"30s\", \"5m\"",
                           "test.toml:4:1: 'm' = 0.5 is out of range: must be between 1 and 100",
                           "test.toml:5:1: 'k' = 9 is out of range: must be between 1 and 4",
                           "test.toml:6:1: 'j' = \"fulll\" is not one of none, full; did you mean 'full'?",
                       });
}

TEST_CASE("string lists report each bad element where it stands") {
  ConfigValue::Array items{testing::item("a"), ConfigValue{std::int64_t{3}, {"x.toml", 4, 12}}};
  auto t = TableBuilder().set("edges", items).table();
  Diagnostics d;
  ConfigReader r(t, d);
  CHECK_FALSE(r.string_list("edges", std::nullopt, ""));
  r.finish();
  REQUIRE(d.list().size() == 1);
  CHECK(d.list()[0].message == "'edges' must hold strings, not integers");
}

TEST_CASE("suggestions tolerate about a third of the letters wrong") {
  std::vector<std::string> known{"address", "allow_remote", "connect_timeout"};
  CHECK(closest_match("adress", known) == "address");
  CHECK(closest_match("adresss", known) == "address");
  CHECK(closest_match("addrses", known) == "address");  // a swap counts once
  CHECK(closest_match("conect_timeout", known) == "connect_timeout");
  CHECK_FALSE(closest_match("port", known));
}
