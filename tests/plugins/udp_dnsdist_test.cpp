// A real PROXY-aware UDP server reads the udp backend's v2 headers: dnsdist
// (Debian's 1.7, setProxyProtocolACL) behind the plugin, loaded by name and
// driven as the connector drives it. dnsdist drops a query from loopback that
// lacks a header, answers one with the client address the header named, and
// logs that address with its port and the header's destination. Without
// dnsdist the case exits 77 (CTest: SKIPPED).

#include "dns_message.hpp"
#include "dnsdist_server.hpp"
#include "netns_pair.hpp"
#include "plugin_fixture.hpp"
#include "udp_flow_helpers.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;
using sdk::testing::TableBuilder;

namespace {

sdk::Datagram datagram(const std::vector<std::uint8_t>& bytes) {
  sdk::Datagram out(bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

std::vector<std::uint8_t> plain(const sdk::Datagram& d) {
  std::vector<std::uint8_t> out(d.size());
  std::memcpy(out.data(), d.data(), d.size());
  return out;
}

}  // namespace

TEST_CASE("dnsdist behind the udp backend sees each flow's client address and port from the v2 header") {
  if (access(dnsdist_path.c_str(), X_OK) != 0)
    skip_test("no " + dnsdist_path + " on this machine (Debian package dnsdist)");
  DnsdistServer dnsdist;
  PluginFixture f;

  for (const std::string datagrams : {"every", "first"}) {
    INFO("proxy_protocol_datagrams = " << datagrams);
    auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                        TableBuilder()
                                            .set("address", "127.0.0.1:" + std::to_string(dnsdist.port()))
                                            .set("proxy_protocol", "v2")
                                            .set("proxy_protocol_datagrams", datagrams)
                                            .table());
    REQUIRE(backend);
    // Distinct clients and ports per round, so a stale or fixed address could not pass.
    const int round = datagrams == "every" ? 0 : 1;
    for (int i = 0; i < 3; ++i) {
      std::string address = "203.0.113." + std::to_string(10 * round + i + 1);
      std::string client = address + ":" + std::to_string(40000 + 100 * round + i);
      auto opened = open_flow(f, *backend, client, "198.51.100.1:20053");
      REQUIRE(opened.flow);
      auto id = static_cast<std::uint16_t>(0x1000 + 16 * round + i);
      REQUIRE(opened.flow->send(datagram(dns_a_query(id, "example.test"))));
      auto answer = receive(f, *opened.flow);
      INFO("dnsdist: " << dnsdist.log());
      REQUIRE_FALSE(answer.ec);
      CHECK(dns_first_a(plain(answer.datagram), id) == address);
      CHECK(dnsdist.wait_query_from(client, 5s) == std::optional<std::string>("198.51.100.1:20053"));

      // A flow's second query: with "every" it carries the header again and
      // is answered; with "first" it goes bare, and dnsdist, which reads
      // each datagram alone, drops it (why "every" is the default).
      auto second = static_cast<std::uint16_t>(id + 8);
      REQUIRE(opened.flow->send(datagram(dns_a_query(second, "example.test"))));
      if (datagrams == "every") {
        auto again = receive(f, *opened.flow);
        REQUIRE_FALSE(again.ec);
        CHECK(dns_first_a(plain(again.datagram), second) == address);
      }
    }
  }
  CHECK(dnsdist.running());
}
