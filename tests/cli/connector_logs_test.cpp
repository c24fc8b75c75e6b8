// One event, one line, at the right level, in human units: a connector
// whose edge does not answer says so once per attempt (with the retry in the
// same line), its durations in seconds or milliseconds, and its insecure
// setting once per run, not at every dial.

#include "background_process.hpp"
#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <regex>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

const std::string warren_binary = WARREN_BINARY;

// A UDP port on loopback that nobody listens on (bound, then released).
std::uint16_t dead_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at);
  socklen_t size = sizeof at;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &size);
  ::close(fd);
  return ntohs(at.sin_port);
}

std::size_t count_matching(const std::vector<std::string>& lines, const std::regex& pattern) {
  std::size_t n = 0;
  for (const auto& line : lines) n += std::regex_search(line, pattern);
  return n;
}

}  // namespace

TEST_CASE("a connector whose edge is dead logs one line per attempt, human durations and one insecure warning") {
  // A port nobody answers on: every dial ends in the handshake timeout.
  auto port = dead_udp_port();
  REQUIRE(port != 0);
  auto edge = "127.0.0.1:" + std::to_string(port);
  TempConfig config("[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 1\ninsecure = true\n"
                    "[[transport]]\nplugin = \"quic\"\n"
                    "[discovery]\nplugin = \"static\"\nedges = [\"" + edge + "\"]\n"
                    "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:9\"\n"
                    "[[policy]]\nplugin = \"backoff\"\nbase = \"200ms\"\nmax = \"500ms\"\njitter = \"equal\"\n");
  // At debug level, to count the failed attempts the info lines do not show.
  BackgroundProcess connector({warren_binary, "--log-level", "debug", "connect", "--config", config.file.string()},
                              config.dir / "err.log");

  // Each dial waits out the QUIC handshake timeout (5 s): wait for the fourth failure.
  const std::regex failed(R"( debug .*supervisor: RetryScheduled leg=0 )");
  auto deadline = std::chrono::steady_clock::now() + 28s;
  while (std::chrono::steady_clock::now() < deadline && connector.running() &&
         count_matching(lines(connector.stderr_text()), failed) < 4)
    std::this_thread::sleep_for(100ms);
  CHECK(connector.stop(SIGTERM, 10s).has_value());
  std::vector<std::string> all = lines(connector.stderr_text()), said;  // said: info and above
  for (const auto& line : all)
    if (!std::regex_search(line, std::regex(R"(^\S+ (debug|trace))"))) said.push_back(line);
  INFO(connector.stderr_text());
  REQUIRE(count_matching(all, failed) >= 4);

  // Every line that names the dead edge is the one line of an attempt: what
  // failed and when the next try is, at warn; nothing else repeats it (the
  // insecure warning names it too, once, checked below).
  const std::regex names_edge(std::regex_replace(edge, std::regex(R"(\.)"), R"(\.)"));
  const std::regex attempt_line(R"( warn(ing)? +leg \d: cannot reach the edge at \S+: .*; retrying in )");
  for (const auto& line : said)
    if (std::regex_search(line, names_edge) && line.find("insecure") == std::string::npos) {
      CHECK(std::regex_search(line, attempt_line));
    }
  // Identical failures are summarised: the first three in full, then quiet
  // (a "still failing" line comes once a minute).
  CHECK(count_matching(said, std::regex(R"(leg 0: cannot reach)")) == 3);
  // Durations in human units: "0.3 s", "200 ms", never "300000000ns" or "300ms".
  CHECK(count_matching(said, std::regex(R"(\d+ns\b)")) == 0);
  CHECK(count_matching(said, std::regex(R"(retrying in (\d+ ms|\d+\.\d s|\d+ s) \(attempt [234]\)$)")) == 3);
  // The insecure setting is said once per run.
  CHECK(count_matching(said, std::regex("insecure", std::regex::icase)) == 1);
}
