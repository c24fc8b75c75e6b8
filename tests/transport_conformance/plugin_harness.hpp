#pragma once
// Runs a transport plugin as core will: loaded from the plugin folder,
// created through its descriptor's factory, driven by one io_context on
// this thread. Each conformance case gets an edge-side and a connector-side
// transport from the same plugin and a deadline for everything it runs.
//
// Installed with the SDK as the library warren::transport_harness (this
// code, core's plugin loader and the self-signed certificate maker, built
// in): see cmake/WarrenTransportConformance.cmake. A binary linking it
// defines plugin_directory() (and, for the generic suite,
// transport_under_test()); warren_add_transport_conformance generates both.

#include "core/plugin/plugin_loader.hpp"
#include "core/tls/self_signed.hpp"

#include <warren/sdk/plugin.hpp>
#include <warren/sdk/testing.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace warren::test {

using namespace std::chrono_literals;
using boost::asio::awaitable;
using core::make_self_signed;
using core::SelfSignedPair;
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// A transport plugin the suite runs against.
struct TransportUnderTest {
  std::string name;      ///< as in `plugin = "quic"`
  bool datagram = true;  ///< carried over UDP (the UDP relay can cut its path)
  friend std::ostream& operator<<(std::ostream& os, const TransportUnderTest& t) { return os << t.name; }
};

/// The folder the plugins under test are loaded from. Defined by the binary
/// (warren_add_transport_conformance generates it, with the two below).
std::string plugin_directory();
std::string conformance_transport_name();
bool conformance_transport_datagram();
/// The one transport a generic conformance binary tests (conformance_target.cpp).
const TransportUnderTest& transport_under_test();
/// warren's own transports whose library was built (in-tree tests only).
std::vector<TransportUnderTest> transports_under_test();

/// Creates transport `plugin` from `table` and returns its diagnostics as
/// text ("FILE:LINE:COL: message"); none means the object was made.
std::vector<std::string> create_errors(const sdk::ConfigTable& table, const std::string& plugin = "quic");

/// One transport plugin, found and checked by core's loader as `warren` does.
class LoadedPlugin {
 public:
  explicit LoadedPlugin(const std::string& name);
  /// The factory's object, or null with `diagnostics` saying why.
  core::PluginPtr<sdk::Transport> create(const sdk::ConfigTable& table, sdk::PluginContext& context,
                                         sdk::Diagnostics& diagnostics);

 private:
  core::PluginLoader loader_{{plugin_directory()}};
  std::optional<core::LoadedPlugin> plugin_;
};

class Harness {
 public:
  explicit Harness(const TransportUnderTest& transport,
                   const sdk::ConfigTable& config = sdk::testing::TableBuilder("transport").table());
  ~Harness();

  sdk::ListenOptions listen_options() const;
  sdk::DialOptions dial_options(std::uint16_t port) const;
  /// Starts the edge's listener (REQUIREs success); returns its port.
  std::uint16_t listen(sdk::ListenOptions options);
  std::uint16_t listen() { return listen(listen_options()); }

  struct Pair {
    sdk::ConnectionPtr client;  ///< the connector's end
    sdk::ConnectionPtr server;  ///< the edge's end
  };
  /// Dials with `options` and accepts on the listener; REQUIREs both ends.
  Pair connect(sdk::DialOptions options);
  Pair connect() { return connect(dial_options(port_)); }
  /// Opens a stream on `connection` and waits for it (REQUIREs success).
  sdk::ByteStreamPtr open_stream(sdk::Connection& connection);
  /// Dials only; the result of the dial.
  std::pair<sdk::error_code, sdk::ConnectionPtr> dial(sdk::DialOptions options);

  /// Runs `coroutine` on the loop; an exception in it fails the test.
  void spawn(awaitable<void> coroutine);
  /// Runs the loop until `done()` or `limit`; false on timeout.
  template <typename Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io.run_one_until(deadline);
      rethrow_failure();
    }
    return true;
  }
  /// Runs the loop for `period`, whatever happens.
  void run_for(std::chrono::milliseconds period);
  /// True if a log line contains `text`.
  bool logged(const std::string& text) const;

  // Declaration order is destruction order reversed: the library outlives
  // the loop, the loop outlives every plugin object.
  LoadedPlugin plugin;
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  SelfSignedPair cert = make_self_signed("warren test edge", {"localhost", "127.0.0.1"});
  core::PluginPtr<sdk::Transport> edge;       ///< listens
  core::PluginPtr<sdk::Transport> connector;  ///< dials
  sdk::ListenerPtr listener;

 private:
  void rethrow_failure();
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io.get_executor()};
  std::exception_ptr failure_;
  std::uint16_t port_ = 0;
};

}  // namespace warren::test
