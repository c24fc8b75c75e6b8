#pragma once
// One embedded tunnel's run: its config, plugins and connector shell, and
// the thread that runs them on an io_context of their own. The caller's
// threads only post to that io_context and wait for what it reports, so
// the shell (like in `warren connect`) is only ever touched by its thread.

#include "core/config/connector_config.hpp"
#include "core/connector/connector_shell.hpp"
#include "core/plugin/plugin_loader.hpp"
#include "core/plugin/plugin_set.hpp"

#include <warren/tunnel.hpp>

#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace warren::embed {

class TunnelRun {
 public:
  /// Says one problem of the config in the caller's words.
  using Describe = std::function<std::string(const sdk::Diagnostic&)>;

  /// Loads the plugins `config` names and makes the shell, on the caller's
  /// thread. Throws TunnelError(invalid_options) listing every problem.
  TunnelRun(core::ConnectorConfig config, const StartOptions& start, const Describe& describe);
  /// Stops at once if still running (the public Tunnel drains first), joins.
  ~TunnelRun();
  TunnelRun(const TunnelRun&) = delete;
  TunnelRun& operator=(const TunnelRun&) = delete;

  /// Starts the thread and waits until a leg registered; throws TunnelError
  /// (the run has stopped and its thread is joined then).
  void start(std::chrono::milliseconds timeout);

  const std::string& public_address() const { return public_address_; }
  const std::string& tunnel_id() const { return tunnel_id_; }
  std::string snapshot(std::string_view path) const;
  bool running() const;
  std::optional<TunnelError> stop_reason() const;
  bool shutdown(std::chrono::milliseconds grace);
  sdk::Duration grace_period() const { return config_.tunnel.grace_period; }

 private:
  void run();
  /// Posts the shell's shutdown; `at_once` asks twice (the second stops at once).
  void request_shutdown(bool at_once);
  TunnelError error_from_exit() const;  ///< with mutex_ held

  core::ConnectorConfig config_;  ///< what it runs (the shell keeps its own copy, which a reload may change)
  mutable boost::asio::io_context io_{1};  // snapshot() posts to it
  std::unique_ptr<core::PluginLoader> loader_;
  std::unique_ptr<core::ConnectorShell> shell_;
  std::thread thread_;

  mutable std::mutex mutex_;  ///< guards everything below
  std::condition_variable changed_;
  std::string public_address_;  ///< written once before start() returns, read without the mutex after
  std::string tunnel_id_;
  bool registered_ = false;
  bool shutdown_requested_ = false;
  bool ended_on_its_own_ = false;
  std::optional<core::supervisor::Exit> exit_;
  std::string exit_why_;
  bool finished_ = false;  ///< the thread left io_context::run(); final_* hold the last snapshots
  std::string final_metrics_;
  std::string final_status_;

  std::mutex shutdown_mutex_;  ///< one shutdown() at a time joins the thread
};

}  // namespace warren::embed
