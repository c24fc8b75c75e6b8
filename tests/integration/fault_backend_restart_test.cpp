// A backend killed and restarted under load (issue 11, item 1): tunnel
// "web" forwards to a `warren-loadgen echo` process, tunnel "other" (its own
// connector) to an in-process echo server, and streaming clients keep
// echoing on both. SIGKILL the web backend: each of its public clients must
// see a reset, bounded in time; the other tunnel's clients carry on
// byte-exact; new connections are refused promptly while it is down and
// echo again once it is back on the same port.

#include "fault_trials.hpp"
#include "loopback_services.hpp"
#include "time_scale.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <regex>
#include <signal.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string loadgen = std::string(WARREN_TOOLS_DIR) + "/warren-loadgen";

/// How a public connection ended, as its client saw it.
/// `short_eof_then_reset`: an EOF before the echo was complete, and the
/// next write reset: what a client of the backend itself sees when it dies
/// after reading everything sent so far (its kernel sends FIN, then RST to
/// what arrives after).
enum class Outcome { running, clean, reset, short_eof_then_reset, eof, mismatch, timeout, connect_failed };

const char* name(Outcome o) {
  switch (o) {
    case Outcome::running: return "running";
    case Outcome::clean: return "clean";
    case Outcome::reset: return "reset";
    case Outcome::short_eof_then_reset: return "short_eof_then_reset";
    case Outcome::eof: return "eof";
    case Outcome::mismatch: return "mismatch";
    case Outcome::timeout: return "timeout";
    case Outcome::connect_failed: return "connect_failed";
  }
  return "?";
}

