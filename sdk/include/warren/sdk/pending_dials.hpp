#pragma once
// What every transport's async_dial does around its own handshake, for
// transport authors: refuse a dial that cannot verify the edge, warn once
// about insecure, keep connections that are still in their handshake so
// that destroying the transport aborts them, and complete the dial's
// handler (later, never inside the call) with a ConnectionHandle.

#include <warren/sdk/completion.hpp>
#include <warren/sdk/engine_handles.hpp>
#include <warren/sdk/log.hpp>
#include <warren/sdk/transport.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace warren::sdk {

/// Checks `options.verify` before a dial. Returns "" to go on, or why the
/// dial is refused (the transport completes it with errc::config_invalid).
/// `warned_insecure` is the transport's own flag: the insecure warning is
/// logged at the first insecure dial only, not at every reconnect.
inline std::string check_edge_verification(const DialOptions& options, const std::string& target, Logger& logger,
                                           bool& warned_insecure) {
  const auto& verify = options.verify;
  if (!verify.insecure && verify.accepted_pins().empty() && verify.ca_file.empty())
    return "no way to verify the edge (give a pin, a CA file, or insecure)";
  if (verify.insecure && !warned_insecure) {
    warned_insecure = true;
    logger.warn("insecure: dialing " + target +
                " WITHOUT verifying its certificate, here and at every later dial; anyone on the path can "
                "impersonate the edge");
  }
  return {};
}

/// The transport's dials still in their handshake. Held by std::shared_ptr
/// in the transport; each dial's callback holds it weakly, so a callback
/// that fires after the transport is gone is harmless.
template <typename Engine>
class PendingDials : public std::enable_shared_from_this<PendingDials<Engine>> {
 public:
  using Ready = std::function<void(const error_code&)>;

  /// Registers `engine` as dialing and returns the callback its handshake
  /// must call exactly once: success completes `handler` with a
  /// ConnectionHandle<Engine> (destroyed with `destroy_reason`, see there),
  /// an error with that error and no connection. An engine gone before its
  /// success completes the handler with operation_aborted.
  Ready track(const std::shared_ptr<Engine>& engine, const boost::asio::any_io_executor& executor,
              ConnectionHandler handler, error_code destroy_reason = {}) {
    Engine* key = engine.get();
    dialing_.emplace(key, engine);
    // std::function needs a copyable callable; the handler is move-only.
    auto shared_handler = std::make_shared<ConnectionHandler>(std::move(handler));
    return [registry = this->weak_from_this(), key, weak = std::weak_ptr<Engine>(engine), shared_handler, executor,
            destroy_reason](const error_code& result) {
      if (auto dials = registry.lock()) dials->dialing_.erase(key);
      auto established = weak.lock();
      if (!result && established) {
        complete_later(
            executor, std::move(*shared_handler), result,
            ConnectionPtr(std::make_unique<ConnectionHandle<Engine>>(std::move(established), destroy_reason)));
      } else {
        complete_later(executor, std::move(*shared_handler),
                       result ? result : error_code(boost::asio::error::operation_aborted), ConnectionPtr());
      }
    };
  }

  /// Closes every connection still dialing with operation_aborted (their
  /// dials complete with it); for the transport's destructor.
  void abort_all() {
    auto dialing = std::move(dialing_);
    dialing_.clear();
    for (auto& [key, weak] : dialing)
      if (auto engine = weak.lock()) engine->close(boost::asio::error::operation_aborted);
  }

 private:
  std::unordered_map<Engine*, std::weak_ptr<Engine>> dialing_;
};

}  // namespace warren::sdk
