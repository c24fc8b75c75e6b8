// SIGHUP on a running `warren connect` (issue 12, item 4): a new [backend]
// takes new streams while a 20 MiB transfer finishes byte-exact on the old
// one; an invalid file changes nothing and says where it is wrong;
// ha_connections 2 -> 1 -> 2 with streams running drops none; a refused
// file tells every error at once (plugins' too), in file order.

#include "loopback_services.hpp"
#include "named_echo.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Rewrites `file` with `from` replaced by `to` (once; fails the test when absent).
void edit(const std::filesystem::path& file, const std::string& from, const std::string& to) {
  auto text = slurp(file);
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  std::ofstream(file) << text;
}

std::size_t count(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), std::sregex_iterator()));
}

/// Waits until the connector's log holds more than `before` lines matching `pattern`.
bool wait_log(BackgroundProcess& p, const std::regex& pattern, std::size_t before, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (count(p.stderr_text(), pattern) > before) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

const std::regex reloaded("reloaded .*change\\(s\\) applied");
const std::regex refused("reload refused: .* the running config stays");

/// SIGHUP, then waits for the connector to say the reload is done (or refused).
bool hangup(BackgroundProcess& p, const std::regex& outcome) {
  auto before = count(p.stderr_text(), outcome);
  ::kill(p.pid(), SIGHUP);
  return wait_log(p, outcome, before, 20s);
}

/// A connector with ha legs both registered, backend `backend_port`, a long grace.
struct ReloadTunnel {
  TempDir dir;
  Edge edge{dir.path};
  std::unique_ptr<Connector> connector;
  std::filesystem::path config = dir.path / "connector.toml";

  ReloadTunnel(std::uint16_t backend_port, unsigned legs) {
    connector = std::make_unique<Connector>(dir.path, ConnectorOptions{.pin = edge.pin(),
                                                                       .edge_port = edge.quic_port(),
                                                                       .backend_port = backend_port,
                                                                       .ha_connections = legs,
                                                                       .grace_period = "60s"});
    if (!connector->wait_registered(15s)) FAIL("no registration:\n" << log());
    for (unsigned leg = 1; leg < legs; ++leg)
      if (!wait_log(process(), std::regex("leg " + std::to_string(leg) + ": registered"), 0, 15s))
        FAIL("leg " << leg << " did not register:\n" << log());
  }
  BackgroundProcess& process() { return connector->process(); }
  std::string log() { return process().stderr_text(); }
  std::uint16_t port() const { return edge.public_port(); }
};

}  // namespace

TEST_CASE("reload: a new backend takes new streams while a 20 MiB transfer finishes byte-exact on the old one",
          "[integration][reload]") {
  NamedEcho one("backend-1"), two("backend-2");
  ReloadTunnel t(one.port(), 2);
  REQUIRE(backend_behind(t.port()) == "backend-1");

  auto data = random_bytes(20 * kMiB, 12);
  OpenTransfer transfer(t.port(), 10s);
  REQUIRE(transfer.backend() == "backend-1");
  REQUIRE(transfer.send(data.data(), 10 * kMiB));

  edit(t.config, "address = \"127.0.0.1:" + std::to_string(one.port()) + "\"",
       "address = \"127.0.0.1:" + std::to_string(two.port()) + "\"");
  REQUIRE(hangup(t.process(), reloaded));
  CHECK(t.log().find("[backend] changed") != std::string::npos);
  // New connections reach backend 2 while the transfer is still open on backend 1.
  CHECK(backend_behind(t.port()) == "backend-2");
  CHECK(backend_behind(t.port()) == "backend-2");

  REQUIRE(transfer.send(data.data() + 10 * kMiB, data.size() - 10 * kMiB));
  auto back = transfer.finish(120s);
  CHECK(back.size() == data.size());
  CHECK(sha256_hex(back) == sha256_hex(data));
  CHECK(one.connections() == 2);  // the first probe and the transfer
  CHECK(two.connections() == 2);
  CHECK(t.process().running());
  INFO(t.log());
  CHECK(t.process().stop(SIGTERM, 30s) == 0);
}

