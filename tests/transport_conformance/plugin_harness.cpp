#include "plugin_harness.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

namespace warren::test {

std::vector<std::string> create_errors(const sdk::ConfigTable& table, const std::string& plugin) {
  LoadedPlugin loaded(plugin);
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  sdk::Diagnostics diagnostics;
  auto object = loaded.create(table, context, diagnostics);
  std::vector<std::string> out;
  for (const auto& d : diagnostics.list()) out.push_back(d.to_string());
  if (out.empty()) REQUIRE(object);
  return out;
}

LoadedPlugin::LoadedPlugin(const std::string& name) {
  auto found = loader_.find(sdk::PluginKind::transport, name);
  if (auto* why = std::get_if<std::string>(&found)) FAIL(*why);
  plugin_ = std::get<core::LoadedPlugin>(std::move(found));
}

core::PluginPtr<sdk::Transport> LoadedPlugin::create(const sdk::ConfigTable& table, sdk::PluginContext& context,
                                                     sdk::Diagnostics& diagnostics) {
  return loader_.create<sdk::Transport>(*plugin_, table, context, diagnostics);
}

Harness::Harness(const TransportUnderTest& transport, const sdk::ConfigTable& config) : plugin(transport.name) {
  sdk::Diagnostics diagnostics;
  edge = plugin.create(config, context, diagnostics);
  connector = plugin.create(config, context, diagnostics);
  for (const auto& d : diagnostics.list()) UNSCOPED_INFO(d.to_string());
  REQUIRE(diagnostics.ok());
  REQUIRE(edge);
  REQUIRE(connector);
}

Harness::~Harness() {
  listener.reset();
  connector.reset();
  edge.reset();
  // Let posted completions (which may own handles) run while the library
  // and the loop are still here; bounded, so a handler that keeps
  // re-posting itself cannot hang the suite.
  io.restart();
  for (int i = 0; i < 100000 && io.poll_one(); ++i) {
  }
}

sdk::ListenOptions Harness::listen_options() const {
  sdk::ListenOptions options;
  options.address = boost::asio::ip::make_address("127.0.0.1");
  options.port = 0;
  options.cert_pem = cert.cert_pem;
  options.key_pem = cert.key_pem;
  return options;
}

sdk::DialOptions Harness::dial_options(std::uint16_t port) const {
  sdk::DialOptions options;
  options.address = boost::asio::ip::make_address("127.0.0.1");
  options.port = port;
  options.server_name = "localhost";
  options.verify.pin_sha256 = cert.pin_sha256;
  return options;
}

std::uint16_t Harness::listen(sdk::ListenOptions options) {
  sdk::error_code ec;
  listener = edge->listen(options, ec);
  INFO(ec.message());
  REQUIRE(listener);
  REQUIRE_FALSE(ec);
  port_ = listener->local_port();
  REQUIRE(port_ != 0);
  return port_;
}

std::pair<sdk::error_code, sdk::ConnectionPtr> Harness::dial(sdk::DialOptions options) {
  bool done = false;
  std::pair<sdk::error_code, sdk::ConnectionPtr> result;
  connector->async_dial(std::move(options), [&](sdk::error_code ec, sdk::ConnectionPtr c) {
    result = {ec, std::move(c)};
    done = true;
  });
  REQUIRE(run_until([&] { return done; }));
  return result;
}

Harness::Pair Harness::connect(sdk::DialOptions options) {
  Pair pair;
  bool accepted = false;
  listener->async_accept([&](sdk::error_code ec, sdk::ConnectionPtr c) {
    INFO(ec.message());
    CHECK_FALSE(ec);
    pair.server = std::move(c);
    accepted = true;
  });
  auto [ec, client] = dial(std::move(options));
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  REQUIRE(run_until([&] { return accepted; }));
  REQUIRE(pair.server);
  pair.client = std::move(client);
  return pair;
}

sdk::ByteStreamPtr Harness::open_stream(sdk::Connection& connection) {
  sdk::ByteStreamPtr stream;
  connection.async_open_stream([&](sdk::error_code ec, sdk::ByteStreamPtr s) {
    REQUIRE_FALSE(ec);
    stream = std::move(s);
  });
  REQUIRE(run_until([&] { return stream != nullptr; }));
  return stream;
}

void Harness::spawn(awaitable<void> coroutine) {
  boost::asio::co_spawn(io, std::move(coroutine), [this](std::exception_ptr e) {
    if (e && !failure_) failure_ = e;
  });
}

void Harness::rethrow_failure() {
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

void Harness::run_for(std::chrono::milliseconds period) {
  auto deadline = std::chrono::steady_clock::now() + period;
  while (std::chrono::steady_clock::now() < deadline) {
    io.run_one_until(deadline);
    rethrow_failure();
  }
}

bool Harness::logged(const std::string& text) const {
  for (const auto& [level, line] : logger.lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace warren::test