int connect_to(std::uint16_t port, std::chrono::milliseconds io_timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{static_cast<time_t>(io_timeout.count() / 1000),
             static_cast<suseconds_t>(io_timeout.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

Outcome from_errno(int error) {
  if (error == ECONNRESET || error == EPIPE || error == ECONNABORTED) return Outcome::reset;
  if (error == EAGAIN || error == EWOULDBLOCK) return Outcome::timeout;
  return Outcome::reset;
}

/// Sends `data` and reads as many bytes back; Outcome::running when they matched.
Outcome echo_chunk(int fd, const std::vector<std::uint8_t>& data) {
  for (std::size_t sent = 0; sent < data.size();) {
    auto n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) return from_errno(errno);
    sent += static_cast<std::size_t>(n);
  }
  std::vector<std::uint8_t> back(data.size());
  for (std::size_t got = 0; got < back.size();) {
    auto n = recv(fd, back.data() + got, back.size() - got, 0);
    if (n < 0) return from_errno(errno);
    if (n == 0) return Outcome::eof;
    got += static_cast<std::size_t>(n);
  }
  return back == data ? Outcome::running : Outcome::mismatch;
}

/// After an EOF that came too early: keep writing (and reading) for up to
/// 3 s; a reset then means the tunnel passed on the dead backend's RST.
Outcome after_short_eof(int fd) {
  std::vector<std::uint8_t> more(16 << 10, 'x'), sink(16 << 10);
  for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(10ms)) {
    if (send(fd, more.data(), more.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN)
      return from_errno(errno) == Outcome::reset ? Outcome::short_eof_then_reset : Outcome::eof;
    auto n = recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN)
      return from_errno(errno) == Outcome::reset ? Outcome::short_eof_then_reset : Outcome::eof;
  }
  return Outcome::eof;
}

/// A public client that echoes 16 KiB chunks of seeded bytes until told to
/// stop (then half-closes and expects a clean EOF) or until the connection fails.
class StreamingClient {
 public:
  StreamingClient(std::uint16_t port, std::uint64_t seed) {
    thread_ = std::thread([this, port, seed] { run(port, seed); });
  }
  ~StreamingClient() {
    stop_ = true;
    thread_.join();
  }
  void stop() { stop_ = true; }
  Outcome outcome() const { return outcome_.load(); }
  std::uint64_t chunks() const { return chunks_.load(); }
  Clock::time_point ended() const {
    std::lock_guard lock(mutex_);
    return ended_;
  }

 private:
  void run(std::uint16_t port, std::uint64_t seed) {
    auto result = Outcome::connect_failed;
    int fd = connect_to(port, 10s);
    if (fd >= 0) {
      for (std::uint64_t i = 0; result = Outcome::running, !stop_; ++i) {
        result = echo_chunk(fd, random_bytes(16 << 10, seed * 1000003 + i));
        if (result == Outcome::eof) result = after_short_eof(fd);
        if (result != Outcome::running) break;
        ++chunks_;
      }
      if (result == Outcome::running) {  // asked to stop: half-close, expect EOF
        shutdown(fd, SHUT_WR);
        char byte;
        auto n = recv(fd, &byte, 1, 0);
        result = n == 0 ? Outcome::clean : n < 0 ? from_errno(errno) : Outcome::mismatch;
      }
      close(fd);
    }
    {
      std::lock_guard lock(mutex_);
      ended_ = Clock::now();
    }
    outcome_ = result;
  }

  std::atomic<bool> stop_{false};
  std::atomic<Outcome> outcome_{Outcome::running};
  std::atomic<std::uint64_t> chunks_{0};
  mutable std::mutex mutex_;
  Clock::time_point ended_;
  std::thread thread_;
};

/// One new connection: 1 KiB out, the same back (Outcome::clean), or how it failed.
Outcome probe(std::uint16_t port, std::uint64_t seed) {
  int fd = connect_to(port, 5s);
  if (fd < 0) return Outcome::connect_failed;
  auto result = echo_chunk(fd, random_bytes(1024, seed));
  close(fd);
  return result == Outcome::running ? Outcome::clean : result;
}

std::unique_ptr<BackgroundProcess> start_echo_backend(const std::filesystem::path& dir, std::uint16_t port) {
  auto p = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{loadgen, "echo", "--port", std::to_string(port), "--seconds", "600"},
      dir / "backend.err");
  if (!p->wait_for_line(std::regex("^echo ready$"), 10s))
    throw std::runtime_error("the echo backend did not start:\n" + p->stderr_text());
  return p;
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds deadline) {
  for (auto until = Clock::now() + deadline; Clock::now() < until; std::this_thread::sleep_for(20ms))
    if (done()) return true;
  return done();
}

}  // namespace

