#include "core/admin/admin_server.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <ctime>

namespace warren::core {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::asio::ip::tcp;

namespace {

struct AdminRequest : std::enable_shared_from_this<AdminRequest> {
  AdminRequest(tcp::socket socket, std::shared_ptr<const AdminServer::Routes> r)
      : stream(std::move(socket)), routes(std::move(r)) {}

  void start() {
    stream.expires_after(std::chrono::seconds(10));
    parser.body_limit(0);
    parser.header_limit(8 * 1024);
    http::async_read(stream, buffer, parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->respond();
    });
  }

  AdminResponse answer(const http::request<http::empty_body>& request) const {
    if (request.method() != http::verb::get) return {405, "text/plain; charset=utf-8", "only GET\n"};
    std::string path(request.target());
    if (auto query = path.find('?'); query != std::string::npos) path.resize(query);
    if (auto route = routes->find(path); route != routes->end()) return route->second();
    std::string known;
    for (const auto& [p, _] : *routes) known += (known.empty() ? "try " : ", ") + p;
    return {404, "text/plain; charset=utf-8", known + "\n"};
  }

  void respond() {
    const auto& request = parser.get();
    AdminResponse a = answer(request);
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::server, "warren");
    response.result(static_cast<http::status>(a.status));
    response.set(http::field::content_type, a.content_type);
    response.body() = std::move(a.body);
    response.prepare_payload();
    http::async_write(stream, response, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream;
  std::shared_ptr<const AdminServer::Routes> routes;
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  http::response<http::string_body> response;
};

AdminServer::Routes metrics_and_health(AdminServer::Render metrics) {
  return {
      {"/metrics",
       [metrics = std::move(metrics)] {
         return AdminResponse{200, kPrometheusText, metrics()};
       }},
      {"/healthz",
       [] {
         return AdminResponse{200, "text/plain; charset=utf-8", "ok\n"};
       }},
  };
}

/// `routes` plus "/", unless it has one: a plain list of the other paths, so
/// the URL the process logs answers with where to go next instead of a 404.
AdminServer::Routes with_index(AdminServer::Routes routes) {
  if (routes.count("/")) return routes;
  std::string body = "warren admin endpoints:\n";
  for (const auto& [path, _] : routes) body += path + "\n";
  routes.emplace("/", [body] { return AdminResponse{200, "text/plain; charset=utf-8", body}; });
  return routes;
}

}  // namespace

std::string utc_text(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return text;
}

AdminServer::AdminServer(boost::asio::io_context& io, const tcp::endpoint& at, Routes routes)
    : acceptor_(io, at), retry_(io), routes_(std::make_shared<const Routes>(with_index(std::move(routes)))) {
  accept();
}

AdminServer::AdminServer(boost::asio::io_context& io, const tcp::endpoint& at, Render metrics)
    : AdminServer(io, at, metrics_and_health(std::move(metrics))) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void AdminServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (!ec) {
      std::make_shared<AdminRequest>(std::move(socket), routes_)->start();
      return accept();
    }
    // EMFILE and friends (a connector whose UDP flows hold every descriptor):
    // pause as the public listener does; accepting again at once spun a core
    // while the waiting client stayed in the backlog (trial finding).
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([this](boost::system::error_code wait) {
      if (wait != boost::asio::error::operation_aborted) accept();
    });
  });
}

}  // namespace warren::core
