#pragma once
// Real network faults for tests: two network namespaces joined by a veth
// pair, with nftables rules that drop packets in the kernel (no mock, and no
// `tc netem`, which these kernels lack). Namespaces are named
// "warren-fault-PID-N-a|b", so a run that died before its teardown leaves
// names a later run can recognise and delete (see sweep_stale_namespaces).
//
// Needs CAP_NET_ADMIN, `ip` (iproute2) and `nft` (nftables). When they are
// missing, NetnsPair::unavailable_reason() says why, and a test calls
// skip_test() so that CTest reports it SKIPPED (never a silent pass).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warren::test {

/// The exit code CTest reads as "skipped" for the tests that set
/// SKIP_RETURN_CODE to it (tests/integration/CMakeLists.txt).
inline constexpr int kSkipReturnCode = 77;

/// Prints "SKIPPED: `why`" to stderr and ends the test process with
/// kSkipReturnCode (Catch2 2 has no skip of its own).
[[noreturn]] void skip_test(const std::string& why);

class NetnsPair {
 public:
  enum class Side { a, b };
  /// Which packets a rule looks at, seen from the namespace it is in.
  enum class Direction { in, out, both };

  /// Why a pair cannot be made here (no CAP_NET_ADMIN, no `ip` or `nft`),
  /// tried once per process with a throwaway namespace; nullopt when it can.
  static std::optional<std::string> unavailable_reason();

  /// Deletes namespaces (and stray veth ends) this helper made in processes
  /// that no longer run. Called by the constructor.
  static void sweep_stale_namespaces();

  /// Creates both namespaces, lo up in each, and the veth pair (MTU 1500)
  /// with address_of(a) in a and address_of(b) in b (a /24 that exists only
  /// inside them). Throws std::runtime_error naming the command that failed,
  /// after removing what it had made.
  NetnsPair();
  /// Deletes both namespaces (with their veth ends and rules), whatever
  /// happened in the test. Stop the processes inside first: a namespace
  /// outlives its name while a process is still in it.
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& name(Side side) const { return side == Side::a ? name_a_ : name_b_; }
  /// "10.213.0.1" in a, "10.213.0.2" in b.
  static std::string address_of(Side side);

  /// `argv` run inside `side`'s namespace: {"ip", "netns", "exec", NAME, argv...},
  /// for BackgroundProcess and run_process. `ip netns exec` execs the
  /// program itself, so the pid and the signals are the program's.
  std::vector<std::string> exec_argv(Side side, std::vector<std::string> argv) const;

  /// Drops every UDP packet to `port` arriving in (Direction::in) or sent
  /// from (Direction::out; the sender's sendmsg then fails with EPERM)
  /// `side`'s namespace.
  void drop_udp_to_port(Side side, std::uint16_t port, Direction where = Direction::in);
  /// Drops `percent` % of UDP packets chosen at random (nftables `numgen
  /// random mod 100 < N`) that have `port` as their destination on the way
  /// in and as their source on the way out of `side`'s namespace: with
  /// Direction::both, loss both ways on a server's port.
  void drop_random_udp(Side side, std::uint16_t port, unsigned percent, Direction where = Direction::both);
  /// Drops every packet (any protocol but loopback's) in one direction of
  /// `side`'s namespace.
  void drop_direction(Side side, Direction where);
  /// Removes every rule this helper added in `side`'s namespace.
  void clear_rules(Side side);
  /// Packets the rules of `side` dropped so far (nftables counters).
  std::uint64_t dropped_packets(Side side) const;

 private:
  void add_rule(Side side, Direction where, const std::string& rule);
  void ensure_table(Side side);
  /// Runs `argv`; throws std::runtime_error with its stderr when it fails.
  static void run_checked(const std::vector<std::string>& argv);
  void teardown() noexcept;

  std::string name_a_;
  std::string name_b_;
  bool table_a_ = false;
  bool table_b_ = false;
};

}  // namespace warren::test
