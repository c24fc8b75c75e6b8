#include "live_connections.hpp"

#include "quic_connection.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>

#include <memory>
#include <vector>

namespace warren::quic {

LiveConnections& LiveConnections::of(const boost::asio::any_io_executor& executor) {
  auto& context = boost::asio::query(executor, boost::asio::execution::context);
  return boost::asio::use_service<LiveConnections>(context);
}

void LiveConnections::shutdown() {
  std::vector<std::shared_ptr<QuicConnection>> held;
  held.reserve(live_.size());
  for (auto* connection : live_)
    if (auto keep = connection->weak_from_this().lock()) held.push_back(std::move(keep));  // else being destroyed
  for (auto& connection : held) connection->drop_handlers();
  held.clear();  // a connection whose owners were those handlers ends here
}

}  // namespace warren::quic
