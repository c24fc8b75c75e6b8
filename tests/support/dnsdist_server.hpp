#pragma once
// A real PROXY protocol consumer for UDP: dnsdist (Debian package dnsdist,
// 1.7) on a free loopback port, started by the test and stopped (by PID,
// via BackgroundProcess) when the object goes away. Every query from
// 127.0.0.0/8 must start with a PROXY v2 header (setProxyProtocolACL; one
// without is dropped). dnsdist answers each A query with the client address
// the header named, and prints "proxied query from SRC:SPORT to DST:DPORT"
// with the header's source and destination.

#include "background_process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace warren::test {

inline const std::string dnsdist_path = "/usr/bin/dnsdist";

class DnsdistServer {
 public:
  /// Starts and waits until dnsdist answers a proxied probe; throws if it
  /// does not. Callers skip_test() first when dnsdist_path is missing.
  DnsdistServer();
  ~DnsdistServer();

  std::uint16_t port() const { return port_; }

  /// Waits for the line of a query whose header named `client`
  /// ("127.0.0.23:40000") as the source; returns the destination it named.
  std::optional<std::string> wait_query_from(const std::string& client, std::chrono::milliseconds deadline);

  std::string log() const { return process_ ? process_->stderr_text() : ""; }
  bool running() { return process_ && process_->running(); }

 private:
  std::uint16_t port_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace warren::test
