#pragma once
// "Did you mean …": the closest known name to a misspelt one.

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warren::sdk {

/// Optimal-string-alignment distance (Levenshtein plus adjacent swaps).
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

/// `text` in ASCII lower case.
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// The known name closest to `name`, if it is close enough to be a typo
/// (at most a third of its letters wrong, at least one allowed). Case does
/// not count as wrong: "UDP" finds "udp".
inline std::optional<std::string> closest_match(std::string_view name, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(1, name.size() / 3) + 1;
  const auto lower = ascii_lower(name);
  for (const auto& candidate : known) {
    std::size_t distance = edit_distance(lower, ascii_lower(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

/// ", did you mean 'x'?" or "" — to append to an error message.
inline std::string did_you_mean(std::string_view name, const std::vector<std::string>& known) {
  auto match = closest_match(name, known);
  return match ? "; did you mean '" + *match + "'?" : std::string();
}

}  // namespace warren::sdk
