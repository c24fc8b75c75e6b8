#include "discovery/dns-srv/dns_srv_discovery.hpp"

#include "discovery/dns-srv/dns_replies.hpp"

#include <boost/asio/post.hpp>

#include <stdexcept>

namespace warren::dns_srv {

namespace asio = boost::asio;

namespace {

constexpr int kTypeA = 1;
constexpr int kTypeAaaa = 28;
constexpr int kTypeSrv = 33;

/// One host's A and/or AAAA lookups, merged into a TargetLookup.
struct HostLookup {
  TargetLookup result;
  int pending = 0;
  std::vector<boost::asio::ip::address> v4, v6;
  std::optional<sdk::Duration> ttl;
  std::vector<std::string> negative, unasked;  ///< "A: NXDOMAIN", "AAAA: timeout"
  std::function<void(TargetLookup)> done;

  void add(int type, int status, const Bytes& reply) {
    const char* family = type == kTypeA ? "A" : "AAAA";
    if (status == 0 /* ARES_SUCCESS */) {
      auto parsed = parse_address_reply(reply, type);
      status = parsed.status;
      if (status == 0) {
        auto& list = type == kTypeA ? v4 : v6;
        list.insert(list.end(), parsed.addresses.begin(), parsed.addresses.end());
        ttl = std::min(ttl.value_or(parsed.ttl), parsed.ttl);
      }
    }
    if (status != 0) (is_negative_answer(status) ? negative : unasked).push_back(family + (": " + status_text(status)));
    if (--pending == 0) finish();
  }

  void finish() {
    auto join = [](const std::vector<std::string>& items) {
      std::string out;
      for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
      return out;
    };
    result.addresses = v4;  // IPv4 first: it works on more paths
    result.addresses.insert(result.addresses.end(), v6.begin(), v6.end());
    if (!result.addresses.empty()) {
      result.outcome = Outcome::answered;
      result.ttl = ttl.value_or(sdk::Duration::zero());
    } else if (!unasked.empty()) {
      result.outcome = Outcome::could_not_ask;
      result.detail = join(unasked);
    } else {
      result.outcome = Outcome::no_records;
      result.detail = "no address record: " + join(negative);
    }
    done(std::move(result));
  }
};

}  // namespace

struct DnsSrvDiscovery::State : std::enable_shared_from_this<State> {
  State(const DnsSrvConfig& c, sdk::PluginContext& context, std::shared_ptr<CaresChannel> ch,
        std::unique_ptr<sdk::RandomSource> r, std::vector<sdk::Endpoint> fallback_list)
      : config(c),
        executor(context.executor),
        logger(context.logger),
        channel(std::move(ch)),
        random(std::move(r)),
        fallback(std::move(fallback_list)),
        engine(config.name, config.limits(), channel->servers(), !fallback.empty()) {}

  DnsSrvConfig config;
  asio::any_io_executor executor;
  sdk::Logger& logger;
  std::shared_ptr<CaresChannel> channel;
  std::unique_ptr<sdk::RandomSource> random;
  std::vector<sdk::Endpoint> fallback;
  SrvDiscoveryEngine engine;
  std::vector<sdk::ResolveHandler> waiters;
  bool running = false;
  std::string last_failure;  ///< why the last round failed; "" after a success
  std::size_t pending_names = 0;

  /// Calls `then(this)` from a c-ares callback, if the discovery still lives.
  template <typename F>
  auto guarded(F then) {
    return [self = weak_from_this(), then = std::move(then)](auto&&... args) mutable {
      if (auto state = self.lock()) then(*state, std::forward<decltype(args)>(args)...);
    };
  }

  void start_round() {
    running = true;
    auto names = engine.names_to_look_up(sdk::Clock::now());
    pending_names = names.size();
    if (names.empty()) return finish_round();
    for (auto index : names) {
      channel->query(engine.name(index), kTypeSrv,
                     guarded([index](State& s, int status, Bytes reply) { s.srv_answered(index, status, reply); }));
    }
  }

