#pragma once
// A plugin's (or a core section's) keys, declared once: each key names the
// Config member it fills, its type, range, choices and doc line; the default
// is the member's own initializer. The same declaration reads and validates
// a table (`read`) and describes the keys (`keys`) for `warren check`,
// `warren plugins --describe` and docs/config.md. Modelled on Envoy's
// FactoryBase<ConfigProto>: parse and validate once, then a typed create().
//
//   struct BackoffConfig { Duration base = 1s; Jitter jitter = Jitter::full; };
//   const ConfigSchema<BackoffConfig>& backoff_schema() {
//     static const auto schema = ConfigSchema<BackoffConfig>("exponential backoff")
//         .duration("base", &BackoffConfig::base, "delay after the first failure", {.min = 1ms})
//         .choice("jitter", &BackoffConfig::jitter, {{"none", Jitter::none}, {"full", Jitter::full}},
//                 "how delays are randomised")
//         .check([](const BackoffConfig& c, const CheckContext& at) { … at.error("base", "…"); });
//     return schema;
//   }
//
// Thread-safety: a schema is immutable once built; read() and keys() are const.

#include <warren/sdk/config_reader.hpp>

#include <algorithm>
#include <concepts>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace warren::sdk {

/// Handed to a schema's cross-key checks: reports an error at a key's
/// location (or the table's, when the key is absent).
class CheckContext {
 public:
  CheckContext(const ConfigTable& table, Diagnostics& diagnostics) : table_(table), diag_(diagnostics) {}
  /// True when the user wrote `key` (rather than taking its default).
  bool has(std::string_view key) const { return table_.find(key) != nullptr; }
  void error(std::string_view key, std::string message) const {
    const ConfigValue* v = table_.find(key);
    diag_.error(v ? v->where : table_.where, std::move(message));
  }
  const ConfigTable& table() const { return table_; }

 private:
  const ConfigTable& table_;
  Diagnostics& diag_;
};

template <typename Config>
class ConfigSchema {
 public:
  /// A rule over several keys, run after every key read cleanly.
  using Check = std::function<void(const Config&, const CheckContext&)>;

  /// `summary`: one line on what the table configures, shown above its keys.
  explicit ConfigSchema(std::string summary = {}) : summary_(std::move(summary)) {}

  const std::string& summary() const { return summary_; }

