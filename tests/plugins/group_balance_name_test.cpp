// The group's advice on `balance` words from other proxies (balance_name.hpp).

#include "plugins/group/balance_name.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::group;
using sdk::testing::TableBuilder;

TEST_CASE("other proxies' balance words and near misses map to ours") {
  CHECK(balance_meant("leastconn") == "least_connections");      // HAProxy
  CHECK(balance_meant("least_conn") == "least_connections");     // nginx
  CHECK(balance_meant("LEAST_REQUEST") == "least_connections");  // Envoy
  CHECK(balance_meant("Least-Connections") == "least_connections");
  CHECK(balance_meant("least") == "least_connections");
  CHECK(balance_meant("least_connection") == "least_connections");  // a typo
  CHECK(balance_meant("roundrobin") == "round_robin");              // HAProxy
  CHECK(balance_meant("ROUND_ROBIN") == "round_robin");             // Envoy
  CHECK(balance_meant("rr") == "round_robin");
  CHECK(balance_meant("static-rr") == "round_robin");
  CHECK(balance_meant("RANDOM") == "random");
  CHECK(balance_meant("radnom") == "random");
  // Ours need no advice; nothing close gets none.
  for (const auto& word : balance_words()) CHECK_FALSE(balance_meant(word));
  CHECK_FALSE(balance_meant("fastest"));
  CHECK_FALSE(balance_meant("source"));
  CHECK_FALSE(balance_meant(""));
  CHECK_FALSE(balance_meant("lea"));  // too short a start to guess from
}

TEST_CASE("diagnose_balance names the word to write and leaves the rest to the schema") {
  sdk::Diagnostics diagnostics;
  auto table = TableBuilder().set("targets", "x").set("balance", "leastconn").set("rise", 2).table();
  auto rest = diagnose_balance(table, diagnostics);
  REQUIRE(diagnostics.list().size() == 1);
  CHECK(diagnostics.list()[0].to_string() ==
        "test.toml:3:1: 'balance' = \"leastconn\" is not one of round_robin, random, least_connections; did you "
        "mean \"least_connections\"?");
  REQUIRE(rest.entries.size() == 2);  // balance is out: no second, vaguer error from the schema
  CHECK(rest.entries[0].key == "targets");
  CHECK(rest.entries[1].key == "rise");

  sdk::Diagnostics keyed;
  auto strategy = diagnose_balance(TableBuilder().set("strategy", "leastconn").table(), keyed);
  REQUIRE(keyed.list().size() == 1);
  CHECK_THAT(keyed.list()[0].to_string(),
             Catch::EndsWith("unknown key 'strategy' in [plugin]; did you mean balance = \"least_connections\"?"));
  CHECK(strategy.entries.empty());

  sdk::Diagnostics vague;
  diagnose_balance(TableBuilder().set("lb_policy", "weighted").table(), vague);
  REQUIRE(vague.list().size() == 1);
  CHECK_THAT(vague.list()[0].to_string(),
             Catch::EndsWith("did you mean 'balance' (one of round_robin, random, least_connections)?"));

  sdk::Diagnostics none;
  auto same = diagnose_balance(TableBuilder().set("balance", "fastest").table(), none);
  CHECK(none.ok());  // not ours to explain: the schema reports it
  CHECK(same.entries.size() == 1);
}
