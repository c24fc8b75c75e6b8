#include "discovery/static/static_discovery.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

namespace warren::static_discovery {

namespace asio = boost::asio;

const sdk::ConfigSchema<StaticDiscoveryConfig>& static_discovery_schema() {
  using C = StaticDiscoveryConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("a fixed list of edges, tried in the order written")
          .endpoint_list("edges", &C::edges, "edge addresses, host:port, most preferred first", "edge")
          .required()
          .check([](const C& c, const sdk::CheckContext& at) {
            if (c.edges.empty()) at.error("edges", "'edges' is empty; list at least one \"host:port\"");
          });
  return schema;
}

namespace {

/// Resolves every configured edge in turn, keeping the configured order.
struct ResolveRun : std::enable_shared_from_this<ResolveRun> {
  ResolveRun(const asio::any_io_executor& ex, std::vector<sdk::Endpoint> e, sdk::ResolveHandler h, sdk::Logger& l)
      : resolver(ex), edges(std::move(e)), handler(std::move(h)), logger(l) {}

  void next() {
    if (index == edges.size()) return finish();
    const sdk::Endpoint& edge = edges[index];
    sdk::error_code ec;
    auto literal = asio::ip::make_address(edge.host, ec);
    if (!ec) {
      add(literal, edge);
      ++index;
      return next();
    }
    resolver.async_resolve(edge.host, std::to_string(edge.port),
                           [self = shared_from_this()](sdk::error_code e, asio::ip::udp::resolver::results_type r) {
                             self->on_resolved(e, std::move(r));
                           });
  }

  void on_resolved(sdk::error_code ec, asio::ip::udp::resolver::results_type results) {
    const sdk::Endpoint& edge = edges[index];
    if (ec) {
      ++failures;
      logger.warn("cannot resolve edge " + edge.to_string() + ": " + ec.message());
    }
    for (const auto& entry : results) add(entry.endpoint().address(), edge);
    ++index;
    next();
  }

  void add(const asio::ip::address& address, const sdk::Endpoint& edge) {
    sdk::EdgeAddress a;
    a.address = address;
    a.port = edge.port;
    a.host = edge.host;
    a.priority = static_cast<std::uint16_t>(index);
    found.push_back(std::move(a));
  }

  void finish() {
    sdk::error_code ec;
    if (found.empty())
      ec = sdk::make_error_code(failures == edges.size() ? sdk::errc::discovery_failed : sdk::errc::no_edges);
    asio::post(resolver.get_executor(), [h = std::move(handler), ec, f = std::move(found)]() mutable {
      std::move(h)(ec, std::move(f));
    });
  }

  asio::ip::udp::resolver resolver;
  std::vector<sdk::Endpoint> edges;
  sdk::ResolveHandler handler;
  sdk::Logger& logger;
  std::vector<sdk::EdgeAddress> found;
  std::size_t index = 0;
  std::size_t failures = 0;
};

}  // namespace

void StaticDiscovery::async_resolve_impl(sdk::ResolveHandler handler) {
  std::make_shared<ResolveRun>(context_.executor, config_.edges, std::move(handler), context_.logger)->next();
}

}  // namespace warren::static_discovery
