// PROXY protocol to real consumers (issue 13, item 3): a real edge and
// connector whose tcp backend has proxy_protocol = "v1" or "v2", in front of
// HAProxy (`bind … accept-proxy`) and nginx (`listen … proxy_protocol`) from
// Debian, each answering every request with the addresses the header gave
// it. curl calls the public port from several loopback source addresses;
// the consumer must report curl's own address and port as the client, and
// the edge's public listener as the destination. Without the consumer's
// binary a case exits with kSkipReturnCode (CTest: SKIPPED).

#include "background_process.hpp"
#include "loopback_services.hpp"
#include "netns_pair.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

const std::string haproxy_path = "/usr/sbin/haproxy";
const std::string nginx_path = "/usr/sbin/nginx";

void require_program(const std::string& path, const std::string& package) {
  if (access(path.c_str(), X_OK) != 0) skip_test("no " + path + " on this machine (Debian package " + package + ")");
}

/// Polls until something listens on 127.0.0.1:port (a server that just started).
bool wait_listening(std::uint16_t port, std::chrono::milliseconds deadline) {
  for (auto until = std::chrono::steady_clock::now() + deadline; std::chrono::steady_clock::now() < until;) {
    if (!tcp_port_free(port)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

/// HAProxy in the foreground: any PROXY header (accept-proxy takes v1 and v2),
/// answered with "SRC:SPORT DST:DPORT" from the header.
std::unique_ptr<BackgroundProcess> start_haproxy(const std::filesystem::path& dir, std::uint16_t port) {
  auto config = dir / "haproxy.cfg";
  std::ofstream(config) << "defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
                        << "frontend public\n  bind 127.0.0.1:" << port << " accept-proxy\n"
                        << "  http-request return status 200 content-type text/plain "
                           "lf-string \"%[src]:%[src_port] %[dst]:%[dst_port]\"\n";
  return std::make_unique<BackgroundProcess>(std::vector<std::string>{haproxy_path, "-db", "-f", config.string()},
                                             dir / "haproxy.err");
}

/// nginx in the foreground, one process, every path in `dir`: the same answer
/// from its $proxy_protocol_* variables.
std::unique_ptr<BackgroundProcess> start_nginx(const std::filesystem::path& dir, std::uint16_t port) {
  auto d = dir.string();
  std::ofstream(dir / "nginx.conf")
      << "daemon off;\nmaster_process off;\npid " << d << "/nginx.pid;\nerror_log " << d << "/nginx.log;\n"
      << "events { worker_connections 64; }\nhttp {\n  access_log off;\n"
      << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n"
      << "  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n"
      << "  scgi_temp_path " << d << "/scgi;\n"
      << "  server {\n    listen 127.0.0.1:" << port << " proxy_protocol;\n    default_type text/plain;\n"
      << "    location / { return 200 \"$proxy_protocol_addr:$proxy_protocol_port "
         "$proxy_protocol_server_addr:$proxy_protocol_server_port\"; }\n  }\n}\n";
  return std::make_unique<BackgroundProcess>(
      std::vector<std::string>{nginx_path, "-p", d, "-c", (dir / "nginx.conf").string(), "-e", d + "/nginx.err"},
      dir / "nginx.stderr");
}

/// `warren connect` whose tcp backend sends `version` headers to 127.0.0.1:backend_port.
std::unique_ptr<BackgroundProcess> start_connector(const std::filesystem::path& dir, Edge& edge,
                                                   const std::string& version, std::uint16_t backend_port) {
  auto file = dir / ("connector-" + version + ".toml");
  std::ofstream(file) << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 2\n"
                      << "edge_fingerprint = \"" << edge.pin() << "\"\nstagger = \"100ms\"\ngrace_period = \"1s\"\n"
                      << "[[transport]]\nplugin = \"quic\"\n"
                      << "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:" << edge.quic_port() << "\"]\n"
                      << "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:" << backend_port << "\"\n"
                      << "proxy_protocol = \"" << version << "\"\n";
  return std::make_unique<BackgroundProcess>(std::vector<std::string>{WARREN_BINARY, "connect", "--config", file.string()},
                                             dir / ("connector-" + version + ".err"));
}

struct Fetched {
  int exit_code = -1;
  std::string answer;  ///< the consumer's body: "SRC:SPORT DST:DPORT"
  std::string client;  ///< curl's own "local_ip:local_port"
};

/// One GET through the tunnel from `source_ip` (any 127.0.0.0/8 address).
Fetched fetch(std::uint16_t public_port, const std::string& source_ip) {
  auto r = run_process({"/usr/bin/curl", "-s", "-f", "-m", "20", "--interface", source_ip, "-w",
                        "\n%{local_ip}:%{local_port}", "http://127.0.0.1:" + std::to_string(public_port) + "/"});
  Fetched out{r.exit_code, {}, {}};
  auto split = r.out.rfind('\n');
  if (split == std::string::npos) return out;
  out.answer = r.out.substr(0, split);
  out.client = r.out.substr(split + 1);
  return out;
}

using StartConsumer = std::function<std::unique_ptr<BackgroundProcess>(const std::filesystem::path&, std::uint16_t)>;

/// Both versions against one consumer: each request's reported client is the
/// address and port curl really used, and the destination the public listener.
void check_consumer(const StartConsumer& start) {
  TempDir dir;
  auto consumer_port = free_tcp_port();
  auto consumer = start(dir.path, consumer_port);
  REQUIRE(wait_listening(consumer_port, 10s));
  Edge edge(dir.path);
  const std::string listener = "127.0.0.1:" + std::to_string(edge.public_port());

  for (const std::string version : {"v1", "v2"}) {
    INFO("proxy_protocol = " << version);
    auto connector = start_connector(dir.path, edge, version, consumer_port);
    REQUIRE(connector->wait_for_line(std::regex("^tunnel web \\S+$"), 10s));
    for (int i = 0; i < 3; ++i) {
      // Distinct sources, so a fixed or stale address could not pass.
      auto source = "127.0.0." + std::to_string(20 + i);
      auto got = fetch(edge.public_port(), source);
      INFO("consumer said: " << got.answer << "\nconnector: " << connector->stderr_text());
      REQUIRE(got.exit_code == 0);
      CHECK(got.client.rfind(source + ":", 0) == 0);
      CHECK(got.answer == got.client + " " + listener);
    }
    REQUIRE(connector->stop(SIGTERM, 10s) == 0);
  }
  REQUIRE(consumer->running());  // it never gave up on a malformed header
}

}  // namespace

TEST_CASE("haproxy with accept-proxy sees the public client's address and port for v1 and v2") {
  require_program(haproxy_path, "haproxy");
  check_consumer(start_haproxy);
}

TEST_CASE("nginx with listen proxy_protocol sees the public client's address and port for v1 and v2") {
  require_program(nginx_path, "nginx-light");
  check_consumer(start_nginx);
}
