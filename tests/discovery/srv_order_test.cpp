// RFC 2782 ordering: priorities strictly first, weights as shares among
// equal priorities, drawn from an injected source.

#include "discovery/dns-srv/srv_order.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace warren;
using dns_srv::SrvRecord;

namespace {

std::vector<std::string> targets(const std::vector<SrvRecord>& records, const std::vector<std::size_t>& order) {
  std::vector<std::string> out;
  for (auto i : order) out.push_back(records[i].target);
  return out;
}

}  // namespace

TEST_CASE("srv order puts lower priorities first whatever the draws") {
  std::vector<SrvRecord> records = {{"c", 1, 20, 100}, {"a", 1, 0, 1}, {"b", 1, 10, 50}, {"d", 1, 10, 0}};
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    sdk::SeededRandom random(seed);
    auto order = targets(records, dns_srv::rfc2782_order(records, random));
    REQUIRE(order.size() == 4);
    CHECK(order.front() == "a");
    CHECK(order.back() == "c");
  }
}

TEST_CASE("srv order follows the RFC 2782 running sum for a stated draw") {
  // Weights 10, 30, 60 (sum 100); a draw of 0.5 picks in [0, 100]: 50 -> the
  // running sums are 10, 40, 100, so "w60" is first; then weights 10, 30 (sum
  // 40): 0.5 * 41 = 20 -> running sums 10, 40 -> "w30"; "w10" is last.
  std::vector<SrvRecord> records = {{"w10", 1, 0, 10}, {"w30", 1, 0, 30}, {"w60", 1, 0, 60}};
  sdk::testing::ScriptedRandom half({0.5});
  CHECK(targets(records, dns_srv::rfc2782_order(records, half)) == std::vector<std::string>{"w60", "w30", "w10"});
  // A draw of 0 takes the first record of the running sum.
  sdk::testing::ScriptedRandom zero({0.0});
  CHECK(targets(records, dns_srv::rfc2782_order(records, zero)) == std::vector<std::string>{"w10", "w30", "w60"});
  // Weight-0 records go first in the list, so a draw of 0 picks them.
  std::vector<SrvRecord> with_zero = {{"heavy", 1, 0, 10}, {"zero", 1, 0, 0}};
  CHECK(targets(with_zero, dns_srv::rfc2782_order(with_zero, zero)) == std::vector<std::string>{"zero", "heavy"});
  sdk::testing::ScriptedRandom top({0.99});
  CHECK(targets(with_zero, dns_srv::rfc2782_order(with_zero, top)) == std::vector<std::string>{"heavy", "zero"});
}

TEST_CASE("srv order gives each record a first place in proportion to its weight over many seeded draws") {
  std::vector<SrvRecord> records = {{"w10", 1, 5, 10}, {"w30", 1, 5, 30}, {"w60", 1, 5, 60}, {"w0", 1, 5, 0}};
  constexpr int kDraws = 100'000;
  std::map<std::string, int> first;
  sdk::SeededRandom random(2782);
  for (int i = 0; i < kDraws; ++i) ++first[records[dns_srv::rfc2782_order(records, random).front()].target];
  // The RFC's draw is uniform over 0..100 (101 values): the weight-0 record
  // wins on 0, each weighted record on `weight` values.
  auto share = [&](const std::string& t) { return static_cast<double>(first[t]) / kDraws; };
  CHECK(share("w0") == Approx(1.0 / 101).margin(0.003));
  CHECK(share("w10") == Approx(10.0 / 101).margin(0.006));
  CHECK(share("w30") == Approx(30.0 / 101).margin(0.006));
  CHECK(share("w60") == Approx(60.0 / 101).margin(0.006));
}

TEST_CASE("srv order with one seed is the same order every time") {
  std::vector<SrvRecord> records;
  for (int i = 0; i < 12; ++i)
    records.push_back({"t" + std::to_string(i), 1, static_cast<std::uint16_t>(i % 3), static_cast<std::uint16_t>(i)});
  sdk::SeededRandom a(7), b(7), c(8);
  auto first = dns_srv::rfc2782_order(records, a);
  CHECK(first == dns_srv::rfc2782_order(records, b));
  bool differs = false;
  for (int i = 0; i < 10 && !differs; ++i) differs = dns_srv::rfc2782_order(records, c) != first;
  CHECK(differs);
  CHECK(dns_srv::rfc2782_order({}, a).empty());
}
