#include "discovery/dns-srv/cares_channel.hpp"

#include <boost/asio/post.hpp>

#include <arpa/inet.h>

namespace warren::dns_srv {

namespace asio = boost::asio;

namespace {

/// c-ares needs one library init per process (a no-op on Linux since 1.11,
/// but documented as required); it is reference-counted.
struct LibraryInit {
  int status = ares_library_init(ARES_LIB_INIT_ALL);
  ~LibraryInit() {
    if (status == ARES_SUCCESS) ares_library_cleanup();
  }
};

struct PendingQuery {
  std::weak_ptr<CaresChannel> channel;
  asio::any_io_executor executor;
  CaresChannel::QueryCallback done;
};

std::string describe_servers(ares_channel channel) {
  ares_addr_port_node* list = nullptr;
  if (ares_get_servers_ports(channel, &list) != ARES_SUCCESS) return "the system's resolvers";
  std::string out;
  for (auto* n = list; n; n = n->next) {
    char text[INET6_ADDRSTRLEN] = {};
    ares_inet_ntop(n->family, &n->addr, text, sizeof text);
    out += (out.empty() ? "" : ", ") +
           sdk::format_host_port(text, static_cast<std::uint16_t>(n->udp_port ? n->udp_port : 53));
  }
  ares_free_data(list);
  return out.empty() ? "none (no nameserver configured)" : out;
}

}  // namespace

CaresChannel::CaresChannel(const asio::any_io_executor& executor) : executor_(executor), timer_(executor) {}

std::shared_ptr<CaresChannel> CaresChannel::create(const asio::any_io_executor& executor, const Options& options,
                                                   std::string& error) {
  static LibraryInit library;
  if (library.status != ARES_SUCCESS) {
    error = std::string("c-ares library init: ") + ares_strerror(library.status);
    return nullptr;
  }
  std::shared_ptr<CaresChannel> self(new CaresChannel(executor));
  ares_options opts{};
  opts.timeout = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout).count());
  opts.tries = options.attempts;
  opts.sock_state_cb = &CaresChannel::on_socket_state;
  opts.sock_state_cb_data = self.get();
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (int status = ares_init_options(&self->channel_, &opts, mask); status != ARES_SUCCESS) {
    error = std::string("c-ares init: ") + ares_strerror(status);
    self->channel_ = nullptr;
    return nullptr;
  }
  if (!options.servers.empty()) {
    std::vector<ares_addr_port_node> nodes(options.servers.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const auto& server = options.servers[i];
      auto& node = nodes[i];
      node.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
      bool v6 = server.host.find(':') != std::string::npos;
      node.family = v6 ? AF_INET6 : AF_INET;
      if (ares_inet_pton(node.family, server.host.c_str(), &node.addr) != 1) {
        error = "resolver \"" + server.host + "\" is not an IP address";
        return nullptr;
      }
      node.udp_port = node.tcp_port = server.port;
    }
    if (int status = ares_set_servers_ports(self->channel_, nodes.data()); status != ARES_SUCCESS) {
      error = std::string("c-ares servers: ") + ares_strerror(status);
      return nullptr;
    }
  }
  self->servers_text_ = describe_servers(self->channel_);
  if (options.servers.empty()) self->servers_text_ += " (from /etc/resolv.conf)";
  return self;
}

CaresChannel::~CaresChannel() { shutdown(); }

void CaresChannel::shutdown() {
  if (channel_) {
    ares_channel channel = channel_;
    channel_ = nullptr;
    ares_destroy(channel);  // pending queries end with ARES_EDESTRUCTION, dropped below
  }
  for (auto& [fd, watch] : watches_) watch.descriptor->release();  // c-ares owns and closes its sockets
  watches_.clear();
  timer_.cancel();
}

void CaresChannel::query(const std::string& name, int type, QueryCallback done) {
  if (!channel_) return;
  auto* pending = new PendingQuery{weak_from_this(), executor_, std::move(done)};
  ares_query(channel_, name.c_str(), 1 /* ns_c_in */, type, &CaresChannel::on_query_done, pending);
  rearm_timer();
}

void CaresChannel::on_query_done(void* arg, int status, int, unsigned char* answer, int length) {
  std::unique_ptr<PendingQuery> pending(static_cast<PendingQuery*>(arg));
  if (status == ARES_EDESTRUCTION) return;
  std::vector<unsigned char> copy;
  if (status == ARES_SUCCESS && answer && length > 0) copy.assign(answer, answer + length);
  // Posted: c-ares may call back from inside ares_query or ares_process_fd.
  asio::post(pending->executor, [done = std::move(pending->done), status, copy = std::move(copy)]() mutable {
    done(status, std::move(copy));
  });
}

void CaresChannel::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<CaresChannel*>(data)->socket_state(fd, readable != 0, writable != 0);
}

void CaresChannel::socket_state(ares_socket_t fd, bool readable, bool writable) {
  auto it = watches_.find(fd);
  if (!readable && !writable) {
    // c-ares is about to close it: stop watching first (release cancels the waits).
    if (it != watches_.end()) {
      it->second.descriptor->release();
      watches_.erase(it);
    }
    return;
  }
  if (it == watches_.end()) {
    Watch watch;
    watch.descriptor = std::make_unique<asio::posix::stream_descriptor>(executor_, fd);
    watch.generation = ++next_generation_;
    it = watches_.emplace(fd, std::move(watch)).first;
  }
  it->second.want_read = readable;
  it->second.want_write = writable;
  arm(fd);
}

void CaresChannel::arm(ares_socket_t fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  Watch& watch = it->second;
  auto self = weak_from_this();
  auto generation = watch.generation;
  if (watch.want_read && !watch.reading) {
    watch.reading = true;
    watch.descriptor->async_wait(asio::posix::descriptor_base::wait_read,
                                 [self, fd, generation](const boost::system::error_code& ec) {
                                   if (auto channel = self.lock()) channel->ready(fd, generation, false, ec);
                                 });
  }
  if (watch.want_write && !watch.writing) {
    watch.writing = true;
    watch.descriptor->async_wait(asio::posix::descriptor_base::wait_write,
                                 [self, fd, generation](const boost::system::error_code& ec) {
                                   if (auto channel = self.lock()) channel->ready(fd, generation, true, ec);
                                 });
  }
}

void CaresChannel::ready(ares_socket_t fd, std::uint64_t generation, bool write, const boost::system::error_code& ec) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second.generation != generation) return;  // released, maybe reused
  (write ? it->second.writing : it->second.reading) = false;
  if (ec || !channel_) return;
  ares_process_fd(channel_, write ? ARES_SOCKET_BAD : fd, write ? fd : ARES_SOCKET_BAD);
  arm(fd);  // if c-ares still wants it (socket_state may have dropped or replaced it)
  rearm_timer();
}

void CaresChannel::rearm_timer() {
  if (!channel_) return;
  timeval tv{};
  if (!ares_timeout(channel_, nullptr, &tv)) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
  timer_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
    auto channel = self.lock();
    if (ec || !channel || !channel->channel_) return;
    ares_process_fd(channel->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // runs c-ares's timeouts
    channel->rearm_timer();
  });
}

}  // namespace warren::dns_srv
