#include "core/service/service_notify.hpp"

#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#if WARREN_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace warren::core {

bool service_notify_built_in() { return WARREN_HAVE_SYSTEMD != 0; }

namespace {

std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

}  // namespace

ServiceNotifier::ServiceNotifier(boost::asio::io_context& io) : timer_(io) {
#if WARREN_HAVE_SYSTEMD
  std::uint64_t usec = 0;
  // 0: keep WATCHDOG_USEC/WATCHDOG_PID in the environment (a reload re-reads nothing).
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    period_ = std::chrono::microseconds(usec / 2);
    log().debug("systemd watchdog: pinging every {} ms", period_.count() / 1000);
    ping();
  }
#endif
}

ServiceNotifier::~ServiceNotifier() { timer_.cancel(); }

void ServiceNotifier::send(const std::string& state) {
#if WARREN_HAVE_SYSTEMD
  // A failed notification (socket gone) must not stop the service: said at debug.
  if (int r = sd_notify(0, state.c_str()); r < 0) log().debug("sd_notify failed: {}", std::strerror(-r));
#else
  (void)state;
#endif
}

void ServiceNotifier::ready(std::string_view status) {
  if (stopping_) return;
  send(std::string(ready_ ? "" : "READY=1\n") + "STATUS=" + one_line(status));
  ready_ = true;
}

void ServiceNotifier::status(std::string_view text) {
  if (stopping_) return;
  send("STATUS=" + one_line(text));
}

void ServiceNotifier::stopping(std::string_view status) {
  if (stopping_) return;
  stopping_ = true;
  send("STOPPING=1\nSTATUS=" + one_line(status));
}

// From the io_context, so a loop that hangs stops the pings and systemd
// restarts the service (Restart=on-watchdog / on-failure).
void ServiceNotifier::ping() {
  send("WATCHDOG=1");
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ping();
  });
}

}  // namespace warren::core
