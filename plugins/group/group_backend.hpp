#pragma once
// The `group` backend: each tunnelled stream goes to one healthy target of
// several TCP services. A TargetPool (sans-io) decides; this Asio shell runs
// its probes, connects, and tells it what happened. A connect that fails is
// a passive failure and is retried once on another available target within
// the same connect_timeout, so a target that died but is not yet detected
// costs no stream while another is healthy. With no target available the
// stream is refused at once (errc::backend_refused): the public client gets
// a reset, never a hang.

#include "plugins/group/group_config.hpp"
#include "plugins/group/health_probe.hpp"
#include "plugins/group/target_pool.hpp"

#include <warren/sdk/backend.hpp>
#include <warren/sdk/plugin_object.hpp>
#include <warren/sdk/random.hpp>

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace warren::group {

/// What the backend's async work shares; probes, connects and open streams
/// hold it, so it outlives the GroupBackend when they do. One thread: the
/// plugin's executor.
class GroupShell : public std::enable_shared_from_this<GroupShell> {
 public:
  using Handler = boost::asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)>;

  GroupShell(GroupConfig config, sdk::PluginContext& context);
  /// Starts the probes.
  void start();
  /// No more probes; the timer stops. Streams already open go on.
  void stop();
  void connect(Handler handler);
  /// A stream given out for `target` ended.
  void closed(std::size_t target);

 private:
  void attempt(std::size_t target, sdk::TimePoint deadline, bool retried, Handler handler);
  void drive();
  void probe(std::size_t target);
  void target_down(const TargetDown& down, sdk::TimePoint now);
  void target_up(const TargetUp& up, sdk::TimePoint now);

  GroupConfig config_;
  ProbeSpec probe_spec_;
  sdk::Logger& logger_;
  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer timer_;
  sdk::SeededRandom random_;
  TargetPool pool_;
  std::vector<std::string> last_probe_;  ///< per target: why its last probe ended as it did
  std::vector<std::string> last_connect_;                  ///< per target: why its last stream connect failed
  std::vector<std::optional<sdk::TimePoint>> down_since_;  ///< per target: when it went down, while it is
  bool stopped_ = false;
  bool refusing_ = false;  ///< the last stream found no target (logged once)
};

class GroupBackend final : public sdk::Backend {
 public:
  GroupBackend(GroupConfig config, sdk::PluginContext& context);
  ~GroupBackend() override;

 private:
  void async_connect_impl(sdk::StreamInfo info,
                          boost::asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler)
      override;

  std::shared_ptr<GroupShell> shell_;
};

}  // namespace warren::group
