#include "core/embed/tunnel_run.hpp"

#include "core/embed/library_location.hpp"
#include "core/log/logging.hpp"
#include "core/plugin/plugin_search_path.hpp"

#include <boost/asio/post.hpp>

#include <future>

namespace warren::embed {

using namespace std::chrono_literals;

namespace {

TunnelError invalid(const std::string& what) {
  return TunnelError(TunnelFailure::invalid_options, sdk::make_error_code(sdk::errc::config_invalid), what);
}

}  // namespace

TunnelRun::TunnelRun(core::ConnectorConfig config, const StartOptions& start, const Describe& describe)
    : config_(std::move(config)) {
  if (!start.log_level.empty()) {
    auto level = core::parse_log_level(start.log_level);
    if (!level) throw invalid("start.log_level \"" + start.log_level + "\": say trace, debug, info, warn or error");
    core::configure_logging(*level);
  }
  std::vector<std::filesystem::path> dirs(start.plugin_dirs.begin(), start.plugin_dirs.end());
  loader_ = std::make_unique<core::PluginLoader>(core::plugin_search_path(dirs, config_.plugin_dirs, library_plugin_dir()));
  sdk::Diagnostics diagnostics;
  std::shared_ptr<core::ConnectorPlugins> plugins = core::make_connector_plugins(config_, *loader_, io_.get_executor(), diagnostics);
  if (!diagnostics.ok()) {
    std::string what;
    for (const auto& d : diagnostics.list()) what += (what.empty() ? "" : "\n") + describe(d);
    throw invalid(what);
  }
  core::ConnectorOptions options;
  options.on_registered = [this](const core::protocol::Registered& r, unsigned) {
    std::lock_guard lock(mutex_);
    if (registered_) return;
    registered_ = true;
    public_address_ = r.public_address;
    tunnel_id_ = config_.tunnel.id.value_or(r.tunnel_id);
    changed_.notify_all();
  };
  options.on_exit = [this](const core::supervisor::Exit& e, const std::string& why) {
    std::lock_guard lock(mutex_);
    exit_ = e;
    exit_why_ = why;
    ended_on_its_own_ = !shutdown_requested_;
  };
  try {
    shell_ = std::make_unique<core::ConnectorShell>(io_, config_, std::move(plugins), std::move(options));
  } catch (const std::exception& e) {  // no policy plays a role the supervisor needs
    throw invalid(e.what());
  }
}

TunnelRun::~TunnelRun() {
  if (thread_.joinable()) {
    request_shutdown(true);
    thread_.join();
  }
}

void TunnelRun::run() {
  shell_->start();
  io_.run();
  auto metrics = shell_->render_admin("/metrics");
  auto status = shell_->render_admin("/status");
  std::lock_guard lock(mutex_);
  final_metrics_ = std::move(metrics);
  final_status_ = std::move(status);
  finished_ = true;
  changed_.notify_all();
}

void TunnelRun::start(std::chrono::milliseconds timeout) {
  thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return registered_ || finished_; });
  if (registered_) return;
  bool timed_out = !finished_;
  lock.unlock();
  if (timed_out) request_shutdown(true);
  thread_.join();
  lock.lock();
  if (!timed_out) throw error_from_exit();
  // What the last attempt ran into, when it ran into something.
  std::string last;
  if (exit_ && exit_why_ != exit_->reason.message()) last = "; the last attempt: " + exit_why_;
  throw TunnelError(TunnelFailure::runtime, sdk::make_error_code(sdk::errc::dial_failed),
                    "no connection to the edge registered within " + sdk::human_duration(timeout) + last);
}

TunnelError TunnelRun::error_from_exit() const {
  auto failure = !exit_                ? TunnelFailure::runtime
                 : exit_->code == 2 ? TunnelFailure::invalid_options
                 : exit_->code == 3 ? TunnelFailure::refused
                                      : TunnelFailure::runtime;
  auto code = exit_ && exit_->reason ? exit_->reason : sdk::make_error_code(sdk::errc::shutting_down);
  return TunnelError(failure, code, exit_ ? exit_why_ : "the tunnel stopped");
}

void TunnelRun::request_shutdown(bool at_once) {
  {
    std::lock_guard lock(mutex_);
    shutdown_requested_ = true;
  }
  boost::asio::post(io_, [this, at_once] {
    if (!shell_->exit_code()) shell_->shutdown();
    if (at_once && !shell_->exit_code()) shell_->shutdown();
  });
}

std::string TunnelRun::snapshot(std::string_view path) const {
  if (io_.get_executor().running_in_this_thread()) return shell_->render_admin(path);
  {
    std::lock_guard lock(mutex_);
    if (finished_) return path == "/metrics" ? final_metrics_ : final_status_;
  }
  auto answer = std::make_shared<std::promise<std::string>>();
  auto future = answer->get_future();
  boost::asio::post(io_, [this, answer, path = std::string(path)] {
    try {
      answer->set_value(shell_->render_admin(path));
    } catch (...) {
      answer->set_exception(std::current_exception());
    }
  });
  // The run may end before the request is served: then the last snapshot answers.
  while (future.wait_for(20ms) != std::future_status::ready) {
    std::lock_guard lock(mutex_);
    if (finished_) return path == "/metrics" ? final_metrics_ : final_status_;
  }
  return future.get();
}

bool TunnelRun::running() const {
  std::lock_guard lock(mutex_);
  return !exit_ && !finished_;
}

std::optional<TunnelError> TunnelRun::stop_reason() const {
  std::lock_guard lock(mutex_);
  if (!exit_ || !ended_on_its_own_) return std::nullopt;
  return error_from_exit();
}

bool TunnelRun::shutdown(std::chrono::milliseconds grace) {
  std::lock_guard serial(shutdown_mutex_);
  if (thread_.joinable()) {
    request_shutdown(false);
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, grace, [this] { return finished_; })) {
      lock.unlock();
      request_shutdown(true);  // the grace is over: cut what is still open
    }
    if (lock.owns_lock()) lock.unlock();
    thread_.join();
  }
  std::lock_guard lock(mutex_);
  return exit_ && exit_->streams_cut == 0;
}

}  // namespace warren::embed
