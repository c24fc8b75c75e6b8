#include "core/cli/descriptor_limit.hpp"

#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <sys/resource.h>

namespace warren::cli {

void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  auto before = limit.rlim_cur;
  if (limit.rlim_cur == limit.rlim_max) {
    core::log().debug("open-file limit {}", before);
    return;
  }
  // An unlimited hard limit still stops at fs.nr_open (1 Mi by default).
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    core::log().warn("cannot raise the open-file limit from {}: {}", before, std::strerror(errno));
    return;
  }
  core::log().info("open-file limit raised from {} to {}", before, limit.rlim_cur);
}

}  // namespace warren::cli
