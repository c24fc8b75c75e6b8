#include "core/log/drop_warnings.hpp"

namespace warren::core {

std::vector<DropNews> DropWarnings::update(sdk::TimePoint now, std::span<const DropTotal> totals) {
  std::vector<DropNews> news;
  for (const auto& [reason, total] : totals) {
    auto it = said_.find(reason);
    if (it == said_.end()) it = said_.emplace(std::string(reason), Said{0, since_, false, since_}).first;
    auto& said = it->second;
    if (total < said.total) said.total = total;  // a count that went back (never should): start from it
    if (total == said.total) {
      said.quiet_at = now;
      continue;
    }
    if (said.ever && now - said.at < every) continue;  // held back: the next line counts them
    news.push_back(DropNews{std::string(reason), total - said.total, now - said.quiet_at});
    said = Said{total, now, true, now};
  }
  return news;
}

std::string drop_line(const DropNews& news, std::string_view advice) {
  auto line = std::to_string(news.dropped) + (news.dropped == 1 ? " datagram" : " datagrams") +
              " dropped in the last " + sdk::human_duration(news.over) + " (" + news.reason + ")";
  if (!advice.empty()) line += ": " + std::string(advice);
  return line;
}

}  // namespace warren::core
