#pragma once
// Inline definitions for time.hpp: the SDK is header-only so that a plugin
// built out of tree links nothing of warren's.

#include <cstdint>
#include <limits>

namespace warren::sdk {

inline std::optional<Duration> parse_duration(std::string_view text) {
  struct Unit {
    std::string_view name;
    std::int64_t ns;
  };
  // Longest names first so "ms" is not read as "m".
  static constexpr Unit units[] = {{"ns", 1},
                                   {"us", 1'000},
                                   {"ms", 1'000'000},
                                   {"s", 1'000'000'000},
                                   {"m", 60'000'000'000},
                                   {"h", 3'600'000'000'000}};
  if (text.empty()) return std::nullopt;
  long double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    bool has_int = i > start;
    long double value = 0;
    for (std::size_t k = start; k < i; ++k) value = value * 10 + (text[k] - '0');
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      std::size_t frac_start = i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (!has_int && i == frac_start) return std::nullopt;
    } else if (!has_int) {
      return std::nullopt;
    }
    const Unit* unit = nullptr;
    for (const auto& u : units) {
      if (text.substr(i, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    i += unit->name.size();
    total += value * unit->ns;
    if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  }
  return Duration(static_cast<std::int64_t>(total + 0.5L));
}

inline std::string format_duration(Duration d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  constexpr std::int64_t s = 1'000'000'000;
  if (ns >= s) {
    if (std::int64_t h = ns / (3600 * s)) out += std::to_string(h) + "h";
    ns %= 3600 * s;
    if (std::int64_t m = ns / (60 * s)) out += std::to_string(m) + "m";
    ns %= 60 * s;
    if (ns == 0) return out;
    std::string secs = std::to_string(ns / s);
    if (std::int64_t frac = ns % s) {
      std::string f = std::to_string(frac);
      f.insert(0, 9 - f.size(), '0');
      while (f.back() == '0') f.pop_back();
      secs += "." + f;
    }
    return out + secs + "s";
  }
  if (ns % 1'000'000 == 0) return out + std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return out + std::to_string(ns / 1'000) + "us";
  return out + std::to_string(ns) + "ns";
}

inline std::string human_duration(Duration d) {
  std::int64_t ns = d.count();
  if (ns < 0) return "-" + human_duration(Duration(ns == std::numeric_limits<std::int64_t>::min() ? -(ns + 1) : -ns));
  if (ns == 0) return "0 s";
  auto rounded = [](std::int64_t value, std::int64_t unit) { return (value + unit / 2) / unit; };
  constexpr std::int64_t us = 1'000, ms = 1'000'000, s = 1'000'000'000;
  if (ns < us) return std::to_string(ns) + " ns";
  if (ns < ms - us / 2) return std::to_string(rounded(ns, us)) + " us";
  if (ns < s / 2) return std::to_string(rounded(ns, ms)) + " ms";
  if (ns < 10 * s - s / 20) {  // tenths of a second: "0.9 s", "4.5 s"
    auto tenths = rounded(ns, s / 10);
    if (tenths % 10 == 0) return std::to_string(tenths / 10) + " s";
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
  }
  auto secs = rounded(ns, s);
  if (secs < 120) return std::to_string(secs) + " s";
  if (secs < 2 * 3600) {
    auto text = std::to_string(secs / 60) + " min";
    return secs % 60 ? text + " " + std::to_string(secs % 60) + " s" : text;
  }
  auto mins = (secs + 30) / 60;
  auto text = std::to_string(mins / 60) + " h";
  return mins % 60 ? text + " " + std::to_string(mins % 60) + " min" : text;
}

}  // namespace warren::sdk