  void srv_answered(std::size_t index, int status, const Bytes& reply) {
    NameLookup lookup;
    SrvReply parsed;
    if (status == 0) {
      parsed = parse_srv_reply(reply);
      status = parsed.status;
    }
    if (status != 0) {
      lookup.outcome = is_negative_answer(status) ? Outcome::no_records : Outcome::could_not_ask;
      lookup.detail = status_text(status);
      return name_done(index, std::move(lookup));
    }
    if (parsed.only_dot_targets) {
      lookup.outcome = Outcome::no_records;
      lookup.detail = "target \".\": the service is not offered under this name";
      return name_done(index, std::move(lookup));
    }
    lookup.srv_ttl = parsed.ttl;
    auto shared = std::make_shared<NameLookup>(std::move(lookup));
    auto left = std::make_shared<std::size_t>(parsed.records.size());
    for (auto& record : parsed.records) {
      resolve_host(std::move(record), [this, index, shared, left](TargetLookup target) {
        shared->targets.push_back(std::move(target));
        if (--*left == 0) name_done(index, std::move(*shared));
      });
    }
  }

  /// A/AAAA for `record.target` per ip_version; an IP literal needs no query.
  void resolve_host(SrvRecord record, std::function<void(TargetLookup)> done) {
    auto host = std::make_shared<HostLookup>();
    host->result.srv = std::move(record);
    host->done = std::move(done);
    boost::system::error_code ec;
    auto literal = asio::ip::make_address(host->result.srv.target, ec);
    if (!ec) {
      host->pending = 1;
      (literal.is_v4() ? host->v4 : host->v6).push_back(literal);
      host->ttl = config.max_ttl;
      return asio::post(executor, guarded([host](State&) { host->finish(); }));
    }
    std::vector<int> types;
    if (config.ip_version != IpVersion::v6) types.push_back(kTypeA);
    if (config.ip_version != IpVersion::v4) types.push_back(kTypeAaaa);
    host->pending = static_cast<int>(types.size());
    for (int type : types) {
      channel->query(host->result.srv.target, type,
                     guarded([host, type](State&, int status, Bytes reply) { host->add(type, status, reply); }));
    }
  }

  void name_done(std::size_t index, NameLookup lookup) {
    engine.handle_lookup(index, std::move(lookup), sdk::Clock::now());
    if (--pending_names == 0) finish_round();
  }

  void finish_round() {
    auto result = engine.result(sdk::Clock::now(), *random);
    if (!result.use_fallback) return deliver(std::move(result));
    auto collected = std::make_shared<std::vector<TargetLookup>>(fallback.size());
    auto left = std::make_shared<std::size_t>(fallback.size());
    auto dns = std::make_shared<ResolveResult>(std::move(result));
    for (std::size_t i = 0; i < fallback.size(); ++i) {
      // Priority = the list's order; weights do not apply.
      SrvRecord record{fallback[i].host, fallback[i].port, static_cast<std::uint16_t>(i), 0};
      resolve_host(record, [this, i, collected, left, dns](TargetLookup found) {
        (*collected)[i] = std::move(found);
        if (--*left == 0) deliver(engine.fallback_result(*dns, *collected));
      });
    }
  }

  void deliver(ResolveResult result) {
    for (auto& line : engine.take_log()) logger.log(line.level, line.text);
    if (result.error) logger.log(sdk::LogLevel::debug, "resolve failed: " + result.why);
    last_failure = result.error ? result.why : std::string();
    running = false;
    std::vector<sdk::ResolveHandler> ready;
    ready.swap(waiters);
    for (auto& handler : ready) {
      asio::post(executor, [h = std::move(handler), ec = result.error, edges = result.edges]() mutable {
        std::move(h)(ec, std::move(edges));
      });
    }
  }
};

DnsSrvDiscovery::DnsSrvDiscovery(const DnsSrvConfig& config, sdk::PluginContext& context,
                                 std::unique_ptr<sdk::RandomSource> random) {
  CaresChannel::Options options;
  for (const auto& text : config.resolvers) options.servers.push_back(*parse_resolver(text, nullptr));
  options.timeout = config.timeout;
  options.attempts = static_cast<int>(config.attempts);
  std::string error;
  auto channel = CaresChannel::create(context.executor, options, error);
  if (!channel) throw std::runtime_error(error);
  std::vector<sdk::Endpoint> fallback;
  for (const auto& text : config.fallback) fallback.push_back(*sdk::parse_endpoint(text));
  state_ = std::make_shared<State>(config, context, std::move(channel), std::move(random), std::move(fallback));
}

DnsSrvDiscovery::~DnsSrvDiscovery() { state_->channel->shutdown(); }

std::string DnsSrvDiscovery::last_failure() const { return state_->last_failure; }

void DnsSrvDiscovery::async_resolve_impl(sdk::ResolveHandler handler) {
  state_->waiters.push_back(std::move(handler));
  if (!state_->running) state_->start_round();
}

}  // namespace warren::dns_srv
