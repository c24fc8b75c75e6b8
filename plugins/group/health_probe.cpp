#include "plugins/group/health_probe.hpp"

#include "plugins/group/target_dial.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <memory>

namespace warren::group {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Handler = asio::any_completion_handler<void(bool, std::string)>;

namespace {

/// GET `path` on a connected socket; only the status line and headers are read.
struct HttpCheck : std::enable_shared_from_this<HttpCheck> {
  HttpCheck(asio::ip::tcp::socket socket, const sdk::Endpoint& target, const ProbeSpec& spec, Handler h)
      : stream(std::move(socket)), expect(spec.expect_status), handler(std::move(h)) {
    request = {http::verb::get, spec.path, 11};
    request.set(http::field::host, target.to_string());
    request.set(http::field::user_agent, "warren-health-check");
    request.set(http::field::connection, "close");
  }

  void start(sdk::TimePoint deadline) {
    stream.expires_at(deadline);
    http::async_write(stream, request, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->finish(false, ec == beast::error::timeout ? "timed out" : "write: " + ec.message());
      http::async_read_header(self->stream, self->buffer, self->parser,
                              [self](beast::error_code e, std::size_t) { self->read(e); });
    });
  }

  void read(beast::error_code ec) {
    if (ec) return finish(false, ec == beast::error::timeout ? "timed out" : "read: " + ec.message());
    unsigned status = parser.get().result_int();
    if (status != expect) return finish(false, "status " + std::to_string(status));
    finish(true, "status " + std::to_string(status));
  }

  void finish(bool ok, std::string why) {
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream.close();
    std::move(handler)(ok, std::move(why));
  }

  beast::tcp_stream stream;
  unsigned expect;
  Handler handler;
  http::request<http::empty_body> request;
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
};

}  // namespace

void probe_target(const asio::any_io_executor& executor, const sdk::Endpoint& target, const ProbeSpec& spec,
                  sdk::TimePoint deadline, Handler handler) {
  dial_target(executor, target, spec.allow_remote, deadline,
              [target, spec, deadline, h = std::move(handler)](sdk::error_code ec, std::string cause,
                                                               asio::ip::tcp::socket socket) mutable {
                if (ec) return std::move(h)(false, std::move(cause));
                if (spec.kind != HealthCheck::http) {
                  sdk::error_code ignored;
                  socket.close(ignored);
                  return std::move(h)(true, "connected");
                }
                std::make_shared<HttpCheck>(std::move(socket), target, spec, std::move(h))->start(deadline);
              });
}

}  // namespace warren::group
