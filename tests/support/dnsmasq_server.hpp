#pragma once
// A real dnsmasq serving a test's records on a free loopback UDP port:
// started by the test, probed until it answers, stopped (by PID, via
// BackgroundProcess) when the object goes away. Names under example.test are
// local: unknown ones get NXDOMAIN, never a forwarded query. Address records
// live in a hosts directory that dnsmasq re-reads on change (inotify), so a
// test changes them without a restart.

#include "background_process.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace warren::test {

/// One `--srv-host` record.
struct SrvHost {
  std::string name;    ///< "_warren._udp.example.test"
  std::string target;  ///< "edge1.example.test"
  std::uint16_t port = 7844;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
};

/// One address record: a name with an IPv4 or IPv6 address.
struct HostRecord {
  std::string name;
  std::string address;  ///< "127.0.0.1" or "::1"
};

struct DnsRecords {
  std::vector<SrvHost> srv;
  std::vector<HostRecord> hosts;
  unsigned ttl_seconds = 0;  ///< TTL of every answer (dnsmasq --local-ttl)
};

class DnsmasqServer {
 public:
  /// Starts on a free port and waits until it answers; throws if it cannot.
  explicit DnsmasqServer(DnsRecords records);
  ~DnsmasqServer();

  std::uint16_t port() const { return port_; }
  /// "127.0.0.1:PORT", as a `resolvers` entry.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// Replaces the address records; returns once dnsmasq answers with `probe`'s new address.
  void set_hosts(const std::vector<HostRecord>& hosts, const HostRecord& probe);

  /// What dnsmasq said on stderr, and whether it still runs: for failure messages.
  std::string log() const;
  bool running() { return process_ && process_->running(); }

  /// Stops the server; the port then refuses queries (ICMP unreachable).
  void stop();

 private:
  void start();
  void write_hosts(const std::vector<HostRecord>& hosts);

  DnsRecords records_;
  std::uint16_t port_ = 0;
  std::filesystem::path dir_;  ///< log file and hosts directory
  std::string probe_name_;     ///< a name only this server answers
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace warren::test
