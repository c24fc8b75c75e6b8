#include "core/splice/heap_trim.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace warren::core {
namespace {

std::mutex policy_mutex;
HeapTrimPolicy policy;  // guarded by policy_mutex
std::atomic<std::size_t> trims{0};

void trim_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  ++trims;
}

}  // namespace

HeapTrimTicket::HeapTrimTicket(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {
  std::lock_guard lock(policy_mutex);
  policy.opened();
}

HeapTrimTicket::~HeapTrimTicket() {
  bool trim = false, settle = false;
  {
    std::lock_guard lock(policy_mutex);
    trim = policy.closed();
    settle = policy.settle_due();
  }
  if (trim) trim_heap();
  if (settle && executor_) {
    // The timer owns itself through its handler; an executor that shuts
    // down first destroys the handler unrun, which is fine.
    auto timer = std::make_shared<boost::asio::steady_timer>(executor_, settle_delay);
    timer->async_wait([timer](const boost::system::error_code& ec) {
      if (!ec) trim_heap();
    });
  }
}

std::size_t heap_trims() { return trims.load(); }

}  // namespace warren::core
