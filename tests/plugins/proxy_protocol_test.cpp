// sdk/proxy_protocol.hpp: exact bytes against HAProxy's doc/proxy-protocol.txt
// (sections 2.1 and 2.2) and the length rules a receiver relies on.

#include <warren/sdk/proxy_protocol.hpp>

#include <arpa/inet.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <string>

using namespace warren::sdk::proxy_protocol;
using namespace std::string_literals;

namespace {

std::string v1(std::string_view source, std::string_view destination) {
  return std::string(header(Version::v1, source, destination).view());
}

std::string v2(std::string_view source, std::string_view destination, SocketType type = SocketType::stream) {
  return std::string(header(Version::v2, source, destination, type).view());
}

const std::string signature = "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"s;

/// The v2 length field (bytes 15 and 16, big-endian).
std::size_t v2_length(const std::string& bytes) {
  REQUIRE(bytes.size() >= v2_fixed_length);
  return static_cast<std::size_t>(static_cast<std::uint8_t>(bytes[14]) << 8 | static_cast<std::uint8_t>(bytes[15]));
}

}  // namespace

TEST_CASE("proxy protocol v1 writes the spec's TCP4 example line") {
  // Section 2.1: "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n".
  CHECK(v1("192.168.0.1:56324", "192.168.0.11:443") == "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  CHECK(v1("0.0.0.0:0", "10.0.0.1:1") == "PROXY TCP4 0.0.0.0 10.0.0.1 0 1\r\n");
}

TEST_CASE("proxy protocol v1 TCP6 lines use canonical lower-case compressed text") {
  CHECK(v1("[2001:db8::1]:443", "[::1]:80") == "PROXY TCP6 2001:db8::1 ::1 443 80\r\n");
  // RFC 5952: lower case, no leading zeroes, the longest zero run (the first of equals) compressed, a lone
  // zero group written out.
  CHECK(v1("[2001:0DB8:0000:0000:0001:0000:0000:0001]:1", "[2001:db8:0:1:1:1:1:1]:2") ==
        "PROXY TCP6 2001:db8::1:0:0:1 2001:db8:0:1:1:1:1:1 1 2\r\n");
  CHECK(v1("[1:0:0:0:0:0:0:0]:1", "[0:0:0:0:0:0:0:0]:2") == "PROXY TCP6 1:: :: 1 2\r\n");
  CHECK(v1("[1:0:0:2:0:0:0:3]:1", "[fe80::abcd:0:0:1]:2") == "PROXY TCP6 1:0:0:2::3 fe80::abcd:0:0:1 1 2\r\n");
}

TEST_CASE("proxy protocol v1 TCP6 worst case is 104 bytes and the receiver bound is 107") {
  const std::string all_ones = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";
  auto line = v1(all_ones, all_ones);
  CHECK(line.size() == 104);  // section 2.1's TCP/IPv6 maximum
  // Section 2.1's worst case, which sizes a receiver's buffer.
  std::string worst = "PROXY UNKNOWN " + std::string(39, 'f') + " " + std::string(39, 'f') + " 65535 65535\r\n";
  CHECK(worst.size() == v1_max_length);
  CHECK(v1_max_length == 107);
}

TEST_CASE("proxy protocol v1 says UNKNOWN when the addresses cannot be carried") {
  const std::string unknown = "PROXY UNKNOWN\r\n";
  CHECK(unknown.size() == 15);
  CHECK(v1("client.example:5555", "127.0.0.1:80") == unknown);     // a name
  CHECK(v1("203.0.113.7:5555", "[::1]:80") == unknown);            // families differ
  CHECK(v1("203.0.113.7", "127.0.0.1:80") == unknown);             // no port
  CHECK(v1("", "") == unknown);                                    // missing
  CHECK(v1("[fe80::1%eth0]:5555", "[fe80::2]:80") == unknown);     // a zone id has no place in the header
  CHECK(v1("256.1.1.1:5555", "127.0.0.1:80") == unknown);          // not an address
  CHECK(std::string(header(Version::v1, "1.2.3.4:5", "6.7.8.9:10", SocketType::datagram).view()) == unknown);
}

TEST_CASE("proxy protocol treats IPv4-mapped addresses as IPv4 when both sides are IPv4") {
  // A dual-stack listener sees ::ffff:a.b.c.d on both ends of an IPv4 connection.
  CHECK(v1("[::ffff:203.0.113.7]:5555", "[::ffff:127.0.0.1]:80") == "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n");
  CHECK(v1("[::ffff:203.0.113.7]:5555", "127.0.0.1:80") == "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n");
  // Against a real IPv6 destination it stays IPv6, in hex groups (section 2.1 has no dotted tail).
  CHECK(v1("[::ffff:203.0.113.7]:5555", "[::1]:80") == "PROXY TCP6 ::ffff:cb00:7107 ::1 5555 80\r\n");
}

TEST_CASE("proxy protocol v2 TCP4 matches the bytes HAProxy sends") {
  // 172.19.0.1:42578 -> 172.19.0.3:80, as HAProxy's send-proxy-v2 writes it: PROXY command (0x21), TCP over
  // IPv4 (0x11), 12 address bytes.
  auto bytes = v2("172.19.0.1:42578", "172.19.0.3:80");
  CHECK(bytes == signature + "\x21\x11\x00\x0c\xac\x13\x00\x01\xac\x13\x00\x03\xa6\x52\x00\x50"s);
  CHECK(bytes.size() == v2_fixed_length + v2_inet_block);
  CHECK(v2_length(bytes) == 12);
}

TEST_CASE("proxy protocol v2 TCP6 and the datagram variants") {
  auto tcp6 = v2("[2001:db8::7]:5555", "[::1]:443");
  CHECK(tcp6 == signature + "\x21\x21\x00\x24"s +                                           // TCP over IPv6, 36 bytes
                    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"s +  // source
                    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"s +  // destination
                    "\x15\xb3\x01\xbb"s);                                                   // 5555, 443
  CHECK(tcp6.size() == 52);
  CHECK(v2_length(tcp6) == 36);

  auto udp4 = v2("192.0.2.1:53000", "198.51.100.2:53", SocketType::datagram);
  CHECK(udp4 == signature + "\x21\x12\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x02\xcf\x08\x00\x35"s);
  auto udp6 = v2("[2001:db8::7]:5555", "[::1]:443", SocketType::datagram);
  CHECK(udp6.substr(12, 4) == "\x21\x22\x00\x24"s);
  CHECK(udp6.substr(16) == tcp6.substr(16));
}

TEST_CASE("proxy protocol v2 without carriable addresses is PROXY with AF_UNSPEC and no address block") {
  auto bytes = v2("client.example:5555", "127.0.0.1:80");
  CHECK(bytes == signature + "\x21\x00\x00\x00"s);
  CHECK(v2_length(bytes) == 0);
  CHECK(v2("203.0.113.7:5555", "[::1]:80") == bytes);  // families differ
}

TEST_CASE("proxy protocol v2 LOCAL is 16 bytes with no address") {
  // Section 2.2: a health check; the receiver uses the real endpoints.
  auto bytes = std::string(write_v2_local().view());
  CHECK(bytes == signature + "\x20\x00\x00\x00"s);
  CHECK(bytes.size() == v2_fixed_length);
}

TEST_CASE("proxy protocol headers round-trip random addresses through inet_pton") {
  std::mt19937 random(20261202);
  std::uniform_int_distribution<int> byte(0, 255), zero_run(0, 7), port(0, 65535);
  for (int round = 0; round < 2000; ++round) {
    std::array<std::uint8_t, 16> source{}, destination{};
    for (auto* address : {&source, &destination}) {
      for (auto& b : *address) b = static_cast<std::uint8_t>(byte(random));
      int from = zero_run(random), to = std::min(8, from + zero_run(random));  // runs of zero groups
      for (int g = from; g < to; ++g) (*address)[2 * g] = (*address)[2 * g + 1] = 0;
    }
    ProxiedAddresses a{ProxiedAddresses::Family::inet6, source, destination, static_cast<std::uint16_t>(port(random)),
                       static_cast<std::uint16_t>(port(random))};
    auto line = std::string(write_v1(a).view());
    INFO(line);
    REQUIRE(line.size() <= 104);
    REQUIRE(line.substr(0, 11) == "PROXY TCP6 ");
    REQUIRE(line.substr(line.size() - 2) == "\r\n");
    auto first = line.find(' ', 11), second = line.find(' ', first + 1);
    std::array<std::uint8_t, 16> parsed{};
    REQUIRE(inet_pton(AF_INET6, line.substr(11, first - 11).c_str(), parsed.data()) == 1);
    CHECK(parsed == source);
    REQUIRE(inet_pton(AF_INET6, line.substr(first + 1, second - first - 1).c_str(), parsed.data()) == 1);
    CHECK(parsed == destination);
    CHECK(line.substr(11, second - 11).find_first_of("ABCDEF.") == std::string::npos);  // hex groups, lower case
    CHECK(line.substr(second + 1, line.size() - second - 3) ==
          std::to_string(a.source_port) + " " + std::to_string(a.destination_port));

    auto binary = std::string(write_v2(a, SocketType::stream).view());
    REQUIRE(binary.size() == v2_fixed_length + v2_length(binary));
    CHECK(binary.compare(16, 16, reinterpret_cast<const char*>(source.data()), 16) == 0);
    CHECK(binary.compare(32, 16, reinterpret_cast<const char*>(destination.data()), 16) == 0);
  }
}
