#include "plugins/group/group_backend.hpp"

#include "plugins/group/target_dial.hpp"

#include <warren/sdk/socket_stream.hpp>

#include <boost/asio/post.hpp>

#include <random>

namespace warren::group {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

/// A target's connection as a ByteStream that tells the pool when it ends,
/// so least_connections counts open streams.
class TrackedStream final : public sdk::ByteStream {
 public:
  TrackedStream(tcp::socket socket, std::shared_ptr<GroupShell> shell, std::size_t target)
      : inner_(std::move(socket)), shell_(std::move(shell)), target_(target) {}
  ~TrackedStream() override { shell_->closed(target_); }

  executor_type get_executor() override { return inner_.get_executor(); }
  void shutdown_send() override { inner_.shutdown_send(); }
  void abort() override { inner_.abort(); }

 private:
  void async_read_some_impl(asio::mutable_buffer buffer, sdk::ReadHandler handler) override {
    inner_.async_read_some(buffer, std::move(handler));
  }
  void async_write_some_impl(asio::const_buffer buffer, sdk::WriteHandler handler) override {
    inner_.async_write_some(buffer, std::move(handler));
  }

  sdk::SocketStream<tcp::socket> inner_;
  std::shared_ptr<GroupShell> shell_;
  std::size_t target_;
};

/// "3 tcp checks in a row" or "1 http check (GET /healthz, expecting 200)": which checks a line speaks of.
std::string checks(const GroupConfig& c, unsigned count) {
  auto text = std::to_string(count) + (c.health_check == HealthCheck::http ? " http check" : " tcp check") +
              (count == 1 ? "" : "s");
  if (c.health_check == HealthCheck::http)
    text += " (GET " + c.health_check_path + ", expecting " + std::to_string(c.health_check_expect_status) + ")";
  return count == 1 ? text : text + " in a row";
}

/// " (connection refused)" after one failure, " (last: connection refused)" after several.
std::string cause(unsigned count, const std::string& last) { return (count == 1 ? " (" : " (last: ") + last + ")"; }

}  // namespace

GroupShell::GroupShell(GroupConfig config, sdk::PluginContext& context)
    : config_(std::move(config)),
      probe_spec_{config_.health_check, config_.allow_remote, config_.health_check_path,
                  config_.health_check_expect_status},
      logger_(context.logger),
      executor_(context.executor),
      timer_(context.executor),
      // Only the random balance draws from it; any seed is as good as another.
      random_(std::random_device{}()),
      pool_(pool_settings(config_), random_, sdk::Clock::now()),
      last_probe_(config_.targets.size()),
      last_connect_(config_.targets.size()),
      down_since_(config_.targets.size()) {}

void GroupShell::start() { drive(); }

void GroupShell::stop() {
  stopped_ = true;
  timer_.cancel();
}

void GroupShell::closed(std::size_t target) { pool_.handle_closed(target); }

void GroupShell::connect(Handler handler) {
  auto now = sdk::Clock::now();
  auto target = pool_.pick(now);
  if (!target) {
    // Once per outage, not once per stream: a busy tunnel would flood the log.
    if (!refusing_)
      logger_.warn("no healthy target in the group (" + std::to_string(pool_.size()) +
                   (pool_.size() == 1 ? " target, down" : " targets, all down") +
                   "); refusing streams until one is back");
    refusing_ = true;
    return asio::post(executor_, [h = std::move(handler)]() mutable {
      std::move(h)(sdk::make_error_code(sdk::errc::backend_refused), nullptr);
    });
  }
  refusing_ = false;
  attempt(*target, now + config_.connect_timeout, false, std::move(handler));
}

