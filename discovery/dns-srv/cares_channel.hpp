#pragma once
// A c-ares channel run by the process's Asio loop: c-ares reports the
// sockets it wants watched (ARES_OPT_SOCK_STATE_CB), Asio waits on them
// (posix::stream_descriptor::async_wait, never owning the fd) and a
// steady_timer follows ares_timeout(). No blocking call, no extra thread.
//
// Lifetime: make it with create() and keep the shared_ptr; waits hold only a
// weak_ptr. shutdown() (also run by the destructor) destroys the channel:
// queries still pending are dropped without their callbacks.

#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/time.hpp>

#include <ares.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace warren::dns_srv {

class CaresChannel : public std::enable_shared_from_this<CaresChannel> {
 public:
  struct Options {
    std::vector<sdk::Endpoint> servers;  ///< IP literals; empty: c-ares reads /etc/resolv.conf
    sdk::Duration timeout = std::chrono::seconds(2);
    int attempts = 2;
  };
  /// `status` is an ARES_* code; `answer` the raw reply (empty unless ARES_SUCCESS).
  using QueryCallback = std::function<void(int status, std::vector<unsigned char> answer)>;

  /// A running channel, or null with `error` saying why (c-ares init failed).
  static std::shared_ptr<CaresChannel> create(const boost::asio::any_io_executor& executor, const Options& options,
                                              std::string& error);
  ~CaresChannel();
  CaresChannel(const CaresChannel&) = delete;
  CaresChannel& operator=(const CaresChannel&) = delete;

  /// Asks for `name`'s records of `type` (ns_t_srv, ns_t_a, ns_t_aaaa) in
  /// class IN; `done` runs once, on the loop, never from inside query().
  void query(const std::string& name, int type, QueryCallback done);
  /// The servers in use, "127.0.0.1:5353, [::1]:53", for messages.
  const std::string& servers() const { return servers_text_; }
  void shutdown();

 private:
  struct Watch {
    std::unique_ptr<boost::asio::posix::stream_descriptor> descriptor;
    std::uint64_t generation = 0;  ///< tells a reused fd number from the socket it replaced
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
  };

  explicit CaresChannel(const boost::asio::any_io_executor& executor);
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_query_done(void* arg, int status, int timeouts, unsigned char* answer, int length);
  void socket_state(ares_socket_t fd, bool readable, bool writable);
  void arm(ares_socket_t fd);
  void ready(ares_socket_t fd, std::uint64_t generation, bool write, const boost::system::error_code& ec);
  void rearm_timer();

  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer timer_;
  ares_channel channel_ = nullptr;
  std::map<ares_socket_t, Watch> watches_;
  std::uint64_t next_generation_ = 0;
  std::string servers_text_;
};

}  // namespace warren::dns_srv
