// warren-token-timing: does the edge's token check (core/edge/token_check.hpp)
// take longer for a wrong token that shares a long prefix with the right one
// than for one wrong from its first byte? Prints the median ns per check of
// each kind over many interleaved rounds, and the largest spread between
// the wrong kinds. A figure, not a pass/fail test: timing on a shared
// machine is noisy, so the verdict is read from the numbers (README).
//
//   warren-token-timing [rounds] [checks-per-round]

#include "core/edge/token_check.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using warren::core::TokenSet;

namespace {

struct Kind {
  const char* name;
  std::string token;
  std::vector<double> medians;  ///< ns per check, one per round
};

volatile bool sink;

double ns_per_check(const TokenSet& set, const std::string& token, int checks) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < checks; ++i) sink = set.accepts(token);
  std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  return took.count() / checks;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 201;
  int checks = argc > 2 ? std::atoi(argv[2]) : 2000;
  const std::string right = "k9Qz7VtL2xWm4Rb8Yc1Hd6Jf3Ns5Pg0A";  // 32 bytes
  for (std::size_t listed : {1u, 2u, 8u}) {
    std::vector<std::string> tokens{right};
    for (std::size_t i = 1; i < listed; ++i) tokens.push_back(right.substr(0, 31) + char('a' + i));
    TokenSet set(tokens);
    std::vector<Kind> kinds{
        {"right token", right, {}},
        {"wrong last byte (31-byte right prefix)", right.substr(0, 31) + "#", {}},
        {"wrong middle byte (16-byte right prefix)", right.substr(0, 16) + "#" + right.substr(17), {}},
        {"wrong first byte", "#" + right.substr(1), {}},
        {"all bytes wrong", std::string(32, '#'), {}},
    };
    for (int r = 0; r < rounds; ++r)
      for (std::size_t k = 0; k < kinds.size(); ++k) {
        auto& kind = kinds[(k + static_cast<std::size_t>(r)) % kinds.size()];  // rotate the order each round
        kind.medians.push_back(ns_per_check(set, kind.token, checks));
      }
    std::printf("tokens listed: %zu (%d rounds x %d checks, median ns per check)\n", listed, rounds, checks);
    double low = 1e18, high = 0;
    for (auto& kind : kinds) {
      double m = median(kind.medians);
      std::printf("  %-42s %8.1f ns\n", kind.name, m);
      if (kind.token != right) {
        low = std::min(low, m);
        high = std::max(high, m);
      }
    }
    std::printf("  spread among wrong tokens: %.1f ns (%.1f %%)\n", high - low, 100.0 * (high - low) / low);
  }
  return 0;
}
