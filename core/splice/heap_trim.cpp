#include "core/splice/heap_trim.hpp"

#include <atomic>
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

HeapTrimTicket::HeapTrimTicket() {
  std::lock_guard lock(policy_mutex);
  policy.opened();
}

HeapTrimTicket::~HeapTrimTicket() {
  bool trim = false;
  {
    std::lock_guard lock(policy_mutex);
    trim = policy.closed();
  }
  if (trim) trim_heap();
}

std::size_t heap_trims() { return trims.load(); }

}  // namespace warren::core