TEST_CASE("fault: a backend killed under load resets only its own public clients and serves again once back") {
  constexpr int kAffected = 16, kBystanders = 4;
  auto trials = fault_trials(2);
  for (int trial = 0; trial < trials; ++trial) {
    auto seed = fault_seed() + static_cast<std::uint64_t>(trial);
    INFO("trial " << trial << " seed " << seed);
    TempDir dir;
    auto backend_port = free_tcp_port();
    auto backend = start_echo_backend(dir.path, backend_port);
    EchoServer other_echo;
    auto other_port = free_tcp_port();
    Edge edge(dir.path, {.more_tunnels = "\n[[tunnels]]\nid = \"other\"\ntoken = \"0ther\"\npublic_port = " +
                                         std::to_string(other_port) + "\n"});
    Connector web(dir.path, {.pin = edge.pin(),
                             .edge_port = edge.quic_port(),
                             .backend_port = backend_port,
                             .extra_args = "--log-level=debug"});
    Connector other(dir.path, {.tunnel_id = "other",
                               .token = "0ther",
                               .pin = edge.pin(),
                               .edge_port = edge.quic_port(),
                               .backend_port = other_echo.port(),
                               .name = "other"});
    REQUIRE(web.wait_registered(15s));
    REQUIRE(other.wait_registered(15s));

    std::vector<std::unique_ptr<StreamingClient>> affected, bystanders;
    for (int i = 0; i < kAffected; ++i)
      affected.push_back(std::make_unique<StreamingClient>(edge.public_port(), seed * 100 + static_cast<unsigned>(i)));
    for (int i = 0; i < kBystanders; ++i)
      bystanders.push_back(std::make_unique<StreamingClient>(other_port, seed * 100 + 50 + static_cast<unsigned>(i)));
    // Under load: every client has echoed a few chunks.
    auto all_flowing = [](auto& clients) {
      for (auto& c : clients)
        if (c->chunks() < 3 || c->outcome() != Outcome::running) return false;
      return true;
    };
    REQUIRE(wait_until([&] { return all_flowing(affected) && all_flowing(bystanders); }, 15s));

    auto killed = Clock::now();
    REQUIRE(backend->stop(SIGKILL, 5s));
    auto all_ended = [&] {
      for (auto& c : affected)
        if (c->outcome() == Outcome::running) return false;
      return true;
    };
    bool ended = wait_until(all_ended, 10s);
    std::vector<double> to_reset_ms;
    std::map<std::string, int> outcomes;
    for (auto& c : affected) {
      ++outcomes[name(c->outcome())];
      if (c->outcome() != Outcome::running) to_reset_ms.push_back(ms_between(killed, c->ended()));
    }
    std::string seen;
    for (auto& [what, n] : outcomes) seen += " " + what + "=" + std::to_string(n);
    INFO("affected clients:" << seen << "\n" << web.process().stderr_text());
    CHECK(ended);
    CHECK(outcomes["reset"] + outcomes["short_eof_then_reset"] == kAffected);

    // While it is down, a new connection fails promptly rather than hanging.
    auto probed = Clock::now();
    auto down = probe(edge.public_port(), seed);
    auto down_ms = ms_between(probed, Clock::now());
    INFO("a new connection while the backend is down: " << name(down) << " after " << down_ms << " ms");
    CHECK((down == Outcome::reset || down == Outcome::eof));
    CHECK(down_ms < scaled(5000ms).count());

    // Back on the same port: new connections echo again.
    backend = start_echo_backend(dir.path, backend_port);
    auto restarted = Clock::now();
    std::uint64_t attempt = 0;
    bool serving = wait_until([&] { return probe(edge.public_port(), seed + ++attempt) == Outcome::clean; }, 10s);
    auto back_ms = ms_between(restarted, Clock::now());
    CHECK(serving);

    // The other tunnel never noticed.
    bool bystanders_ok = true;
    for (auto& c : bystanders) bystanders_ok = bystanders_ok && c->outcome() == Outcome::running;
    for (auto& c : bystanders) c->stop();
    CHECK(wait_until(
        [&] {
          for (auto& c : bystanders)
            if (c->outcome() == Outcome::running) return false;
          return true;
        },
        10s));
    int clean = 0;
    for (auto& c : bystanders) clean += c->outcome() == Outcome::clean;
    CHECK(bystanders_ok);
    CHECK(clean == kBystanders);

    bool ok = ended && outcomes["reset"] + outcomes["short_eof_then_reset"] == kAffected &&
              (down == Outcome::reset || down == Outcome::eof) && down_ms < 5000 && serving && clean == kBystanders;
    print_figure("backend_restart",
                 "seed=" + std::to_string(seed) + " ok=" + std::to_string(ok) +
                     " affected=" + std::to_string(kAffected) + seen +
                     " reset_p50_ms=" + std::to_string(static_cast<long>(percentile(to_reset_ms, 50))) +
                     " reset_max_ms=" + std::to_string(static_cast<long>(percentile(to_reset_ms, 100))) +
                     " down_probe=" + name(down) + " down_probe_ms=" + std::to_string(static_cast<long>(down_ms)) +
                     " serving_again_ms=" + std::to_string(static_cast<long>(back_ms)) +
                     " bystanders_clean=" + std::to_string(clean) + "/" + std::to_string(kBystanders) + " " +
                     peak_rss_pairs(edge.process().pid(), web.process().pid()));
  }
}
