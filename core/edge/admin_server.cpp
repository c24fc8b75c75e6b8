#include "core/edge/admin_server.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace warren::core {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::asio::ip::tcp;

namespace {

struct AdminRequest : std::enable_shared_from_this<AdminRequest> {
  AdminRequest(tcp::socket socket, AdminServer::Render& m) : stream(std::move(socket)), metrics(m) {}

  void start() {
    stream.expires_after(std::chrono::seconds(10));
    parser.body_limit(0);
    parser.header_limit(8 * 1024);
    http::async_read(stream, buffer, parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->respond();
    });
  }

  void respond() {
    const auto& request = parser.get();
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::server, "warren");
    if (request.method() != http::verb::get) {
      response.result(http::status::method_not_allowed);
      response.body() = "only GET\n";
    } else if (request.target() == "/metrics") {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4");
      response.body() = metrics();
    } else if (request.target() == "/healthz") {
      response.result(http::status::ok);
      response.body() = "ok\n";
    } else {
      response.result(http::status::not_found);
      response.body() = "try /metrics\n";
    }
    response.prepare_payload();
    http::async_write(stream, response, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream;
  AdminServer::Render& metrics;
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  http::response<http::string_body> response;
};

}  // namespace

AdminServer::AdminServer(boost::asio::io_context& io, const tcp::endpoint& at, Render metrics)
    : acceptor_(io, at), metrics_(std::move(metrics)) {
  accept();
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void AdminServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (!ec) std::make_shared<AdminRequest>(std::move(socket), metrics_)->start();
    accept();
  });
}

}  // namespace warren::core
