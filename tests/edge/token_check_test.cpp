// The edge's token check: any listed token registers a tunnel (rotation),
// and wrong tokens, however close to a right one, are 0/N accepted.

#include "core/edge/token_check.hpp"

#include "registry_fixture.hpp"

#include <warren/sdk/random.hpp>

#include <algorithm>
#include <string>

using namespace warren;
using namespace warren::core;
using namespace warren::core::test;

namespace {

// Tokens a guesser would try: near misses of `right` (every prefix, one
// byte changed at each position, a byte added) and random ones.
std::vector<std::string> near_misses(const std::string& right, sdk::SeededRandom& random, std::size_t random_count) {
  std::vector<std::string> out;
  for (std::size_t n = 0; n < right.size(); ++n) out.push_back(right.substr(0, n));
  for (std::size_t i = 0; i < right.size(); ++i) {
    auto changed = right;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    out.push_back(changed);
  }
  out.push_back(right + "x");
  out.push_back("x" + right);
  for (std::size_t i = 0; i < random_count; ++i) {
    std::string guess(1 + random.next_u64() % 64, '\0');
    for (auto& c : guess) c = static_cast<char>(' ' + random.next_u64() % 95);
    out.push_back(guess);
  }
  return out;
}

}  // namespace

TEST_CASE("a token set accepts each listed token and no other") {
  TokenSet set({"old-secret", "new-secret"});
  CHECK(set.size() == 2);
  CHECK(set.accepts("old-secret"));
  CHECK(set.accepts("new-secret"));
  CHECK_FALSE(set.accepts(""));
  CHECK_FALSE(set.accepts("old-secreT"));
  CHECK_FALSE(TokenSet().accepts(""));  // the stand-in for an unknown id accepts nothing
  CHECK_FALSE(TokenSet({""}).accepts(""));
}

TEST_CASE("N wrong tokens against a tunnel with several tokens are 0 accepted") {
  sdk::SeededRandom random{11};
  const std::vector<std::string> tokens{"correct horse battery staple", "Tr0ub4dor&3", "new-2026-secret"};
  TokenSet set(tokens);
  std::size_t tried = 0, accepted = 0;
  for (const auto& right : tokens)
    for (const auto& guess : near_misses(right, random, 2000)) {
      bool listed = std::find(tokens.begin(), tokens.end(), guess) != tokens.end();
      if (listed) continue;
      ++tried;
      accepted += set.accepts(guess) ? 1 : 0;
    }
  CHECK(tried > 6000);
  CHECK(accepted == 0);
}

TEST_CASE("a tunnel with tokens old and new registers either and refuses wrong tokens 0 of N") {
  Fixture f;
  std::vector<TunnelEntry> rotated{{"web", {"old", "new"}, std::nullopt, {}}};
  TunnelRegistry registry{f.limits, rotated};
  auto reg = [&](LegId leg, const std::string& token, std::uint8_t index) {
    protocol::RegisterConnection r;
    r.tunnel_id = "web";
    r.token = token;
    r.conn_index = index;
    r.connector_id = "c" + std::to_string(leg);
    return registry.register_leg(leg, r, f.clock.now(), f.random);
  };
  admitted(reg(1, "old", 0));
  admitted(reg(2, "new", 1));

  sdk::SeededRandom random{5};
  std::size_t refused = 0, tried = 0;
  LegId leg = 100;
  for (const auto& right : {std::string("old"), std::string("new")})
    for (const auto& guess : near_misses(right, random, 200)) {
      if (guess == "old" || guess == "new") continue;
      ++tried;
      auto result = reg(leg++, guess, 2);
      if (auto* r = std::get_if<protocol::Rejected>(&result); r && r->code == sdk::errc::auth_failed && r->fatal)
        ++refused;
    }
  CHECK(tried > 400);
  CHECK(refused == tried);

  // After a restart with the old token dropped, only the new one registers.
  std::vector<TunnelEntry> dropped{{"web", {"new"}, std::nullopt, {}}};
  TunnelRegistry after{f.limits, dropped};
  protocol::RegisterConnection r;
  r.tunnel_id = "web";
  r.token = "old";
  CHECK(rejected(after.register_leg(1, r, f.clock.now(), f.random)).code == sdk::errc::auth_failed);
  r.token = "new";
  admitted(after.register_leg(2, r, f.clock.now(), f.random));
}
