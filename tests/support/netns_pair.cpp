#include "netns_pair.hpp"

#include "process.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <signal.h>
#include <stdexcept>
#include <unistd.h>

namespace warren::test {

namespace {

using namespace std::chrono_literals;

const std::string kPrefix = "warren-fault-";
const std::string kTable = "warren_fault";
const std::string kVeth = "wf0";  // each end lives in its own namespace, so one name serves both

/// The first of `candidates` that exists, else the bare name (for a clear error).
std::string find_tool(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (access(c.c_str(), X_OK) == 0) return c;
  return std::filesystem::path(candidates.front()).filename().string();
}

const std::string& ip_tool() {
  static const std::string path = find_tool({"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"});
  return path;
}

const std::string& nft_tool() {
  static const std::string path = find_tool({"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"});
  return path;
}

std::atomic<unsigned> pair_counter{0};

std::string hook_of(NetnsPair::Direction where) { return where == NetnsPair::Direction::in ? "in" : "out"; }

}  // namespace

void skip_test(const std::string& why) {
  std::cerr << "SKIPPED: " << why << std::endl;
  std::cout << "SKIPPED: " << why << std::endl;
  std::_Exit(kSkipReturnCode);
}

std::optional<std::string> NetnsPair::unavailable_reason() {
  static const std::optional<std::string> reason = []() -> std::optional<std::string> {
    if (access(ip_tool().c_str(), X_OK) != 0) return "no `ip` (Debian iproute2) on this machine";
    if (access(nft_tool().c_str(), X_OK) != 0) return "no `nft` (Debian nftables) on this machine";
    auto probe = kPrefix + std::to_string(getpid()) + "-probe";
    auto add = run_process({ip_tool(), "netns", "add", probe}, 10s);
    if (add.exit_code != 0) return "cannot create a network namespace (needs CAP_NET_ADMIN): " + add.err;
    auto nft = run_process({ip_tool(), "netns", "exec", probe, nft_tool(), "list", "ruleset"}, 10s);
    run_process({ip_tool(), "netns", "del", probe}, 10s);
    if (nft.exit_code != 0) return "nftables does not work inside a network namespace: " + nft.err;
    return std::nullopt;
  }();
  return reason;
}

void NetnsPair::sweep_stale_namespaces() {
  auto list = run_process({ip_tool(), "netns", "list"}, 10s);
  static const std::regex ours("^" + kPrefix + R"((\d+)-(\w+))");
  for (const auto& line : lines(list.out)) {
    std::smatch m;
    if (!std::regex_search(line, m, ours)) continue;
    auto pid = std::stol(m[1]);
    if (pid == getpid() || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    auto name = line.substr(0, line.find(' '));
    run_process({ip_tool(), "netns", "del", name}, 10s);
  }
}

NetnsPair::NetnsPair() {
  sweep_stale_namespaces();
  auto base = kPrefix + std::to_string(getpid()) + "-" + std::to_string(pair_counter++);
  name_a_ = base + "-a";
  name_b_ = base + "-b";
  try {
    run_checked({ip_tool(), "netns", "add", name_a_});
    run_checked({ip_tool(), "netns", "add", name_b_});
    // Both ends are created straight inside their namespaces: nothing is
    // ever left in the test's own namespace.
    run_checked({ip_tool(), "-n", name_a_, "link", "add", kVeth, "mtu", "1500", "type", "veth", "peer", "name", kVeth,
                 "netns", name_b_});
    for (auto side : {Side::a, Side::b}) {
      run_checked({ip_tool(), "-n", name(side), "link", "set", "lo", "up"});
      run_checked({ip_tool(), "-n", name(side), "addr", "add", address_of(side) + "/24", "dev", kVeth});
      run_checked({ip_tool(), "-n", name(side), "link", "set", kVeth, "mtu", "1500", "up"});
    }
  } catch (...) {
    teardown();
    throw;
  }
}

NetnsPair::~NetnsPair() { teardown(); }

void NetnsPair::teardown() noexcept {
  for (const auto* n : {&name_a_, &name_b_}) {
    if (n->empty()) continue;
    try {
      run_process({ip_tool(), "netns", "del", *n}, 10s);
    } catch (...) {
      // a destructor: the startup sweep of a later run deletes what is left
    }
  }
}

std::string NetnsPair::address_of(Side side) { return side == Side::a ? "10.213.0.1" : "10.213.0.2"; }

std::vector<std::string> NetnsPair::exec_argv(Side side, std::vector<std::string> argv) const {
  std::vector<std::string> out{ip_tool(), "netns", "exec", name(side)};
  out.insert(out.end(), std::make_move_iterator(argv.begin()), std::make_move_iterator(argv.end()));
  return out;
}

void NetnsPair::run_checked(const std::vector<std::string>& argv) {
  auto r = run_process(argv, 10s);
  if (r.exit_code == 0) return;
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  throw std::runtime_error("`" + command + "` failed (" + std::to_string(r.exit_code) + "): " + r.err);
}

void NetnsPair::ensure_table(Side side) {
  auto& made = side == Side::a ? table_a_ : table_b_;
  if (made) return;
  auto nft = exec_argv(side, {nft_tool()});
  auto with = [&](std::vector<std::string> args) {
    auto argv = nft;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  run_checked(with({"add", "table", "inet", kTable}));
  run_checked(with({"add chain inet " + kTable + " in { type filter hook input priority 0; }"}));
  run_checked(with({"add chain inet " + kTable + " out { type filter hook output priority 0; }"}));
  made = true;
}

void NetnsPair::add_rule(Side side, Direction where, const std::string& rule) {
  ensure_table(side);
  for (auto d : {Direction::in, Direction::out}) {
    if (where != Direction::both && where != d) continue;
    auto text = std::regex_replace(rule, std::regex("\\$IF"), d == Direction::in ? "iifname" : "oifname");
    run_checked(exec_argv(side, {nft_tool(), "add rule inet " + kTable + " " + hook_of(d) + " " + text}));
  }
}

void NetnsPair::drop_udp_to_port(Side side, std::uint16_t port, Direction where) {
  add_rule(side, where, "udp dport " + std::to_string(port) + " counter drop");
}

void NetnsPair::drop_random_udp(Side side, std::uint16_t port, unsigned percent, Direction where) {
  if (percent > 100) throw std::invalid_argument("drop_random_udp: percent above 100");
  auto loss = " numgen random mod 100 < " + std::to_string(percent) + " counter drop";
  if (where != Direction::out) add_rule(side, Direction::in, "udp dport " + std::to_string(port) + loss);
  if (where != Direction::in) add_rule(side, Direction::out, "udp sport " + std::to_string(port) + loss);
}

void NetnsPair::drop_direction(Side side, Direction where) { add_rule(side, where, "$IF != \"lo\" counter drop"); }

void NetnsPair::clear_rules(Side side) {
  auto& made = side == Side::a ? table_a_ : table_b_;
  if (!made) return;
  run_checked(exec_argv(side, {nft_tool(), "delete", "table", "inet", kTable}));
  made = false;
}

std::uint64_t NetnsPair::dropped_packets(Side side) const {
  if (!(side == Side::a ? table_a_ : table_b_)) return 0;
  auto r = run_process(exec_argv(side, {nft_tool(), "list", "table", "inet", kTable}), 10s);
  static const std::regex counter(R"(counter packets (\d+))");
  std::uint64_t total = 0;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), counter), end; it != end; ++it)
    total += std::stoull((*it)[1]);
  return total;
}

}  // namespace warren::test
