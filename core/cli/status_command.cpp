// `warren status`: GET /status from a running edge's or connector's admin
// address (Boost.Beast's client) and print it as tables, or as is (--json).

#include "core/admin/status_text.hpp"
#include "core/cli/commands.hpp"
#include "core/config/config_file.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <iostream>

namespace warren::cli {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::asio::ip::tcp;

constexpr const char* kDefaultAdmin = "127.0.0.1:9101";

/// The admin endpoint a config names; a wildcard address is asked on loopback.
std::optional<sdk::Endpoint> admin_of(const core::AnyConfig& config) {
  std::optional<sdk::Endpoint> admin;
  if (auto* c = std::get_if<core::ConnectorConfig>(&config)) admin = c->admin;
  if (auto* e = std::get_if<core::EdgeConfig>(&config)) admin = e->edge.admin;
  if (admin && (admin->host == "0.0.0.0" || admin->host.empty())) admin->host = "127.0.0.1";
  if (admin && admin->host == "::") admin->host = "::1";
  return admin;
}

struct Fetched {
  unsigned status = 0;
  std::string body;
  std::string error;  ///< set when nothing usable came back
};

/// GET `path` from `at`, within a few seconds for the whole exchange.
Fetched fetch(const sdk::Endpoint& at, const std::string& path) {
  boost::asio::io_context io;
  Fetched out;
  boost::system::error_code ec;
  auto endpoints = tcp::resolver(io).resolve(at.host, std::to_string(at.port), ec);
  if (ec) return {0, {}, ec.message()};
  beast::tcp_stream stream(io);
  http::request<http::empty_body> request{http::verb::get, path, 11};
  request.set(http::field::host, sdk::format_host_port(at.host, at.port));
  request.set(http::field::user_agent, "warren status");
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  stream.expires_after(std::chrono::seconds(5));
  stream.async_connect(endpoints, [&](beast::error_code connected, const tcp::endpoint&) {
    if (connected) return void(out.error = connected.message());
    http::async_write(stream, request, [&](beast::error_code written, std::size_t) {
      if (written) return void(out.error = written.message());
      http::async_read(stream, buffer, parser, [&](beast::error_code read, std::size_t) {
        if (read) return void(out.error = read.message());
        out.status = parser.get().result_int();
        out.body = parser.get().body();
      });
    });
  });
  io.run();
  return out;
}

}  // namespace

int run_status(const StatusOptions& options) {
  sdk::Endpoint at;
  std::string origin;  // where the address came from, for the error sentence
  if (options.config) {
    sdk::Diagnostics diagnostics;
    auto config = core::read_config_file(*options.config, diagnostics);
    if (!diagnostics.ok()) return report_invalid(*options.config, diagnostics);
    auto admin = admin_of(config);
    if (!admin) {
      bool edge = std::holds_alternative<core::EdgeConfig>(config);
      std::cerr << "warren status: " << options.config->string() << " has no admin address; add "
                << (edge ? "admin = \"127.0.0.1:9100\" to its [edge] table"
                         : "[admin]\naddress = \"127.0.0.1:9101\"\nto it")
                << ", restart the " << (edge ? "edge" : "connector") << ", and ask again\n";
      return exit_usage;
    }
    if (admin->port == 0) {
      std::cerr << "warren status: " << options.config->string()
                << " serves its admin endpoints on port 0 (any free port); give --admin HOST:PORT with the port "
                   "the process logged at start (\"admin http://...\")\n";
      return exit_usage;
    }
    at = *admin;
    origin = " (the admin address of " + options.config->string() + ")";
  } else {
    std::string why;
    auto parsed = sdk::parse_endpoint(options.admin.value_or(kDefaultAdmin), &why);
    if (!parsed) {
      std::cerr << "warren status: --admin '" << *options.admin << "': " << why << "\n";
      return exit_usage;
    }
    at = *parsed;
    if (!options.admin) origin = " (the default; give --admin HOST:PORT or --config FILE)";
  }
  const auto where = sdk::format_host_port(at.host, at.port);
  auto answer = fetch(at, "/status");
  if (!answer.error.empty()) {
    std::cerr << "warren status: nothing answers on " << where << origin << ": " << answer.error
              << ".\nIs the edge or connector running with its admin endpoints on? A connector serves them with "
                 "[admin]\naddress = \"127.0.0.1:9101\" in its config, an edge with admin = \"127.0.0.1:9100\" in "
                 "[edge].\n";
    return exit_failure;
  }
  if (answer.status != 200) {
    std::cerr << "warren status: http://" << where << "/status answered " << answer.status
              << "; is that a warren admin address?\n";
    return exit_failure;
  }
  if (options.json) {
    std::cout << answer.body;
    if (!answer.body.empty() && answer.body.back() != '\n') std::cout << "\n";
    return exit_ok;
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(answer.body, ec);
  auto role = !ec && doc.is_object() ? core::status_role(doc.as_object()) : "";
  if (role.empty()) {
    std::cerr << "warren status: http://" << where << "/status did not answer with a warren status document\n";
    return exit_failure;
  }
  auto now = std::chrono::system_clock::now();
  std::cout << (role == "edge" ? core::edge_status_text(doc.as_object(), now)
                               : core::connector_status_text(doc.as_object(), now));
  return exit_ok;
}

}  // namespace warren::cli
