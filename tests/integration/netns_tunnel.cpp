#include "netns_tunnel.hpp"

#include "process.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <regex>
#include <sched.h>
#include <stdexcept>
#include <unistd.h>

namespace warren::test {
namespace {

using namespace std::chrono_literals;
using Side = NetnsPair::Side;

// WARREN_TEST_BINARY runs these tests against another build's `warren`, as the fixture does.
std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

}  // namespace

InNamespace::InNamespace(const NetnsPair& net, Side side) {
  home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = ::open(("/run/netns/" + net.name(side)).c_str(), O_RDONLY | O_CLOEXEC);
  bool entered = home_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
  if (target >= 0) ::close(target);
  if (!entered) {
    if (home_ >= 0) ::close(home_);
    throw std::runtime_error("cannot enter namespace " + net.name(side));
  }
}

InNamespace::~InNamespace() {
  ::setns(home_, CLONE_NEWNET);
  ::close(home_);
}

std::unique_ptr<NetnsPair> make_pair_or_skip() {
  if (auto why = NetnsPair::unavailable_reason()) skip_test(*why);
  return std::make_unique<NetnsPair>();
}

NamespacedEdge::NamespacedEdge(const NetnsPair& net, const std::filesystem::path& dir, bool http2) {
  auto host = NetnsPair::address_of(Side::a);
  std::string port = http2 ? std::to_string(kNetnsEdgePort) : "0";
  std::ofstream config(dir / "edge.toml");
  config << "[edge]\nid = \"edge-a\"\nstate_dir = \"state\"\npublic_host = \"127.0.0.1\"\n"
         << "public_ports = \"" << kNetnsPublicPort << "-" << kNetnsPublicPort << "\"\n"
         << "heartbeat_interval = \"200ms\"\n"
         << "[[listen]]\nplugin = \"quic\"\naddress = \"" << host << ":" << port << "\"\n";
  if (http2) config << "[[listen]]\nplugin = \"http2\"\naddress = \"" << host << ":" << port << "\"\n";
  config << "[[tunnels]]\nid = \"web\"\ntoken = \"s3cret\"\n";
  config.close();
  process = std::make_unique<BackgroundProcess>(
      net.exec_argv(Side::a, {warren_binary(), "edge", "--config", (dir / "edge.toml").string()}), dir / "edge.err");
  auto listen = process->wait_for_line(std::regex(R"(^listen quic [0-9.]+:(\d+)$)"), 10s);
  auto pinned = process->wait_for_line(std::regex(R"(^pin (sha256:[0-9a-f]{64})$)"), 10s);
  if (!listen || !pinned) throw std::runtime_error("the edge did not start:\n" + process->stderr_text());
  quic_port = static_cast<std::uint16_t>(std::stoi((*listen)[1]));
  pin = (*pinned)[1];
}

std::unique_ptr<BackgroundProcess> start_namespaced_connector(const NetnsPair& net, const std::filesystem::path& dir,
                                                              const NamespacedEdge& edge, std::uint16_t backend_port,
                                                              const NamespacedConnectorOptions& options) {
  auto file = dir / (options.name + ".toml");
  std::ofstream config(file);
  config << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 2\n"
         << "edge_fingerprint = \"" << edge.pin << "\"\ngrace_period = \"" << options.grace_period << "\"\nstagger = \"100ms\"\n"
         << "[[transport]]\nplugin = \"quic\"\n";
  if (options.http2_fallback) config << "[[transport]]\nplugin = \"http2\"\n";
  config << "[discovery]\nplugin = \"static\"\nedges = [\"" << NetnsPair::address_of(Side::a) << ":" << edge.quic_port
         << "\"]\n"
         << "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:" << backend_port << "\"\n"
         << "[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"1s\"\n";
  if (options.admin_port) config << "[admin]\naddress = \"127.0.0.1:" << options.admin_port << "\"\n";
  config << options.extra_config;
  config.close();
  std::vector<std::string> argv{warren_binary(), "connect", "--config", file.string()};
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  return std::make_unique<BackgroundProcess>(net.exec_argv(Side::b, argv), dir / (options.name + ".err"));
}

std::optional<std::string> http_get_in(const NetnsPair& net, Side side, std::uint16_t port, const std::string& path) {
  auto r = run_process(
      net.exec_argv(side, {"/usr/bin/curl", "-s", "-f", "-m", "2", "http://127.0.0.1:" + std::to_string(port) + path}),
      5s);
  if (r.exit_code != 0) return std::nullopt;
  return r.out;
}

int legs_registered_over(const NetnsPair& net, std::uint16_t admin_port, const std::string& transport) {
  auto status = http_get_in(net, Side::b, admin_port, "/status");
  if (!status) return 0;
  // render_connector_status writes each leg's keys in this order.
  std::regex leg("\"state\":\"registered\",\"address\":\"[^\"]*\",\"transport\":\"" + transport + "\"");
  return static_cast<int>(std::distance(std::sregex_iterator(status->begin(), status->end(), leg), {}));
}

}  // namespace warren::test
