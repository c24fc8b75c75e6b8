// warren-datagram-bench: datagrams per second and loss through a transport
// plugin on loopback, for 1,200-byte datagrams (issue 13's UDP tunnels).
// A measurement tool, not a test: the edge runs on its own thread and
// io_context, as in its own process; the connector sends from this one.
//
//   warren-datagram-bench [--plugin quic] [--size 1200] [--seconds 3] [--rate N]
//
// --rate N: offer N datagrams per second (paced per millisecond); 0 (the
// default) offers as fast as send_datagram() accepts (bursts of 64, then a
// pass of the loop). Prints one line: offered, accepted, sent, received,
// loss = 1 - received/sent, and the rates.

#include "core/plugin/plugin_loader.hpp"
#include "core/tls/self_signed.hpp"

#include <warren/sdk/plugin.hpp>
#include <warren/sdk/testing.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <variant>

namespace {

using namespace warren;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string plugin = "quic";
  std::size_t size = 1200;
  double seconds = 3;
  std::uint64_t rate = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--plugin") o.plugin = value;
    else if (key == "--size") o.size = std::strtoul(value, nullptr, 10);
    else if (key == "--seconds") o.seconds = std::strtod(value, nullptr);
    else if (key == "--rate") o.rate = std::strtoull(value, nullptr, 10);
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  return o;
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "warren-datagram-bench: %s\n", why.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  core::PluginLoader loader({WARREN_PLUGIN_DIR});
  auto found = loader.find(sdk::PluginKind::transport, options.plugin);
  if (auto* why = std::get_if<std::string>(&found)) die(*why);
  auto plugin = std::get<core::LoadedPlugin>(std::move(found));
  auto cert = core::make_self_signed("warren bench edge", {"localhost", "127.0.0.1"});
  auto table = sdk::testing::TableBuilder("transport").table();

  // The edge: its own loop and thread; it counts what arrives.
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> edge_dropped{0};  // the edge's receive queue was full
  boost::asio::io_context edge_io;
  sdk::testing::CapturingLogger edge_logger;
  sdk::PluginContext edge_context{edge_io.get_executor(), edge_logger};
  sdk::Diagnostics diagnostics;
  auto edge = loader.create<sdk::Transport>(plugin, table, edge_context, diagnostics);
  if (!edge) die("cannot create the edge's transport");
  sdk::ListenOptions listen;
  listen.address = boost::asio::ip::make_address("127.0.0.1");
  listen.cert_pem = cert.cert_pem;
  listen.key_pem = cert.key_pem;
  sdk::error_code ec;
  auto listener = edge->listen(listen, ec);
  if (!listener) die("cannot listen: " + ec.message());
  port = listener->local_port();
  sdk::ConnectionPtr accepted;
  std::function<void()> receive = [&] {
    accepted->async_receive_datagram([&](sdk::error_code error, sdk::Datagram) {
      if (error) return;
      received.fetch_add(1, std::memory_order_relaxed);
      receive();
    });
  };
  listener->async_accept([&](sdk::error_code error, sdk::ConnectionPtr c) {
    if (error) die("accept: " + error.message());
    accepted = std::move(c);
    receive();
  });
  std::thread edge_thread([&] {
    auto work = boost::asio::make_work_guard(edge_io);
    while (!stop) {
      edge_io.run_for(std::chrono::milliseconds(50));
      if (accepted) edge_dropped = accepted->stats().datagrams_dropped;
    }
    accepted.reset();
    listener.reset();
    edge_io.poll();
  });

  // The connector, on this thread.
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  auto connector = loader.create<sdk::Transport>(plugin, table, context, diagnostics);
  sdk::DialOptions dial;
  dial.address = listen.address;
  dial.port = port;
  dial.server_name = "localhost";
  dial.verify.pin_sha256 = cert.pin_sha256;
  sdk::ConnectionPtr connection;
  connector->async_dial(dial, [&](sdk::error_code error, sdk::ConnectionPtr c) {
    if (error) die("dial: " + error.message());
    connection = std::move(c);
  });
  while (!connection) io.run_one();
  if (connection->max_datagram_size() < options.size)
    die("the connection takes datagrams of at most " + std::to_string(connection->max_datagram_size()) + " bytes");

  sdk::Datagram datagram(options.size, std::byte{0x42});
  std::uint64_t offered = 0, taken = 0;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  boost::asio::steady_timer tick(io);
  std::function<void()> send_some = [&] {
    auto now = Clock::now();
    if (now >= end) return;
    // Paced: catch up to rate x elapsed; flat out: a burst of 64.
    std::uint64_t due = options.rate
                            ? static_cast<std::uint64_t>(std::chrono::duration<double>(now - start).count() *
                                                         static_cast<double>(options.rate))
                            : offered + 64;
    for (; offered < due; ++offered) taken += connection->send_datagram(datagram) ? 1 : 0;
    if (options.rate) {
      tick.expires_after(std::chrono::milliseconds(1));
      tick.async_wait([&](sdk::error_code) { send_some(); });
    } else {
      boost::asio::post(io, send_some);
    }
  };
  send_some();
  io.run_until(end);
  // Let the last ones arrive.
  io.run_for(std::chrono::milliseconds(500));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the edge thread's next look at its stats
  double elapsed = std::chrono::duration<double>(end - start).count();
  auto stats = connection->stats();
  std::uint64_t got = received.load();
  std::printf(
      "%s %zu B datagrams, %.1f s: offered %llu, accepted %llu (%.0f/s), sent %llu, received %llu (%.0f/s, %.1f MB/s), "
      "loss %.2f%% of sent (%llu dropped by the edge's receive queue), refused %llu\n",
      options.plugin.c_str(), options.size, elapsed, static_cast<unsigned long long>(offered),
      static_cast<unsigned long long>(taken), static_cast<double>(taken) / elapsed,
      static_cast<unsigned long long>(stats.datagrams_sent), static_cast<unsigned long long>(got),
      static_cast<double>(got) / elapsed, static_cast<double>(got * options.size) / elapsed / 1e6,
      stats.datagrams_sent ? 100.0 * (1.0 - static_cast<double>(got) / static_cast<double>(stats.datagrams_sent)) : 0.0,
      static_cast<unsigned long long>(edge_dropped.load()), static_cast<unsigned long long>(stats.datagrams_dropped));
  connection.reset();
  io.poll();
  stop = true;
  edge_thread.join();
  return 0;
}