void GroupShell::attempt(std::size_t target, sdk::TimePoint deadline, bool retried, Handler handler) {
  dial_target(executor_, config_.targets[target], config_.allow_remote, deadline,
              [self = shared_from_this(), target, deadline, retried, h = std::move(handler)](
                  sdk::error_code ec, std::string cause, tcp::socket socket) mutable {
                auto now = sdk::Clock::now();
                if (!ec) {
                  self->pool_.handle_connected(target);
                  sdk::error_code ignored;
                  if (self->config_.nodelay) socket.set_option(tcp::no_delay(true), ignored);
                  std::move(h)(sdk::error_code{}, sdk::ByteStreamPtr(std::make_unique<TrackedStream>(std::move(socket), self, target)));
                  return self->drive();
                }
                self->pool_.handle_connect_failed(now, target);
                self->logger_.debug("target " + self->config_.targets[target].to_string() + ": " + cause + " (" +
                                    sdk::name(ec) + ")");
                self->last_connect_[target] = std::move(cause);
                // One retry, on another target, if the deadline left time for it.
                auto next = !retried && now < deadline ? self->pool_.pick(now, target) : std::nullopt;
                self->drive();
                if (next) return self->attempt(*next, deadline, true, std::move(h));
                std::move(h)(ec, nullptr);
              });
}

void GroupShell::drive() {
  if (stopped_) return;
  auto now = sdk::Clock::now();
  while (auto action = pool_.poll_action(now)) {
    if (auto* p = std::get_if<ProbeTarget>(&*action)) {
      probe(p->target);
    } else if (auto* down = std::get_if<TargetDown>(&*action)) {
      target_down(*down, now);
    } else if (auto* up = std::get_if<TargetUp>(&*action)) {
      target_up(*up, now);
    }
  }
  auto next = pool_.next_timeout();
  if (!next) return;
  timer_.expires_at(*next);
  timer_.async_wait([weak = weak_from_this()](sdk::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) self->drive();
  });
}

void GroupShell::target_down(const TargetDown& down, sdk::TimePoint now) {
  down_since_[down.target] = now;
  std::string line = "target " + config_.targets[down.target].to_string() + " is down: ";
  if (down.why == DownReason::probes_failed) {
    line += checks(config_, down.in_a_row) + " failed" + cause(down.in_a_row, last_probe_[down.target]);
  } else {
    line += std::to_string(down.in_a_row) + (down.in_a_row == 1 ? " connect" : " connects in a row") + " failed" +
            cause(down.in_a_row, last_connect_[down.target]) + "; ";
    line += config_.health_check == HealthCheck::none ? "skipped for " + sdk::format_duration(config_.ejection_time)
                                                      : "back after " + checks(config_, config_.rise) + " pass";
  }
  logger_.warn(line);
}

void GroupShell::target_up(const TargetUp& up, sdk::TimePoint now) {
  std::string line = "target " + config_.targets[up.target].to_string() + " is up again: ";
  line += up.why == UpReason::probes_passed ? checks(config_, up.in_a_row) + " passed"
                                            : "its " + sdk::format_duration(config_.ejection_time) + " ejection ended";
  if (down_since_[up.target]) line += " (down for " + sdk::human_duration(now - *down_since_[up.target]) + ")";
  down_since_[up.target].reset();
  logger_.info(line);
}

void GroupShell::probe(std::size_t target) {
  probe_target(executor_, config_.targets[target], probe_spec_, sdk::Clock::now() + config_.health_check_timeout,
               [self = shared_from_this(), target](bool ok, std::string why) {
                 if (self->stopped_) return;
                 self->last_probe_[target] = std::move(why);
                 self->pool_.handle_probe_result(sdk::Clock::now(), target, ok);
                 self->drive();
               });
}

GroupBackend::GroupBackend(GroupConfig config, sdk::PluginContext& context)
    : shell_(std::make_shared<GroupShell>(std::move(config), context)) {
  shell_->start();
}

GroupBackend::~GroupBackend() { shell_->stop(); }

void GroupBackend::async_connect_impl(sdk::StreamInfo,
                                      asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler) {
  shell_->connect(std::move(handler));
}

}  // namespace warren::group
