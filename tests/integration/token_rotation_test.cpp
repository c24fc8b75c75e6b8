// Tunnel secrets with real processes: a token_file open to group/others
// stops `check`, `connect` and `edge` with exit 2 and the chmod to run; an
// edge tunnel with tokens = ["old", "new"] registers connectors holding
// either, and once the edge's config drops the old one (a restart, for now)
// a connector with the old token exits 3 with a sentence while the new one
// registers again.

#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

bool registered(Connector& c) { return c.wait_registered(15s); }

}  // namespace

TEST_CASE("a token_file readable by group or others stops check, connect and edge with exit 2", "[credentials]") {
  TempDir dir;
  std::ofstream(dir.path / "web.token") << "s3cret\n";
  ::chmod((dir.path / "web.token").c_str(), 0644);
  auto token = (dir.path / "web.token").string();
  std::ofstream(dir.path / "edge.toml") << "[edge]\nstate_dir = \"state\"\n[[listen]]\nplugin = \"quic\"\n"
                                        << "address = \"127.0.0.1:0\"\n[[tunnels]]\nid = \"web\"\n"
                                        << "token_file = \"web.token\"\n";
  std::ofstream(dir.path / "tunnel.toml") << "[tunnel]\nid = \"web\"\ntoken_file = \"web.token\"\ninsecure = true\n"
                                          << "[[transport]]\nplugin = \"quic\"\n[discovery]\nplugin = \"static\"\n"
                                          << "edges = [\"127.0.0.1:7844\"]\n[backend]\nplugin = \"tcp\"\n"
                                          << "address = \"127.0.0.1:8080\"\n";
  const std::string sentence = "' is readable by group/others (mode 0644); run: chmod 600 " + token;
  struct Run {
    std::vector<std::string> argv;
    std::string where;
  };
  auto edge_file = (dir.path / "edge.toml").string();
  auto tunnel_file = (dir.path / "tunnel.toml").string();
  for (const auto& run : {Run{{"check", "--config", edge_file}, edge_file + ":8:14: "},
                          Run{{"edge", "--config", edge_file}, edge_file + ":8:14: "},
                          Run{{"check", "--config", tunnel_file}, tunnel_file + ":3:14: "},
                          Run{{"connect", "--config", tunnel_file}, tunnel_file + ":3:14: "}}) {
    std::vector<std::string> argv{warren_binary()};
    argv.insert(argv.end(), run.argv.begin(), run.argv.end());
    auto r = run_process(argv, 20s);
    INFO(run.argv[0] << " " << run.argv[2] << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(run.where + "token_file '" + token + sentence));
  }
  ::chmod(token.c_str(), 0600);
  auto fixed = run_process({warren_binary(), "check", "--config", edge_file}, 20s);
  CHECK(fixed.exit_code == 0);
}

TEST_CASE("tokens old and new both register, and once the edge drops old only new does", "[credentials]") {
  TempDir dir;
  EchoServer echo;
  std::uint16_t port = 0;
  {
    Edge edge(dir.path, {.token_line = "tokens = [\"old\", \"new\"]"});
    port = edge.quic_port();
    Connector with_old(dir.path, {.token = "old",
                                  .pin = edge.pin(),
                                  .edge_port = port,
                                  .backend_port = echo.port(),
                                  .ha_connections = 1,
                                  .name = "old"});
    Connector with_new(dir.path, {.token = "new",
                                  .pin = edge.pin(),
                                  .edge_port = port,
                                  .backend_port = echo.port(),
                                  .ha_connections = 1,
                                  .name = "new"});
    CHECK(registered(with_old));
    CHECK(registered(with_new));
    auto data = random_bytes(64 * 1024, 3);
    CHECK(echo_round_trip(edge.public_port(), data) == data);
  }

  // The edge restarts with the old token dropped (same state_dir: same pin, same port).
  Edge edge(dir.path, {.listen_port = port, .token_line = "tokens = [\"new\"]"});
  Connector with_new(dir.path, {.token = "new",
                                .pin = edge.pin(),
                                .edge_port = port,
                                .backend_port = echo.port(),
                                .ha_connections = 1,
                                .name = "new-again"});
  Connector with_old(dir.path, {.token = "old",
                                .pin = edge.pin(),
                                .edge_port = port,
                                .backend_port = echo.port(),
                                .ha_connections = 1,
                                .name = "old-again"});
  CHECK(registered(with_new));
  auto code = with_old.process().wait_exit(10s);
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK_THAT(with_old.process().stderr_text(),
             Catch::Contains("the edge refused this tunnel: the edge does not accept this tunnel id and token"));
  auto data = random_bytes(64 * 1024, 4);
  CHECK(echo_round_trip(edge.public_port(), data) == data);
}
