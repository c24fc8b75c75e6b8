#pragma once
// One leg's live connection at the connector: its control stream and the
// data streams the edge opens on it, each delivered to the backend.

#include "core/protocol/messages.hpp"
#include "core/runtime/control_channel.hpp"
#include "core/runtime/stream_splice.hpp"

#include <warren/sdk/backend.hpp>
#include <warren/sdk/transport.hpp>

#include <functional>
#include <memory>

namespace warren::core {

/// What a leg reports to the shell; every callback carries the leg's index.
struct LegEvents {
  std::function<void(const protocol::Registered&)> registered;
  std::function<void(const protocol::Rejected&)> rejected;
  std::function<void(std::uint64_t sequence)> heartbeat_ack;
  std::function<void(sdk::error_code)> lost;
};

class LegLink : public std::enable_shared_from_this<LegLink> {
 public:
  LegLink(unsigned index, sdk::ConnectionPtr connection, sdk::Backend& backend, SpliceTracker& splices,
          LegEvents events);

  /// Opens the control stream and sends `request`; reports registered or rejected.
  void register_with(const protocol::RegisterConnection& request);
  void send_heartbeat(std::uint64_t sequence);
  void send_unregister(sdk::Duration grace);
  /// New data streams are reset from now on; open ones go on.
  void stop_accepting_streams() { accepting_ = false; }
  /// Closes the connection; no callback runs after this.
  void close(sdk::error_code reason);

 private:
  void read_control();
  void on_control(sdk::error_code ec, protocol::ControlMessage message);
  void accept_streams();
  void deliver(sdk::ByteStreamPtr stream);
  void report_lost(sdk::error_code ec);

  unsigned index_;
  sdk::ConnectionPtr connection_;
  sdk::Backend& backend_;
  SpliceTracker& splices_;
  LegEvents events_;
  std::shared_ptr<ControlChannel> control_;
  bool registered_ = false;
  bool accepting_ = true;
  bool closed_ = false;
};

}  // namespace warren::core