TEST_CASE("reload: an invalid config is refused with FILE:LINE:COL and traffic stays on the old backend",
          "[integration][reload]") {
  NamedEcho one("backend-1"), two("backend-2");
  ReloadTunnel t(one.port(), 2);
  const auto before = slurp(t.config);

  SECTION("a plugin key of the wrong type") {
    edit(t.config, "address = \"127.0.0.1:" + std::to_string(one.port()) + "\"", "address = 12");
  }
  SECTION("a TOML syntax error") { std::ofstream(t.config, std::ios::app) << "\n[backend\n"; }
  SECTION("an unknown plugin, with a valid new backend address beside it") {
    edit(t.config, "address = \"127.0.0.1:" + std::to_string(one.port()) + "\"",
         "address = \"127.0.0.1:" + std::to_string(two.port()) + "\"");
    edit(t.config, "plugin = \"backoff\"", "plugin = \"backof\"");
  }
  REQUIRE(hangup(t.process(), refused));
  INFO(t.log());
  CHECK(std::regex_search(t.log(), std::regex("connector\\.toml:[0-9]+:[0-9]+: ")));
  CHECK(count(t.log(), reloaded) == 0);
  CHECK(backend_behind(t.port()) == "backend-1");
  CHECK(two.connections() == 0);

  // Fixed again, a reload applies as usual.
  std::ofstream(t.config) << before;
  REQUIRE(hangup(t.process(), reloaded));
  CHECK(backend_behind(t.port()) == "backend-1");
  CHECK(t.process().stop(SIGTERM, 30s) == 0);
}

TEST_CASE("reload: ha_connections 2 to 1 to 2 with streams running drops none", "[integration][reload]") {
  NamedEcho one("backend-1");
  ReloadTunnel t(one.port(), 2);
  const std::regex leg1_registered("leg 1: registered");
  auto leg1_registrations = count(t.log(), leg1_registered);

  constexpr int kStreams = 6;
  constexpr std::size_t kPart = 512 * 1024;
  std::vector<std::vector<std::uint8_t>> data;
  std::vector<std::unique_ptr<OpenTransfer>> transfers;
  for (int i = 0; i < kStreams; ++i) {
    data.push_back(random_bytes(3 * kPart, 100 + i));
    transfers.push_back(std::make_unique<OpenTransfer>(t.port(), 10s));
    REQUIRE(transfers.back()->send(data[i].data(), kPart));
  }

  edit(t.config, "ha_connections = 2", "ha_connections = 1");
  REQUIRE(hangup(t.process(), reloaded));
  CHECK(t.log().find("ha_connections 2 -> 1") != std::string::npos);
  // The edge spreads streams over the legs: leg 1 had some to drain.
  const std::regex letting_go("leg 1: unregistering \\(ha_connections is 1 now\\); its ([0-9]+) open");
  REQUIRE(wait_log(t.process(), letting_go, 0, 10s));
  std::smatch drained;
  auto log = t.log();
  REQUIRE(std::regex_search(log, drained, letting_go));
  CHECK(std::stoi(drained[1].str()) > 0);
  // Leg 1 unregisters; its streams drain, and new ones go to leg 0.
  CHECK(backend_behind(t.port()) == "backend-1");
  for (int i = 0; i < kStreams; ++i) REQUIRE(transfers[i]->send(data[i].data() + kPart, kPart));

  edit(t.config, "ha_connections = 1", "ha_connections = 2");
  REQUIRE(hangup(t.process(), reloaded));
  for (int i = 0; i < kStreams; ++i) REQUIRE(transfers[i]->send(data[i].data() + 2 * kPart, kPart));
  for (int i = 0; i < kStreams; ++i) {
    auto back = transfers[i]->finish(60s);
    CHECK(back.size() == data[i].size());
    CHECK(sha256_hex(back) == sha256_hex(data[i]));
  }
  // Leg 1 came back once its streams had drained.
  CHECK(wait_log(t.process(), leg1_registered, leg1_registrations, 20s));
  CHECK(backend_behind(t.port()) == "backend-1");
  INFO(t.log());
  CHECK_FALSE(std::regex_search(t.log(), std::regex("\\bcut")));
  CHECK(t.process().stop(SIGTERM, 30s) == 0);
}

