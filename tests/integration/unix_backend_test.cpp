// The `unix` backend end to end: a real edge and connector, a real
// Unix-domain service (socat echoing through `cat`) on a socket file and on
// an abstract name, public clients checked byte for byte; a missing socket
// resets the one public connection at once and the tunnel stays up.

#include "loopback_services.hpp"
#include "process.hpp"
#include "time_scale.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <netinet/in.h>
#include <random>
#include <regex>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// A connector whose [backend] is the `unix` plugin at `path`. The fixture's
/// Connector writes a tcp backend, so this writes its own config (same
/// tunnel, transport and policy tables).
std::unique_ptr<BackgroundProcess> unix_connector(const std::filesystem::path& dir, Edge& edge,
                                                  const std::string& path) {
  auto file = dir / "unix-connector.toml";
  std::ofstream(file) << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 2\nedge_fingerprint = \""
                      << edge.pin() << "\"\ngrace_period = \"2s\"\nstagger = \"100ms\"\n"
                      << "[[transport]]\nplugin = \"quic\"\n"
                      << "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:" << edge.quic_port() << "\"]\n"
                      << "[backend]\nplugin = \"unix\"\npath = \"" << path << "\"\nconnect_timeout = \"2s\"\n"
                      << "[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"1s\"\n";
  auto p = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{WARREN_BINARY, "connect", "--config", file.string(), "--log-level=debug"},
      dir / "unix-connector.err");
  if (!p->wait_for_line(std::regex("^tunnel web \\S+$"), 10s))
    throw std::runtime_error("the connector did not register:\n" + p->stderr_text());
  return p;
}

/// True once something accepts on the Unix socket `path` ("@name": abstract).
bool unix_listening(const std::string& path, std::chrono::milliseconds deadline) {
  sockaddr_un to{};
  to.sun_family = AF_UNIX;
  std::memcpy(to.sun_path, path.data(), path.size());
  if (path.front() == '@') to.sun_path[0] = '\0';
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path.front() == '@' ? 0 : 1));
  for (auto until = Clock::now() + scaled(deadline); Clock::now() < until; std::this_thread::sleep_for(10ms)) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), length) == 0;
    close(fd);
    if (ok) return true;
  }
  return false;
}

/// `socat` serving `path` (a file, or "@name": socat's ABSTRACT-LISTEN),
/// each connection echoed by its own `cat`.
std::unique_ptr<BackgroundProcess> socat_echo(const std::filesystem::path& dir, const std::string& path) {
  auto listen = path.front() == '@' ? "ABSTRACT-LISTEN:" + path.substr(1) + ",fork"
                                    : "UNIX-LISTEN:" + path + ",fork,unlink-early";
  auto p = std::make_unique<BackgroundProcess>(std::vector<std::string>{"/usr/bin/socat", listen, "EXEC:cat"},
                                               dir / "socat.err");
  if (!unix_listening(path, 10s)) throw std::runtime_error("socat did not listen on " + path + ":\n" + p->stderr_text());
  return p;
}

/// 20 public clients at once, 256 KiB each of seeded bytes, through the tunnel.
int intact_echoes(std::uint16_t port, std::uint64_t seed) {
  std::vector<std::future<bool>> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(std::async(std::launch::async, [port, s = seed + static_cast<std::uint64_t>(i)] {
      auto data = random_bytes(256 * 1024 + s % 1000, s);
      auto back = echo_round_trip(port, data, 30s);
      return sha256_hex(back) == sha256_hex(data);
    }));
  int intact = 0;
  for (auto& r : results) intact += r.get() ? 1 : 0;
  return intact;
}

/// How one public connection with nothing behind it ends: "reset" (an
/// error on the socket), "eof" (closed with no bytes), "data" or "timeout".
std::string ending_without_backend(std::uint16_t port) {
  try {
    auto back = echo_round_trip(port, random_bytes(1024, 9), scaled(10s));
    return back.empty() ? "eof" : "data";
  } catch (const std::runtime_error& e) {
    return std::string(e.what()).find("timed out") != std::string::npos ? "timeout" : "reset";
  }
}

}  // namespace

TEST_CASE("unix backend: public clients echo byte for byte through a socat service on a socket file") {
  TempDir dir;
  auto path = (dir.path / "echo.sock").string();
  auto service = socat_echo(dir.path, path);
  Edge edge(dir.path);
  auto connector = unix_connector(dir.path, edge, path);
  CHECK(intact_echoes(edge.public_port(), 100) == 20);
  CHECK(edge.metric("warren_streams_total") == 20);
}

TEST_CASE("unix backend: an abstract socket written @name serves the tunnel") {
  TempDir dir;
  std::random_device random;
  auto name = "@warren-it-" + std::to_string(getpid()) + "-" + std::to_string(random());
  auto service = socat_echo(dir.path, name);
  Edge edge(dir.path);
  auto connector = unix_connector(dir.path, edge, name);
  CHECK(intact_echoes(edge.public_port(), 200) == 20);
}

TEST_CASE("unix backend: a missing socket resets the public client at once and the tunnel stays up") {
  TempDir dir;
  auto path = (dir.path / "later.sock").string();
  Edge edge(dir.path);
  auto connector = unix_connector(dir.path, edge, path);

  for (int i = 0; i < 3; ++i) {
    auto started = Clock::now();
    auto ending = ending_without_backend(edge.public_port());
    auto took = Clock::now() - started;
    INFO("attempt " << i << ": " << ending << " after "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n"
                    << connector->stderr_text());
    CHECK((ending == "reset" || ending == "eof"));
    CHECK(took < scaled(1500ms));  // well inside the connect_timeout of 2 s: ENOENT is immediate
  }
  CHECK(connector->running());
  // At the default level too, the connector says why, once for the three
  // (its log is on stderr, read as it grows).
  auto why = [&](const std::string& text) {
    auto log = connector->stderr_text();
    int n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  };
  auto logged_within = [&](const std::string& text) {
    for (auto until = Clock::now() + scaled(2s); Clock::now() < until; std::this_thread::sleep_for(20ms))
      if (why(text) > 0) return true;
    return false;
  };
  INFO(connector->stderr_text());
  REQUIRE(logged_within("info  [backend unix] backend " + path + " refuses streams: no socket there (ENOENT)"));
  CHECK(why("refuses streams: no socket there (ENOENT)") == 1);

  // The service appears: the same connector, still registered once, serves it.
  auto service = socat_echo(dir.path, path);
  CHECK(intact_echoes(edge.public_port(), 300) == 20);
  CHECK(logged_within(path + " takes streams again after 3 failed attempts"));
  CHECK(connector->running());
  CHECK(std::count_if(connector->lines().begin(), connector->lines().end(),
                      [](const std::string& l) { return l.starts_with("tunnel web "); }) == 1);
}

TEST_CASE("warren check points at a unix backend path that cannot be a socket address") {
  TempDir dir;
  auto file = dir.path / "tunnel.toml";
  std::ofstream(file) << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\ninsecure = true\n"
                      << "[[transport]]\nplugin = \"quic\"\n"
                      << "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:7844\"]\n"
                      << "[backend]\nplugin = \"unix\"\npath = \"/" << std::string(120, 'a') << "\"\n";
  auto r = run_process({WARREN_BINARY, "check", "--config", file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.out + r.err, Catch::Contains(file.string() +
                                    ":12:8: the socket path is 121 bytes long; a Unix socket address holds at most "
                                    "107 (sun_path, unix(7))"));
}
