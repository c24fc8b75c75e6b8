#pragma once
// Tells a service manager (systemd, Type=notify) how the process is doing,
// through libsystemd's sd_notify: READY=1 once it serves, STATUS= lines a
// person reads in `systemctl status`, STOPPING=1 when it shuts down, and
// WATCHDOG=1 pings when the unit sets WatchdogSec=.
//
// Every call is a no-op when NOTIFY_SOCKET is unset (not run by systemd) or
// when warren was built without libsystemd (service_notify_built_in()).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace warren::core {

/// True when built with libsystemd; false: every ServiceNotifier call does nothing.
bool service_notify_built_in();

class ServiceNotifier {
 public:
  /// Starts watchdog pings on `io` (every half of WATCHDOG_USEC) when the
  /// service manager asks for them (sd_watchdog_enabled). `io` must outlive
  /// this object; the pings stop with it or when `io` stops.
  explicit ServiceNotifier(boost::asio::io_context& io);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  /// READY=1 with STATUS=`status`. Only the first call sends READY=1; later
  /// ones send the status alone.
  void ready(std::string_view status);
  /// STATUS=`text` (one line; newlines are replaced by spaces).
  void status(std::string_view text);
  /// STOPPING=1 with STATUS=`status`, once.
  void stopping(std::string_view status);

  bool is_ready() const { return ready_; }
  /// The watchdog ping period (half of WATCHDOG_USEC), zero when off.
  std::chrono::microseconds watchdog_period() const { return period_; }

 private:
  void send(const std::string& state);
  void ping();

  boost::asio::steady_timer timer_;
  std::chrono::microseconds period_{0};
  bool ready_ = false;
  bool stopping_ = false;
};

}  // namespace warren::core
