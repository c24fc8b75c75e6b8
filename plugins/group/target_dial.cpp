#include "plugins/group/target_dial.hpp"

#include "plugins/group/group_config.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace warren::group {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct Dial : std::enable_shared_from_this<Dial> {
  Dial(const asio::any_io_executor& ex, sdk::Endpoint t, bool remote, DialHandler h)
      : resolver(ex), socket(ex), timer(ex), target(std::move(t)), allow_remote(remote), handler(std::move(h)) {}

  void start(sdk::TimePoint deadline) {
    timer.expires_at(deadline);
    timer.async_wait([self = shared_from_this()](sdk::error_code ec) {
      if (!ec) self->finish(sdk::make_error_code(sdk::errc::backend_timeout), "timed out");
    });
    sdk::error_code not_literal;
    auto literal = asio::ip::make_address(target.host, not_literal);
    if (!not_literal) {
      if (!allow_remote && !is_loopback(literal))
        return finish(sdk::make_error_code(sdk::errc::remote_not_allowed),
                      "not a loopback address (allow_remote is off)");
      return socket.async_connect(tcp::endpoint(literal, target.port),
                                  [self = shared_from_this()](sdk::error_code ec) { self->connected(ec); });
    }
    resolver.async_resolve(target.host, std::to_string(target.port),
                           [self = shared_from_this()](sdk::error_code ec, tcp::resolver::results_type results) {
                             self->resolved(ec, std::move(results));
                           });
  }

  void resolved(sdk::error_code ec, tcp::resolver::results_type results) {
    if (done) return;
    if (ec)
      return finish(sdk::make_error_code(sdk::errc::backend_refused),
                    "cannot resolve " + target.host + ": " + ec.message());
    if (!allow_remote)
      for (const auto& entry : results)
        if (!is_loopback(entry.endpoint().address()))
          return finish(sdk::make_error_code(sdk::errc::remote_not_allowed),
                        target.host + " resolves to " + entry.endpoint().address().to_string() +
                            ", not a loopback address (allow_remote is off)");
    asio::async_connect(socket, results,
                        [self = shared_from_this()](sdk::error_code e, const tcp::endpoint&) { self->connected(e); });
  }

  void connected(sdk::error_code ec) {
    if (done) return;
    if (ec) return finish(sdk::make_error_code(sdk::errc::backend_refused), lowercase_first(ec.message()));
    finish({}, {});
  }

  /// Asio's messages are strerror's ("Connection refused"); mid-sentence they read better lowercased.
  static std::string lowercase_first(std::string text) {
    if (!text.empty() && text.front() >= 'A' && text.front() <= 'Z')
      text.front() = static_cast<char>(text.front() - 'A' + 'a');
    return text;
  }

  void finish(sdk::error_code ec, std::string cause) {
    if (done) return;
    done = true;
    timer.cancel();
    resolver.cancel();
    sdk::error_code ignored;
    if (ec) socket.close(ignored);  // cancels a pending connect
    // Post: never complete inside the initiating call.
    asio::post(timer.get_executor(),
               [h = std::move(handler), ec, c = std::move(cause), s = std::move(socket)]() mutable {
                 std::move(h)(ec, std::move(c), std::move(s));
               });
  }

  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  sdk::Endpoint target;
  bool allow_remote;
  DialHandler handler;
  bool done = false;
};

}  // namespace

void dial_target(const asio::any_io_executor& executor, sdk::Endpoint target, bool allow_remote,
                 sdk::TimePoint deadline, DialHandler handler) {
  std::make_shared<Dial>(executor, std::move(target), allow_remote, std::move(handler))->start(deadline);
}

}  // namespace warren::group
