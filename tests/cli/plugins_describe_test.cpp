// `warren plugins --describe NAME`, run as a user runs it: the plugin's
// identity, then one block per key from its schema.

#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

using namespace warren::test;

namespace {

const std::string warren_binary = WARREN_BINARY;

/// The lines of the block that starts with the line `name`, up to the next blank line.
std::vector<std::string> block(const std::string& out, const std::string& name) {
  auto all = lines(out);
  auto it = std::find(all.begin(), all.end(), name);
  std::vector<std::string> found;
  if (it == all.end()) return found;
  for (; it != all.end() && !it->empty(); ++it) found.push_back(*it);
  return found;
}

}  // namespace

TEST_CASE("plugins --describe quic shows its identity and each key with default, range and doc") {
  auto r = run_process({warren_binary, "plugins", "--describe", "quic"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() > 6);
  CHECK(out[0] == "kind:        transport");
  CHECK(out[1] == "name:        quic");
  CHECK(out[2].starts_with("version:     0."));
  CHECK(out[3].starts_with("file:        /"));
  CHECK(out[3].ends_with("/libwarren-transport-quic.so"));
  CHECK(out[4] == "description: QUIC transport (ngtcp2 + GnuTLS, TLS 1.3, ALPN warren/1)");
  CHECK(out[5].starts_with("summary:     QUIC on UDP"));
  CHECK(block(r.out, "stream_window") ==
        std::vector<std::string>{"stream_window", "  type:    integer", "  default: 1048576",
                                 "  range:   between 16384 and 268435456",
                                 "  doc:     most bytes a peer may send on one stream ahead of the reader (the window "
                                 "grows to this while the reader keeps up)"});
  // The handshake keys come from the second schema of the same table.
  CHECK(block(r.out, "retry") ==
        std::vector<std::string>{"retry", "  type:    one of auto, always, never", "  default: \"auto\"",
                                 "  doc:     when a new client must first prove its address with a Retry: when the "
                                 "edge looks flooded, always, or never"});
}

TEST_CASE("plugins --describe takes KIND/NAME and shows required keys as required") {
  auto backoff = run_process({warren_binary, "plugins", "--describe", "policy/backoff"});
  REQUIRE(backoff.exit_code == 0);
  CHECK_THAT(backoff.out, Catch::Contains("name:        backoff\n"));
  CHECK(block(backoff.out, "jitter") ==
        std::vector<std::string>{
            "jitter", "  type:    one of none, full, equal, proportional", "  default: \"full\"",
            "  doc:     how delays are randomised (full: AWS full jitter, uniform below the ceiling)"});
  auto tcp = run_process({warren_binary, "plugins", "--describe", "tcp"});
  REQUIRE(tcp.exit_code == 0);
  CHECK(block(tcp.out, "address") == std::vector<std::string>{"address", "  type:    host:port", "  default: required",
                                                              "  doc:     the local service, host:port"});
  auto discovery = run_process({warren_binary, "plugins", "--describe", "discovery/static"});
  REQUIRE(discovery.exit_code == 0);
  CHECK(block(discovery.out, "edges") ==
        std::vector<std::string>{"edges", "  type:    array of host:port", "  default: required",
                                 "  doc:     edge addresses, host:port, most preferred first"});
}

TEST_CASE("plugins --describe of a plugin without a schema says it declares no keys") {
  auto r = run_process({warren_binary, "plugins", "--plugin-dir", WARREN_TEST_PLUGIN_DIR, "--describe", "fixed"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("name:        fixed\n"));
  CHECK_THAT(r.out, Catch::Contains("declares no keys"));
}

TEST_CASE("plugins --describe of an unknown name exits 2 and lists the known plugins") {
  auto r = run_process({warren_binary, "plugins", "--describe", "quik"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("warren: no plugin 'quik'; did you mean 'quic'?\nknown plugins:"));
  CHECK_THAT(r.err, Catch::Contains("\n    transport/quic"));
  CHECK_THAT(r.err, Catch::Contains("\n    policy/backoff"));
  CHECK(run_process({warren_binary, "plugins", "--describe", "backend/quic"}).exit_code == 2);  // wrong kind
}
