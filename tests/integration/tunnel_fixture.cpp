#include "tunnel_fixture.hpp"

#include "loopback_services.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace warren::test {

using namespace std::chrono_literals;

namespace {

// WARREN_TEST_BINARY runs these tests against another build's `warren` (an
// older main's, to show that a new test fails there).
std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

}  // namespace

TempDir::TempDir() {
  std::random_device random;
  path = std::filesystem::temp_directory_path() / ("warren-it-" + std::to_string(random()));
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

Edge::Edge(const std::filesystem::path& dir, EdgeOptions o) {
  public_port_ = free_tcp_port();
  auto ports = o.public_ports.empty() ? std::to_string(public_port_) + "-" + std::to_string(public_port_) : o.public_ports;
  std::ofstream(dir / "edge.toml") << "[edge]\nid = \"" << o.id
                                   << "\"\nstate_dir = \"state\"\npublic_host = \"127.0.0.1\"\n"
                                   << "public_ports = \"" << ports << "\"\n"
                                   << "admin = \"127.0.0.1:0\"\nheartbeat_interval = \"200ms\"\n"
                                   << (o.quick_tunnels ? "quick_tunnels = true\n" : "") << o.extra << "\n"
                                   << "[[listen]]\nplugin = \"quic\"\naddress = \"" << o.listen_host << ":"
                                   << o.listen_port << "\"\n"
                                   << "[[tunnels]]\nid = \"" << o.tunnel_id << "\"\n"
                                   << (o.token_line.empty() ? "token = \"" + o.token + "\"" : o.token_line) << "\n"
                                   << o.more_tunnels << "\n";
  std::vector<std::string> argv{warren_binary(), "edge", "--config", (dir / "edge.toml").string()};
  if (!o.extra_args.empty()) argv.push_back(o.extra_args);
  process_ = std::make_unique<BackgroundProcess>(argv, dir / "edge.err");
  auto host = std::regex_replace(o.listen_host, std::regex(R"(\.)"), R"(\.)");
  auto listen = process_->wait_for_line(std::regex("^listen quic " + host + R"(:(\d+)$)"), 10s);
  auto admin = process_->wait_for_line(std::regex(R"(^admin http://127\.0\.0\.1:(\d+)/metrics$)"), 10s);
  auto pin = process_->wait_for_line(std::regex(R"(^pin (sha256:[0-9a-f]{64})$)"), 10s);
  if (!listen || !admin || !pin) throw std::runtime_error("the edge did not start:\n" + process_->stderr_text());
  quic_port_ = static_cast<std::uint16_t>(std::stoi((*listen)[1]));
  admin_port_ = static_cast<std::uint16_t>(std::stoi((*admin)[1]));
  pin_ = (*pin)[1];
}

std::optional<std::string> Edge::tunnel_address(const std::string& tunnel, std::chrono::milliseconds deadline) {
  auto line = process_->wait_for_line(std::regex("^tunnel " + tunnel + " (\\S+)$"), deadline);
  if (!line) return std::nullopt;
  return (*line)[1].str();
}

std::string Edge::metrics() const {
  auto r = run_process({"/usr/bin/curl", "-s", "-m", "5", "http://127.0.0.1:" + std::to_string(admin_port_) + "/metrics"});
  return r.out;
}

std::optional<double> Edge::metric(const std::string& sample) const { return metric_value(metrics(), sample); }

std::optional<double> metric_value(const std::string& text, const std::string& sample) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > sample.size() && line.compare(0, sample.size(), sample) == 0 && line[sample.size()] == ' ')
      return std::stod(line.substr(sample.size() + 1));
  return std::nullopt;
}

Connector::Connector(const std::filesystem::path& dir, ConnectorOptions o) : tunnel_id_(o.tunnel_id) {
  auto file = dir / (o.name + ".toml");
  std::ofstream(file) << "[tunnel]\n"
                      << (o.quick ? "" : "id = \"" + o.tunnel_id + "\"\ntoken = \"" + o.token + "\"\n")
                      << "ha_connections = " << o.ha_connections << "\n"
                      << (o.pin.empty() ? "insecure = true\n" : "edge_fingerprint = \"" + o.pin + "\"\n")
                      << "grace_period = \"" << o.grace_period << "\"\nstagger = \"100ms\"\n"
                      << o.tunnel_extra << "\n"
                      << "[[transport]]\nplugin = \"quic\"\n"
                      << o.transport_extra << "\n"
                      << "[discovery]\n"
                      << (o.discovery.empty()
                              ? "plugin = \"static\"\nedges = [\"127.0.0.1:" + std::to_string(o.edge_port) + "\"]"
                              : o.discovery)
                      << "\n[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:" << o.backend_port
                      << "\"\n[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"1s\"\n";
  std::vector<std::string> argv{warren_binary(), "connect", "--config", file.string()};
  if (!o.extra_args.empty()) argv.push_back(o.extra_args);
  process_ = std::make_unique<BackgroundProcess>(argv, dir / (o.name + ".err"));
}

std::optional<std::string> Connector::wait_address(std::chrono::milliseconds deadline) {
  auto line = process_->wait_for_line(std::regex(R"(^tunnel \S+ (\S+)$)"), deadline);
  if (!line) return std::nullopt;
  return (*line)[1].str();
}

std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

bool Connector::wait_registered(std::chrono::milliseconds deadline) {
  if (process_->wait_for_line(std::regex("^tunnel " + tunnel_id_ + " \\S+$"), deadline)) return true;
  // Said with the caller's failed check (CI once saw a connector not register
  // in 10 s with nothing to tell why).
  UNSCOPED_INFO("the connector did not register; its stderr:\n" << process_->stderr_text());
  return false;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  for (auto until = std::chrono::steady_clock::now() + deadline;; std::this_thread::sleep_for(50ms)) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
  }
}

int curl_to_file(std::uint16_t port, const std::string& path, const std::filesystem::path& out) {
  auto r = run_process({"/usr/bin/curl", "-s", "-f", "-m", "30", "-o", out.string(),
                        "http://127.0.0.1:" + std::to_string(port) + path});
  return r.exit_code;
}

}  // namespace warren::test

namespace warren::test {

EchoTunnel::EchoTunnel() {
  if (!connector.wait_registered(10s))
    throw std::runtime_error("the connector did not register:\n" + connector.process().stderr_text());
}

}  // namespace warren::test
