#include "plugins/udp/udp_backend.hpp"

#include "plugins/udp/open_failure_log.hpp"
#include "plugins/udp/udp_flow.hpp"
#include "plugins/udp/udp_proxy_header.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

namespace warren::udp {

namespace asio = boost::asio;
using asio::ip::udp;

const sdk::ConfigSchema<UdpBackendConfig>& udp_backend_schema() {
  using C = UdpBackendConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("where the connector delivers a UDP tunnel's flows: one UDP service, a socket per flow")
          .endpoint("address", &C::address, "the local UDP service, host:port")
          .required()
          .boolean("allow_remote", &C::allow_remote, "allow targets that are not loopback addresses")
          .choice("proxy_protocol", &C::proxy_protocol,
                  {{"off", ProxyProtocol::off}, {"v1", ProxyProtocol::v1}, {"v2", ProxyProtocol::v2}},
                  "start datagrams to the service with a PROXY protocol v2 header (transport DGRAM) naming the "
                  "public client's address and port and the tunnel's public address; the service must expect it "
                  "(dnsdist setProxyProtocolACL, PowerDNS Recursor proxy-protocol-from). \"v1\" is refused: its "
                  "text header can only describe TCP")
          .choice("proxy_protocol_datagrams", &C::proxy_protocol_datagrams,
                  {{"every", ProxyDatagrams::every}, {"first", ProxyDatagrams::first}},
                  "which datagrams of a flow carry the PROXY header: every one (what dnsdist and PowerDNS expect: "
                  "they read each datagram alone) or only the first of each flow")
          .check([](const C& c, const sdk::CheckContext& at) {
            if (c.proxy_protocol == ProxyProtocol::v1)
              at.error("proxy_protocol",
                       "proxy_protocol = \"v1\" cannot describe UDP: its text header names TCP4 or TCP6 only. Use "
                       "\"v2\", whose binary header carries UDP4 and UDP6");
            if (at.has("proxy_protocol_datagrams") && c.proxy_protocol == ProxyProtocol::off)
              at.error("proxy_protocol_datagrams",
                       "proxy_protocol_datagrams has no effect while proxy_protocol is \"off\"; set proxy_protocol "
                       "= \"v2\" or remove it");
            // A name (e.g. localhost) is resolved when a flow opens; only a literal can be judged here.
            sdk::error_code ec;
            auto literal = asio::ip::make_address(c.address.host, ec);
            if (!ec && !c.allow_remote && !is_loopback(literal))
              at.error("address", "backend address " + c.address.to_string() +
                                      " is not a loopback address; tunnel clients would reach your network through "
                                      "it. Set allow_remote = true if that is intended");
          });
  return schema;
}

namespace {

/// Logs what `failures` says of an open that failed with `ec` (`use` read
/// when it failed), or opened when ec is clear.
void log_open(OpenFailureLog& failures, sdk::Logger& logger, const sdk::error_code& ec, const DescriptorUse& use) {
  auto now = sdk::Clock::now();
  // A socket error is an errno value; anything else is logged by its number all the same.
  auto line = ec ? failures.failed(ec.value(), now, use) : failures.opened(now);
  if (line && logger.enabled(line->level)) logger.log(line->level, line->text);
}

/// Opens one connected socket to `target`; connecting a UDP socket sends
/// nothing, it only fixes the peer (and lets ICMP errors reach us).
void open_connected(const asio::any_io_executor& ex, const udp::endpoint& target, std::optional<UdpFlow::Prefix> prefix,
                    sdk::DatagramFlowHandler handler, std::shared_ptr<OpenFailureLog> failures, sdk::Logger& logger) {
  udp::socket socket(ex);
  sdk::error_code ec;
  socket.open(target.protocol(), ec);
  if (!ec) socket.connect(target, ec);
  sdk::DatagramFlowPtr flow;
  DescriptorUse use;
  if (!ec)
    flow = std::make_unique<UdpFlow>(std::move(socket), std::move(prefix));
  else
    use = descriptor_use(UdpFlow::open_count());  // as they are now: the limit may change before the line
  // With EMFILE no descriptor is left: nothing on this path may need one, so
  // the error is only kept here and put into words (and logged) in the
  // posted completion. Post: never complete inside the initiating call.
  asio::post(ex,
             [h = std::move(handler), ec, use, f = std::move(flow), failures = std::move(failures), &logger]() mutable {
               log_open(*failures, logger, ec, use);
               auto result = ec ? sdk::make_error_code(sdk::errc::backend_refused) : sdk::error_code{};
               std::move(h)(result, std::move(f));
             });
}

void fail(const asio::any_io_executor& ex, sdk::DatagramFlowHandler handler, sdk::errc code) {
  asio::post(ex, [h = std::move(handler), code]() mutable {
    std::move(h)(sdk::make_error_code(code), sdk::DatagramFlowPtr{});
  });
}

/// The flow's PROXY header, if the config asks for one.
std::optional<UdpFlow::Prefix> proxy_prefix(const UdpBackendConfig& config, const sdk::StreamInfo& info,
                                            sdk::Logger& logger) {
  if (config.proxy_protocol != ProxyProtocol::v2) return std::nullopt;
  auto header = udp_proxy_header(info.client_address, info.listener);
  if (header.unknown)
    logger.debug("PROXY header for " + info.client_address + " says unknown: the client is no IP address");
  else if (header.destination_unspecified)
    logger.debug("PROXY header for " + info.client_address + " names an unspecified destination: the public address " +
                 info.listener + " is no IP address of the client's family");
  return UdpFlow::Prefix{header.bytes, config.proxy_protocol_datagrams == ProxyDatagrams::every};
}

}  // namespace

void UdpBackend::async_connect_impl(sdk::StreamInfo,
                                    asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler) {
  context_.logger.error(
      "the udp backend carries datagrams; use it with a kind = \"udp\" tunnel");
  asio::post(context_.executor, [h = std::move(handler)]() mutable {
    std::move(h)(sdk::make_error_code(sdk::errc::config_invalid), sdk::ByteStreamPtr{});
  });
}

void UdpBackend::async_open_flow_impl(sdk::StreamInfo info, sdk::DatagramFlowHandler handler) {
  auto ex = context_.executor;
  auto prefix = proxy_prefix(config_, info, context_.logger);
  sdk::error_code literal_error;
  auto literal = asio::ip::make_address(config_.address.host, literal_error);
  if (!literal_error) {
    if (!config_.allow_remote && !is_loopback(literal)) {
      context_.logger.error("backend " + config_.address.to_string() +
                            " is not a loopback address; set allow_remote = true to permit it");
      return fail(ex, std::move(handler), sdk::errc::remote_not_allowed);
    }
    return open_connected(ex, udp::endpoint(literal, config_.address.port), std::move(prefix), std::move(handler),
                          failures_, context_.logger);
  }
  auto resolver = std::make_shared<udp::resolver>(ex);
  resolver->async_resolve(
      config_.address.host, std::to_string(config_.address.port),
      [resolver, ex, h = std::move(handler), prefix = std::move(prefix), config = config_, failures = failures_,
       &logger = context_.logger](sdk::error_code ec, udp::resolver::results_type results) mutable {
        if (ec || results.empty()) {
          logger.warn("cannot resolve backend " + config.address.to_string() + ": " + ec.message());
          return fail(ex, std::move(h), sdk::errc::backend_refused);
        }
        auto target = results.begin()->endpoint();
        if (!config.allow_remote && !is_loopback(target.address())) {
          logger.error("backend " + config.address.host + " resolves to " + target.address().to_string() +
                       ", which is not loopback; set allow_remote = true to permit it");
          return fail(ex, std::move(h), sdk::errc::remote_not_allowed);
        }
        open_connected(ex, target, std::move(prefix), std::move(h), std::move(failures), logger);
      });
}

}  // namespace warren::udp
