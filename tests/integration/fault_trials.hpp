#pragma once
// What the fault-matrix cases share (issue 11, item 1): how many trials a
// case runs and from which seed, the one line per trial that
// tests/tools/fault_matrix.py collects, percentiles, and a process's peak
// RSS. CTest runs each case with a few trials; the script runs each case 20
// times (WARREN_FAULT_TRIALS=1, WARREN_FAULT_SEED=1..20) and prints the
// figures.

#include "tunnel_fixture.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace warren::test {

/// A positive integer from the environment, else `fallback`.
inline long env_number(const char* name, long fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  long value = std::strtol(text, nullptr, 10);
  return value > 0 ? value : fallback;
}

/// Trials this run makes of a case (WARREN_FAULT_TRIALS, else `fallback`).
inline int fault_trials(int fallback) { return static_cast<int>(env_number("WARREN_FAULT_TRIALS", fallback)); }
/// The first trial's seed (WARREN_FAULT_SEED, else 1); trial i uses seed + i.
inline std::uint64_t fault_seed() { return static_cast<std::uint64_t>(env_number("WARREN_FAULT_SEED", 1)); }

/// One line on stdout per trial: "fault-figure case=NAME key=value ...".
/// The script parses these; Catch2 leaves stdout alone.
inline void print_figure(const std::string& name, const std::string& pairs) {
  std::cout << "fault-figure case=" << name << " " << pairs << std::endl;
}

/// The p-th percentile (nearest rank) of `values`; 0 when empty.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size()) + 0.999999);
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

/// A field of /proc/PID/status in KiB (e.g. "VmHWM", the peak RSS), or
/// nullopt when the process is gone.
inline std::optional<long> status_kib(int pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream rest(line.substr(field.size() + 1));
    long kib = 0;
    rest >> kib;
    return kib;
  }
  return std::nullopt;
}

/// "edge_hwm_kib=A connector_hwm_kib=B": both processes' peak RSS so far.
inline std::string peak_rss_pairs(int edge_pid, int connector_pid) {
  return "edge_hwm_kib=" + std::to_string(status_kib(edge_pid, "VmHWM").value_or(-1)) +
         " connector_hwm_kib=" + std::to_string(status_kib(connector_pid, "VmHWM").value_or(-1));
}

/// Waits until the connector logged `legs` registrations.
inline bool wait_legs_registered(Connector& connector, std::size_t legs, std::chrono::milliseconds deadline) {
  static const std::regex registered("registered with edge");
  for (auto until = std::chrono::steady_clock::now() + deadline;;
       std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    auto log = connector.process().stderr_text();
    auto seen = static_cast<std::size_t>(std::distance(std::sregex_iterator(log.begin(), log.end(), registered), {}));
    if (seen >= legs) return true;
    if (std::chrono::steady_clock::now() > until) return false;
  }
}

}  // namespace warren::test
