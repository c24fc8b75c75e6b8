#pragma once
// Completing a stored handler, for transport authors. The SDK's async
// contract (byte_stream.hpp, transport.hpp):
//  - a completion never runs inside the call that started it, nor inside a
//    protocol library's callback (ngtcp2, nghttp2, GnuTLS): every completion
//    goes through post on the plugin's executor;
//  - it runs on the handler's own associated executor (bind_executor);
//  - a plugin runs on one thread, the loop's, and needs no locks: every
//    call into a plugin object comes from that thread.
//
// Not boost::asio::append: in Boost 1.81 posting append(any_completion_handler)
// re-wraps the handler in itself without end (infinite recursion).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <type_traits>
#include <utility>

namespace warren::sdk {

/// Posts `handler(args...)` to `executor`, to run on the handler's
/// associated executor. The handler is moved from; `args` are copied or
/// moved into the posted function.
template <typename Handler, typename... Args>
void complete_later(const boost::asio::any_io_executor& executor, Handler&& handler, Args&&... args) {
  static_assert(!std::is_lvalue_reference_v<Handler>, "pass the handler as an rvalue: it is moved from");
  auto target = boost::asio::get_associated_executor(handler, executor);
  boost::asio::post(executor, boost::asio::bind_executor(
                                  target, [h = std::move(handler), ... a = std::forward<Args>(args)]() mutable {
                                    std::move(h)(std::move(a)...);
                                  }));
}

/// Stores `handler` into the empty slot `target`. Never `target = std::move(h)`
/// for an any_completion_handler: Boost 1.81's move assignment copies from
/// an lvalue through the wrapping constructor and recurses until the stack
/// overflows (fixed in 1.82).
template <typename Handler>
void store_handler(Handler& target, Handler&& handler) {
  Handler moved(std::move(handler));
  target.swap(moved);
}

/// Completes `handler` (posted, as complete_later) if one is stored,
/// leaving the slot empty.
template <typename Handler, typename... Args>
void complete_if_pending(const boost::asio::any_io_executor& executor, Handler& handler, Args&&... args) {
  if (!handler) return;
  Handler taken = std::move(handler);
  handler = nullptr;
  complete_later(executor, std::move(taken), std::forward<Args>(args)...);
}

}  // namespace warren::sdk
