// Replacing the edge's certificate while it runs (SIGHUP), with real
// processes over QUIC and over HTTP/2: a connection opened before the swap
// keeps working; a connector pinned by CA (two leaves of one CA, made here
// with certtool) and one pinned by a list of both fingerprints register
// again after the swap; one pinned to the old fingerprint alone is refused,
// which shows new handshakes get the new certificate; and a mismatched pair
// is refused with the file named while the old certificate stays.

#include "core/tls/edge_identity.hpp"
#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <warren/sdk/certificate_pin.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void certtool(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/certtool"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv, 20s);
  if (r.exit_code != 0) FAIL("certtool failed: " << r.err);
}

/// A CA and leaves it signed for 127.0.0.1 and localhost, made with certtool.
struct Pki {
  std::filesystem::path dir;
  explicit Pki(std::filesystem::path d) : dir(std::move(d)) {
    std::ofstream(dir / "ca.tmpl") << "cn = \"warren test CA\"\nca\ncert_signing_key\nexpiration_days = 2\n";
    std::ofstream(dir / "leaf.tmpl") << "cn = \"edge\"\ndns_name = \"localhost\"\nip_address = \"127.0.0.1\"\n"
                                        "tls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n";
    key("ca.key");
    certtool({"--generate-self-signed", "--load-privkey", (dir / "ca.key").string(), "--template",
              (dir / "ca.tmpl").string(), "--outfile", (dir / "ca.pem").string()});
  }
  void key(const std::string& name) {
    certtool({"--generate-privkey", "--key-type=ecdsa", "--outfile", (dir / name).string()});
  }
  /// NAME.key and NAME.pem, a leaf signed by the CA; returns its pin.
  std::string leaf(const std::string& name) {
    key(name + ".key");
    certtool({"--generate-certificate", "--load-privkey", (dir / (name + ".key")).string(), "--load-ca-certificate",
              (dir / "ca.pem").string(), "--load-ca-privkey", (dir / "ca.key").string(), "--template",
              (dir / "leaf.tmpl").string(), "--outfile", (dir / (name + ".pem")).string()});
    auto pin = core::pin_of_pem(slurp(dir / (name + ".pem")));
    REQUIRE(pin);
    return sdk::format_certificate_pin(*pin);
  }
};

/// Writes `to` atomically (as an operator's `mv` would), mode 0600.
void install(const std::filesystem::path& from, const std::filesystem::path& to) {
  auto temp = to;
  temp += ".new";
  std::filesystem::copy_file(from, temp, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(temp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(temp, to);
}

bool wait_stderr(BackgroundProcess& process, const std::string& text, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (process.stderr_text().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);  // polling a log file for a line, with a deadline
  }
  return true;
}

/// A public client that stays connected across the swap.
class HeldClient {
 public:
  explicit HeldClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) FAIL("cannot connect to the public port");
  }
  ~HeldClient() { ::close(fd_); }
  /// Sends `text` and reads it back within 10 s.
  bool echo(const std::string& text) {
    if (::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) return false;
    std::string back;
    auto until = std::chrono::steady_clock::now() + 10s;
    while (back.size() < text.size() && std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[256];
      auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      back.append(buffer, static_cast<std::size_t>(n));
    }
    return back == text;
  }

 private:
  int fd_ = -1;
};

struct Rig {
  TempDir dir;
  Pki pki{dir.path};
  std::string transport;
  std::string pin1 = pki.leaf("leaf1");
  std::string pin2 = pki.leaf("leaf2");
  EchoServer echo;
  std::uint16_t public_port = free_tcp_port();
  std::unique_ptr<BackgroundProcess> edge;
  std::uint16_t edge_port = 0;

