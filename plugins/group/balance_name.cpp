#include "plugins/group/balance_name.hpp"

#include <warren/sdk/suggest.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace warren::group {

namespace {

/// Lowercase, without '_', '-', ' ' and '.': "Least-Connections" and "least_connections" compare equal.
std::string squeeze(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '_' || c == '-' || c == ' ' || c == '.') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

}  // namespace

const std::vector<std::string>& balance_words() {
  static const std::vector<std::string> words{"round_robin", "random", "least_connections"};
  return words;
}

std::optional<std::string> balance_meant(std::string_view written) {
  const auto& words = balance_words();
  if (std::find(words.begin(), words.end(), written) != words.end()) return std::nullopt;
  // Squeezed spellings of other proxies that neither a prefix nor a typo reaches.
  static const std::array<std::pair<std::string_view, std::string_view>, 7> elsewhere{{
      {"leastconn", "least_connections"},  // HAProxy; nginx's least_conn squeezes to it
      {"leastconns", "least_connections"},
      {"leastrequest", "least_connections"},  // Envoy's LEAST_REQUEST
      {"leastrequests", "least_connections"},
      {"rr", "round_robin"},
      {"staticrr", "round_robin"},  // HAProxy's static-rr
      {"rand", "random"},
  }};
  auto squeezed = squeeze(written);
  if (squeezed.empty()) return std::nullopt;
  for (const auto& [name, word] : elsewhere)
    if (squeezed == name) return std::string(word);
  for (const auto& word : words) {
    auto target = squeeze(word);
    if (squeezed == target) return word;
    if (squeezed.size() >= 4 && target.starts_with(squeezed)) return word;
  }
  std::vector<std::string> squeezed_words;
  for (const auto& word : words) squeezed_words.push_back(squeeze(word));
  if (auto match = sdk::closest_match(squeezed, squeezed_words))
    for (const auto& word : words)
      if (squeeze(word) == *match) return word;
  return std::nullopt;
}

bool names_balance(std::string_view key) {
  static const std::array<std::string_view, 7> names{"strategy",     "algorithm",      "lb_policy",    "lb_method",
                                                     "lb_algorithm", "load_balancing", "load_balancer"};
  return std::find(names.begin(), names.end(), key) != names.end();
}

sdk::ConfigTable diagnose_balance(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) {
  sdk::ConfigTable rest = table;
  rest.entries.clear();
  std::string in = table.path.empty() ? "" : " in [" + table.path + "]";
  for (const auto& entry : table.entries) {
    const auto* text = std::get_if<std::string>(&entry.value.value);
    if (entry.key == "balance" && text) {
      if (auto meant = balance_meant(*text)) {
        diagnostics.error(entry.value.where, "'balance' = \"" + *text + "\" is not one of " + join(balance_words()) +
                                                 "; did you mean \"" + *meant + "\"?");
        continue;
      }
    } else if (names_balance(entry.key)) {
      // The value, when it is a string, says which word to write.
      std::string word = text ? balance_meant(*text).value_or(*text) : "";
      bool known = std::find(balance_words().begin(), balance_words().end(), word) != balance_words().end();
      diagnostics.error(
          entry.key_where.line ? entry.key_where : entry.value.where,
          "unknown key '" + entry.key + "'" + in + "; did you mean " +
              (known ? "balance = \"" + word + "\"" : "'balance' (one of " + join(balance_words()) + ")") + "?");
      continue;
    }
    rest.entries.push_back(entry);
  }
  return rest;
}

}  // namespace warren::group
