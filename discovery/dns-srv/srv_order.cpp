#include "discovery/dns-srv/srv_order.hpp"

#include <algorithm>
#include <numeric>

namespace warren::dns_srv {
namespace {

using Order = std::vector<std::size_t>;

/// RFC 2782's selection among one priority's records, in place: repeatedly
/// draw a number in [0, sum of the weights left] and take the first record
/// whose running sum reaches it.
void order_one_priority(const std::vector<SrvRecord>& records, Order::iterator first, Order::iterator last,
                        sdk::RandomSource& random) {
  // "All those with weight 0 are placed at the beginning of the list."
  std::stable_partition(first, last, [&](std::size_t i) { return records[i].weight == 0; });
  for (auto next = first; last - next > 1; ++next) {
    std::uint64_t sum = 0;
    for (auto it = next; it != last; ++it) sum += records[*it].weight;
    // Uniform in [0, sum]: scale a 53-bit fraction so every value is reachable.
    auto pick = static_cast<std::uint64_t>(random.uniform01() * static_cast<double>(sum + 1));
    pick = std::min(pick, sum);
    std::uint64_t running = 0;
    auto chosen = next;
    for (auto it = next; it != last; ++it) {
      running += records[*it].weight;
      if (running >= pick) {
        chosen = it;
        break;
      }
    }
    std::rotate(next, chosen, chosen + 1);  // the chosen record moves to `next`; the rest keep their order
  }
}

}  // namespace

std::vector<std::size_t> rfc2782_order(const std::vector<SrvRecord>& records, sdk::RandomSource& random) {
  Order order(records.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return records[a].priority < records[b].priority; });
  for (auto first = order.begin(); first != order.end();) {
    auto priority = records[*first].priority;
    auto last = std::find_if(first, order.end(), [&](std::size_t i) { return records[i].priority != priority; });
    order_one_priority(records, first, last, random);
    first = last;
  }
  return order;
}

}  // namespace warren::dns_srv