  explicit Rig(std::string t) : transport(std::move(t)) {
    pki.key("stray.key");
    install(dir.path / "leaf1.pem", dir.path / "edge.crt");
    install(dir.path / "leaf1.key", dir.path / "edge.key");
    std::ofstream(dir.path / "edge.toml")
        << "[edge]\nid = \"edge-rotate\"\ncert = \"edge.crt\"\nkey = \"edge.key\"\npublic_host = \"127.0.0.1\"\n"
        << "public_ports = \"" << public_port << "-" << public_port << "\"\nheartbeat_interval = \"200ms\"\n"
        << "[[listen]]\nplugin = \"" << transport << "\"\naddress = \"127.0.0.1:0\"\n"
        << "[[tunnels]]\nid = \"web\"\ntoken = \"s3cret\"\n";
    edge = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{warren_binary(), "edge", "--config", (dir.path / "edge.toml").string()},
        dir.path / "edge.err");
    auto listen = edge->wait_for_line(std::regex("^listen " + transport + R"( 127\.0\.0\.1:(\d+)$)"), 10s);
    auto pin = edge->wait_for_line(std::regex(R"(^pin (sha256:[0-9a-f]{64})$)"), 10s);
    if (!listen || !pin) FAIL("the edge did not start:\n" << edge->stderr_text());
    edge_port = static_cast<std::uint16_t>(std::stoi((*listen)[1]));
    CHECK((*pin)[1] == pin1);
  }

  std::unique_ptr<BackgroundProcess> connector(const std::string& name, const std::string& trust) {
    auto file = dir.path / (name + ".toml");
    std::ofstream(file) << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 1\n"
                        << trust << "\ngrace_period = \"1s\"\n"
                        << "[[transport]]\nplugin = \"" << transport << "\"\n"
                        << "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:" << edge_port << "\"]\n"
                        << "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:" << echo.port() << "\"\n"
                        << "[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"1s\"\n";
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{warren_binary(), "connect", "--config", file.string()}, dir.path / (name + ".err"));
  }
  std::string by_ca() const { return "edge_ca = \"ca.pem\""; }
  std::string by_both_pins() const { return "edge_fingerprint = [\"" + pin1 + "\", \"" + pin2 + "\"]"; }
  std::string by_old_pin() const { return "edge_fingerprint = \"" + pin1 + "\""; }
};

bool registered(BackgroundProcess& connector) {
  return connector.wait_for_line(std::regex(R"(^tunnel web \S+$)"), 15s).has_value();
}

void swap_certificate_while_connectors_run(const std::string& transport) {
  Rig rig(transport);
  auto ca = rig.connector("ca", rig.by_ca());
  auto pins = rig.connector("pins", rig.by_both_pins());
  REQUIRE(registered(*ca));
  REQUIRE(registered(*pins));
  HeldClient held(rig.public_port);
  REQUIRE(held.echo("before the swap"));

  // A key that is not the certificate's: refused, the file named, the old pair kept.
  install(rig.dir.path / "leaf2.pem", rig.dir.path / "edge.crt");
  install(rig.dir.path / "stray.key", rig.dir.path / "edge.key");
  ::kill(rig.edge->pid(), SIGHUP);
  CHECK(wait_stderr(*rig.edge, "cannot reload the certificate: " + (rig.dir.path / "edge.crt").string(), 10s));
  CHECK(wait_stderr(*rig.edge, "; keeping " + rig.pin1, 1s));
  {
    auto old_pin = rig.connector("old-before", rig.by_old_pin());
    CHECK(registered(*old_pin));  // still served the old certificate
  }

  // The right pair: new handshakes get it, the edge prints its new pin.
  install(rig.dir.path / "leaf2.key", rig.dir.path / "edge.key");
  ::kill(rig.edge->pid(), SIGHUP);
  REQUIRE(rig.edge->wait_for_line(std::regex("^pin " + rig.pin2 + "$"), 10s));
  CHECK(held.echo("after the swap: the same connection"));

  // The connectors, restarted (which ends the held connection: it rode one of
  // their legs), trust the new certificate; the old pin alone does not.
  ca.reset();
  pins.reset();
  auto ca_again = rig.connector("ca-again", rig.by_ca());
  auto pins_again = rig.connector("pins-again", rig.by_both_pins());
  CHECK(registered(*ca_again));
  CHECK(registered(*pins_again));
  auto old_pin = rig.connector("old-after", rig.by_old_pin());
  auto code = old_pin->wait_exit(15s);
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK_THAT(old_pin->stderr_text(),
             Catch::Contains("does not match edge_fingerprint: expected " + rig.pin1 + ", got " + rig.pin2));
  HeldClient fresh(rig.public_port);
  CHECK(fresh.echo("a new connection through the new legs"));

  // A missing key file: the config names a file that is not there, so the
  // whole reload is refused (FILE:LINE:COL) and the current pair kept.
  std::filesystem::remove(rig.dir.path / "edge.key");
  ::kill(rig.edge->pid(), SIGHUP);
  CHECK(wait_stderr(*rig.edge, "file " + (rig.dir.path / "edge.key").string() + " does not exist", 10s));
  CHECK(wait_stderr(*rig.edge, "reload refused: " + (rig.dir.path / "edge.toml").string(), 10s));
  CHECK(rig.edge->running());
}

}  // namespace

TEST_CASE("the edge replaces its certificate on SIGHUP over quic: CA and pin-list connectors keep working",
          "[credentials]") {
  swap_certificate_while_connectors_run("quic");
}

TEST_CASE("the edge replaces its certificate on SIGHUP over http2: CA and pin-list connectors keep working",
          "[credentials][http2]") {
  swap_certificate_while_connectors_run("http2");
}