TEST_CASE("reload: a backend plugin file replaced on disk is loaded anew while a stream runs on the old one",
          "[integration][reload]") {
  NamedEcho one("backend-1");
  ReloadTunnel t(one.port(), 1);
  // The backend plugin from a folder of our own, named by the config.
  const auto plugins = t.dir.path / "plugins";
  std::filesystem::create_directories(plugins);
  const auto file = plugins / "libwarren-backend-tcp.so";
  std::filesystem::copy_file(std::filesystem::path(WARREN_PLUGIN_DIR) / "libwarren-backend-tcp.so", file);
  std::ofstream(t.config.string() + ".new") << "plugin_dirs = [\"" << plugins.string() << "\"]\n" << slurp(t.config);
  std::filesystem::rename(t.config.string() + ".new", t.config);
  REQUIRE(hangup(t.process(), reloaded));
  CHECK(t.log().find("plugin_dirs changed") != std::string::npos);

  auto data = random_bytes(4 * kMiB, 7);
  OpenTransfer transfer(t.port(), 10s);
  REQUIRE(transfer.send(data.data(), 2 * kMiB));

  // An upgrade: a new file renamed over the old one (another inode).
  std::filesystem::copy_file(std::filesystem::path(WARREN_PLUGIN_DIR) / "libwarren-backend-tcp.so",
                             plugins / "incoming.so");
  std::filesystem::rename(plugins / "incoming.so", file);
  REQUIRE(hangup(t.process(), reloaded));
  CHECK(t.log().find(file.string() + " changed on disk since it was loaded") != std::string::npos);
  CHECK(backend_behind(t.port()) == "backend-1");  // a stream through the new library's backend

  REQUIRE(transfer.send(data.data() + 2 * kMiB, data.size() - 2 * kMiB));
  auto back = transfer.finish(60s);
  CHECK(sha256_hex(back) == sha256_hex(data));
  CHECK(t.process().running());
  // The shutdown looks up Asio services the old library's objects registered:
  // it is still loaded (an unloaded one crashed here).
  auto code = t.process().stop(SIGTERM, 30s);
  INFO(t.log());
  CHECK(code.value_or(-99) == 0);
}

TEST_CASE("reload: a refused file's errors all come at once, a plugin's among the core's in file order",
          "[integration][reload]") {
  NamedEcho one("backend-1");
  ReloadTunnel t(one.port(), 1);
  // A [backend] (plugin) error above an [admin] (core) one: the plugins were
  // not even made while the file had an error of its own.
  edit(t.config, "address = \"127.0.0.1:" + std::to_string(one.port()) + "\"", "address = 12");
  std::ofstream(t.config, std::ios::app) << "\n[admin]\nadress = \"127.0.0.1:0\"\n";
  auto before = t.log().size();
  REQUIRE(hangup(t.process(), refused));
  auto log = t.log().substr(before);
  INFO(log);
  std::vector<int> error_lines;
  const std::regex located("connector\\.toml:([0-9]+):[0-9]+: ");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), located); it != std::sregex_iterator(); ++it)
    error_lines.push_back(std::stoi((*it)[1].str()));
  REQUIRE(error_lines.size() == 2);
  CHECK(error_lines[0] < error_lines[1]);
  CHECK(log.find("'address'") < log.find("adress"));
  CHECK_THAT(log, Catch::Contains("has 2 errors; the running config stays"));
  CHECK(backend_behind(t.port()) == "backend-1");
  CHECK(t.process().stop(SIGTERM, 30s) == 0);
}