  ConfigSchema& string(std::string key, std::string Config::*member, std::string doc) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      if (auto v = r.string(k, fallback(req, c.*member), d)) c.*member = std::move(*v);
    }, std::move(doc));
  }
  /// An optional string with no default: the member stays empty when unset.
  ConfigSchema& string(std::string key, std::optional<std::string> Config::*member, std::string doc) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool, Config& c) {
      if (!r.has(k)) return r.declare({k, "string", "", "", false, d});
      if (auto v = r.string(k, std::nullopt, d)) c.*member = std::move(*v);
    }, std::move(doc));
  }
  ConfigSchema& boolean(std::string key, bool Config::*member, std::string doc) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      if (auto v = r.boolean(k, fallback(req, c.*member), d)) c.*member = *v;
    }, std::move(doc));
  }
  /// Any integer member (not bool). The member type's own limits bound
  /// `range` (an open end, or an end past them), so a value never wraps.
  template <std::integral T>
  ConfigSchema& integer(std::string key, T Config::*member, std::string doc, Range<std::int64_t> range = {}) {
    static_assert(!std::same_as<T, bool>, "a bool member is a boolean(), not an integer()");
    if constexpr (std::is_unsigned_v<T> || sizeof(T) < sizeof(std::int64_t)) {
      constexpr std::int64_t lowest =
          std::is_unsigned_v<T> ? 0 : static_cast<std::int64_t>(std::numeric_limits<T>::min());
      range.min = std::max(range.min.value_or(lowest), lowest);
    }
    if constexpr (sizeof(T) < sizeof(std::int64_t)) {
      constexpr std::int64_t highest = static_cast<std::int64_t>(std::numeric_limits<T>::max());
      range.max = std::min(range.max.value_or(highest), highest);
    }
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      auto def = req ? std::nullopt : std::optional<std::int64_t>(static_cast<std::int64_t>(c.*member));
      if (auto v = r.integer(k, def, d, range)) c.*member = static_cast<T>(*v);
    }, std::move(doc));
  }
  ConfigSchema& number(std::string key, double Config::*member, std::string doc, Range<double> range = {}) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      if (auto v = r.number(k, fallback(req, c.*member), d, range)) c.*member = *v;
    }, std::move(doc));
  }
  ConfigSchema& duration(std::string key, Duration Config::*member, std::string doc, Range<Duration> range = {}) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      if (auto v = r.duration(k, fallback(req, c.*member), d, range)) c.*member = *v;
    }, std::move(doc));
  }
  /// One of a fixed set of words, each mapped to a value of `T` (an enum,
  /// usually). The member's initial value must be one of `choices`.
  /// `aliases`: other words people write for a choice, only suggested in
  /// the error ({"datagram", "udp"}: "did you mean 'udp'?").
  template <typename T>
  ConfigSchema& choice(std::string key, T Config::*member, std::vector<std::pair<std::string, T>> choices,
                       std::string doc, std::vector<std::pair<std::string, std::string>> aliases = {}) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      std::vector<std::string> words;
      std::optional<std::string> def;
      for (const auto& [word, value] : choices) {
        words.push_back(word);
        if (!req && value == c.*member) def = word;
      }
      auto v = r.choice(k, words, def, d, aliases);
      if (!v) return;
      for (const auto& [word, value] : choices)
        if (word == *v) c.*member = value;
    }, std::move(doc));
  }
  /// "host:port"; port 0 only if `allow_port_zero`. Usually `.required()`;
  /// otherwise a member left empty (no host) means "unset", not a default.
  ConfigSchema& endpoint(std::string key, Endpoint Config::*member, std::string doc, bool allow_port_zero = false) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      if (!req && (c.*member).host.empty() && !r.has(k)) return r.declare({k, "host:port", "", "", false, d});
      auto def = req || (c.*member).host.empty() ? std::nullopt : std::optional<std::string>((c.*member).to_string());
      if (auto v = r.endpoint(k, def, d, allow_port_zero)) c.*member = std::move(*v);
    }, std::move(doc));
  }
  /// An array of "host:port" strings, in order. Each bad element is reported
  /// at its own location as `<item> "TEXT": why`, and so is an address listed
  /// twice; `item` names one element in those messages ("edge"), by default
  /// "'KEY' entry". An empty array is accepted: add a check if it is not.
  ConfigSchema& endpoint_list(std::string key, std::vector<Endpoint> Config::*member, std::string doc,
                              std::string item = {}) {
    if (item.empty()) item = "'" + key + "' entry";
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      std::vector<std::string> texts;
      for (const auto& e : c.*member) texts.push_back(e.to_string());
      auto v = r.string_list(k, req ? std::nullopt : std::optional(texts), d);
      r.set_last_type("array of host:port");
      if (!v || !r.has(k)) return;
      std::vector<Endpoint> out;
      bool good = true;
      for (const auto& [text, where] : *v) {
        std::string why;
        auto e = parse_endpoint(text, &why);
        if (!e) {
          r.error(where, item + " \"" + text + "\": " + why);
          good = false;
        } else if (std::find(out.begin(), out.end(), *e) != out.end()) {
          r.error(where, item + " \"" + text + "\" is listed twice");
          good = false;
        } else {
          out.push_back(std::move(*e));
        }
      }
      if (good) c.*member = std::move(out);
    }, std::move(doc));
  }
  /// An array of strings; each element's location is kept, for checks that
  /// report one element.
  ConfigSchema& string_list(std::string key, std::vector<std::string> Config::*member, std::string doc) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      auto v = r.string_list(k, fallback(req, c.*member), d);
      if (!v) return;
      (c.*member).clear();
      for (auto& [text, where] : *v) (c.*member).push_back(std::move(text));
    }, std::move(doc));
  }

  /// One string or an array of strings ("a" reads as ["a"]): for a key that
  /// usually holds one value and sometimes several, such as a pin list while
  /// a certificate is being replaced. Absent: `member` keeps its default.
  ConfigSchema& string_or_list(std::string key, std::vector<std::string> Config::*member, std::string doc) {
    return field(std::move(key), [=](ConfigReader& r, const std::string& k, const std::string& d, bool req, Config& c) {
      const ConfigValue* v = r.table().find(k);
      if (v && std::holds_alternative<std::string>(v->value)) {
        if (auto s = r.string(k, std::nullopt, d)) c.*member = {std::move(*s)};
      } else if (auto list = r.string_list(k, fallback(req, c.*member), d)) {
        (c.*member).clear();
        for (auto& [text, where] : *list) (c.*member).push_back(std::move(text));
      }
      r.set_last_type("string or array of strings");
    }, std::move(doc));
  }

  /// Makes the key declared last required: no default, and a table without
  /// it is an error naming the key and its doc line.
  ConfigSchema& required() {
    fields_.back().required = true;
    return *this;
  }
  /// Accepts `key` without reading it: read elsewhere (core takes it out).
  ConfigSchema& allow(std::string key) {
    allowed_.push_back(std::move(key));
    return *this;
  }
  ConfigSchema& check(Check rule) {
    checks_.push_back(std::move(rule));
    return *this;
  }
  /// Every key of `inner` (and its checks), filling `member`: one table read
  /// by two parts of a plugin, each declaring its own keys.
  template <typename Inner>
  ConfigSchema& include(const ConfigSchema<Inner>& inner, Inner Config::*member) {
    for (const auto& f : inner.fields_)
      fields_.push_back({f.key, f.doc, f.required,
                         [read = f.read, member](ConfigReader& r, const std::string& k, const std::string& d, bool req,
                                                 Config& c) { read(r, k, d, req, c.*member); }});
    for (const auto& rule : inner.checks_)
      checks_.push_back([rule, member](const Config& c, const CheckContext& at) { rule(c.*member, at); });
    for (const auto& key : inner.allowed_) allowed_.push_back(key);
    return *this;
  }

  /// Reads `table` into a Config that starts from the defaults. Returns
  /// nullopt after adding diagnostics (unknown keys with a suggestion, wrong
  /// types, out of range, missing required keys, failed checks), each at the
  /// value's file:line:column.
  std::optional<Config> read(const ConfigTable& table, Diagnostics& diagnostics) const {
    Diagnostics local;
    Config config{};
    {
      ConfigReader reader(table, local);
      for (const auto& key : allowed_) reader.allow(key);
      for (const auto& f : fields_) f.read(reader, f.key, f.doc, f.required, config);
      reader.finish();
    }
    if (local.ok()) {
      CheckContext at(table, local);
      for (const auto& rule : checks_) rule(config, at);
    }
    diagnostics.append(local);
    if (!local.ok()) return std::nullopt;
    return config;
  }

  /// Every key, in declaration order, with its default from `Config{}`.
  std::vector<KeySpec> keys() const {
    ConfigTable empty;
    Diagnostics ignored;  // required keys are "missing" here; that is expected
    Config config{};
    ConfigReader reader(empty, ignored);
    reader.allow_rest();
    for (const auto& f : fields_) f.read(reader, f.key, f.doc, f.required, config);
    return reader.specs();
  }

 private:
  template <typename>
  friend class ConfigSchema;

  using Read = std::function<void(ConfigReader&, const std::string& key, const std::string& doc, bool required,
                                  Config&)>;
  struct Field {
    std::string key;
    std::string doc;
    bool required = false;
    Read read;
  };

  template <typename F>
  ConfigSchema& field(std::string key, F read, std::string doc) {
    fields_.push_back({std::move(key), std::move(doc), false, Read(std::move(read))});
    return *this;
  }
  template <typename T>
  static std::optional<T> fallback(bool required, const T& value) {
    return required ? std::nullopt : std::optional<T>(value);
  }

  std::string summary_;
  std::vector<Field> fields_;
  std::vector<std::string> allowed_;
  std::vector<Check> checks_;
};

}  // namespace warren::sdk
