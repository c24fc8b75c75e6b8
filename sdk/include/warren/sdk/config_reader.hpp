#pragma once
// Reads a ConfigTable with types, defaults, ranges and a doc line per key.
// Every problem becomes a Diagnostic at the value's own location; finish()
// reports keys nobody asked for, with a suggestion. Core uses this same
// reader for its own sections, so plugin and core errors look alike.
//
//   ConfigReader r(table, diagnostics);
//   auto base = r.duration("base", 1s, "first retry delay", {.min = 1ms});
//   auto jitter = r.choice("jitter", {"none", "full"}, "full", "how delays are randomised");
//   r.finish();

#include <warren/sdk/config.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/suggest.hpp>
#include <warren/sdk/time.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace warren::sdk {

/// What one key is, as `warren plugins --describe` and docs/config.md show it.
struct KeySpec {
  std::string name;
  std::string type;          ///< "duration", "integer", "one of a, b", "host:port" …
  std::string default_text;  ///< the default as TOML writes it; "" when required or unset
  std::string range;         ///< "1ms to 1h", "at least 1"; "" when unbounded
  bool required = false;
  std::string doc;
};

/// "an integer", "a string", …: a value's type as a message says it.
inline std::string a_type_name(const ConfigValue& value) {
  std::string type = value.type_name();
  return (type.front() == 'a' || type.front() == 'i' ? "an " : "a ") + type;
}

template <typename T>
struct Range {
  std::optional<T> min;
  std::optional<T> max;
};

class ConfigReader {
 public:
  ConfigReader(const ConfigTable& table, Diagnostics& diagnostics) : table_(table), diag_(diagnostics) {}

  const ConfigTable& table() const { return table_; }
  const std::vector<KeySpec>& specs() const { return specs_; }
  /// Accept `key` without reading it (read elsewhere, e.g. by core).
  void allow(std::string key) { known_.push_back(std::move(key)); }
  /// Accept every key not read here: this reader sees only part of the table.
  void allow_rest() { allow_rest_ = true; }

  bool has(std::string_view key) const { return table_.find(key) != nullptr; }
  /// Records a key that is absent and optional with no default (e.g. an
  /// unset `[tunnel] id`): known to finish(), listed by specs().
  void declare(KeySpec spec) { specs_.push_back(std::move(spec)); }
  /// Replaces the type the last read recorded, for a type read as another
  /// ("array of host:port" read as an array of strings).
  void set_last_type(std::string type) { specs_.back().type = std::move(type); }
  /// Reports a problem inside a value (one array element) at its location.
  void error(SourceLocation where, std::string message) { diag_.error(std::move(where), std::move(message)); }

  std::optional<std::string> string(const std::string& key, std::optional<std::string> fallback, std::string doc) {
    note(key, "string", fallback ? "\"" + *fallback + "\"" : "", doc, !fallback);
    const ConfigValue* v = table_.find(key);
    if (!v) return missing(key, std::move(fallback));
    if (auto s = std::get_if<std::string>(&v->value)) return *s;
    wrong_type(key, *v, "a string");
    return std::nullopt;
  }

  std::optional<bool> boolean(const std::string& key, std::optional<bool> fallback, std::string doc) {
    note(key, "boolean", fallback ? (*fallback ? "true" : "false") : "", doc, !fallback);
    const ConfigValue* v = table_.find(key);
    if (!v) return missing(key, fallback);
    if (auto b = std::get_if<bool>(&v->value)) return *b;
    wrong_type(key, *v, "true or false");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(const std::string& key, std::optional<std::int64_t> fallback, std::string doc,
                                      Range<std::int64_t> range = {}) {
    note(key, "integer", fallback ? std::to_string(*fallback) : "", doc, !fallback,
         bounds_text(range.min ? std::to_string(*range.min) : "", range.max ? std::to_string(*range.max) : ""));
    const ConfigValue* v = table_.find(key);
    if (!v) return missing(key, fallback);
    auto i = std::get_if<std::int64_t>(&v->value);
    if (!i) {
      wrong_type(key, *v, "an integer");
      return std::nullopt;
    }
    if ((range.min && *i < *range.min) || (range.max && *i > *range.max)) {
      out_of_range(key, *v, std::to_string(*i), range.min ? std::to_string(*range.min) : "",
                   range.max ? std::to_string(*range.max) : "");
      return std::nullopt;
    }
    return *i;
  }

  std::optional<double> number(const std::string& key, std::optional<double> fallback, std::string doc,
                               Range<double> range = {}) {
    note(key, "number", fallback ? trim(std::to_string(*fallback)) : "", doc, !fallback,
         bounds_text(range.min ? trim(std::to_string(*range.min)) : "",
                     range.max ? trim(std::to_string(*range.max)) : ""));
    const ConfigValue* v = table_.find(key);
    if (!v) return missing(key, fallback);
    double d;
    if (auto f = std::get_if<double>(&v->value)) {
      d = *f;
    } else if (auto i = std::get_if<std::int64_t>(&v->value)) {
      d = static_cast<double>(*i);
    } else {
      wrong_type(key, *v, "a number");
      return std::nullopt;
    }
    if (!std::isfinite(d) || (range.min && d < *range.min) || (range.max && d > *range.max)) {
      out_of_range(key, *v, trim(std::to_string(d)), range.min ? trim(std::to_string(*range.min)) : "",
                   range.max ? trim(std::to_string(*range.max)) : "");
      return std::nullopt;
    }
    return d;
  }

  std::optional<Duration> duration(const std::string& key, std::optional<Duration> fallback, std::string doc,
                                   Range<Duration> range = {}) {
    note(key, "duration", fallback ? "\"" + format_duration(*fallback) + "\"" : "", doc, !fallback,
         bounds_text(range.min ? format_duration(*range.min) : "", range.max ? format_duration(*range.max) : ""));
    const ConfigValue* v = table_.find(key);
    if (!v) return missing(key, fallback);
    auto s = std::get_if<std::string>(&v->value);
    if (!s) {
      wrong_type(key, *v, "a duration string such as \"500ms\" or \"30s\"");
      return std::nullopt;
    }
    auto d = parse_duration(*s);
    if (!d) {
      diag_.error(v->where, "'" + key + "' = \"" + *s +
                                "\" is not a duration; write a number with a unit: \"250ms\", \"30s\", \"5m\"");
      return std::nullopt;
    }
    if ((range.min && *d < *range.min) || (range.max && *d > *range.max)) {
      out_of_range(key, *v, format_duration(*d), range.min ? format_duration(*range.min) : "",
                   range.max ? format_duration(*range.max) : "");
      return std::nullopt;
    }
    return d;
  }

  /// One of a fixed set of strings. `aliases`: other words people write for
  /// a choice ({"datagram", "udp"}), never accepted, only suggested.
  std::optional<std::string> choice(const std::string& key, const std::vector<std::string>& choices,
                                    std::optional<std::string> fallback, std::string doc,
                                    const std::vector<std::pair<std::string, std::string>>& aliases = {}) {
    auto s = string(key, std::move(fallback), std::move(doc));
    specs_.back().type = "one of " + join(choices);
    if (!s) return s;
    for (const auto& c : choices)
      if (c == *s) return s;
    auto hint = did_you_mean(*s, choices);
    for (const auto& [alias, word] : aliases)
      if (ascii_lower(*s) == ascii_lower(alias)) hint = "; did you mean '" + word + "'?";
    const ConfigValue* v = table_.find(key);
    diag_.error(v ? v->where : table_.where, "'" + key + "' = \"" + *s + "\" is not one of " + join(choices) + hint);
    return std::nullopt;
  }

  /// "host:port"; port 0 ("any free port") only if `allow_port_zero`.
  std::optional<Endpoint> endpoint(const std::string& key, std::optional<std::string> fallback, std::string doc,
                                   bool allow_port_zero = false) {
    auto s = string(key, std::move(fallback), std::move(doc));
    specs_.back().type = "host:port";
    if (!s) return std::nullopt;
    std::string why;
    auto e = parse_endpoint(*s, &why, allow_port_zero);
    if (!e) {
      const ConfigValue* v = table_.find(key);
      diag_.error(v ? v->where : table_.where, "'" + key + "' = \"" + *s + "\": " + why);
    }
    return e;
  }

  /// An array of strings; each element keeps its own location.
  std::optional<std::vector<std::pair<std::string, SourceLocation>>> string_list(
      const std::string& key, std::optional<std::vector<std::string>> fallback, std::string doc) {
    note(key, "array of strings", fallback ? toml_array(*fallback) : "", doc, !fallback);
    const ConfigValue* v = table_.find(key);
    if (!v) {
      if (!fallback) return missing<std::vector<std::pair<std::string, SourceLocation>>>(key, std::nullopt);
      std::vector<std::pair<std::string, SourceLocation>> out;
      for (auto& s : *fallback) out.emplace_back(s, table_.where);
      return out;
    }
    auto array = std::get_if<ConfigValue::Array>(&v->value);
    if (!array) {
      wrong_type(key, *v, "an array of strings");
      return std::nullopt;
    }
    std::vector<std::pair<std::string, SourceLocation>> out;
    bool good = true;
    for (const auto& item : *array) {
      if (auto s = std::get_if<std::string>(&item.value)) {
        out.emplace_back(*s, item.where);
      } else {
        diag_.error(item.where, "'" + key + "' must hold strings, not " + std::string(item.type_name()) + "s");
        good = false;
      }
    }
    if (!good) return std::nullopt;
    return out;
  }

  /// Reports missing required keys and every key that no read above asked
  /// for. Call once, last; the destructor calls it if you did not.
  void finish() {
    if (finished_) return;
    finished_ = true;
    std::vector<std::string> names = known_;
    for (const auto& s : specs_) names.push_back(s.name);
    std::string where = table_.path.empty() ? "" : " in [" + table_.path + "]";
    std::vector<std::string> explained;
    for (const auto& e : table_.entries) {
      if (allow_rest_) break;
      bool known = false;
      for (const auto& n : names) known = known || n == e.key;
      if (known) continue;
      auto match = closest_match(e.key, names);
      std::string hint = match ? "; did you mean '" + *match + "'?" : names.empty() ? "" : "; known keys: " + join(names);
      if (match) explained.push_back(*match);
      diag_.error(e.key_where.line ? e.key_where : e.value.where, "unknown key '" + e.key + "'" + where + hint);
    }
    for (const auto& [key, doc] : missing_) {
      if (std::find(explained.begin(), explained.end(), key) != explained.end()) continue;
      diag_.error(table_.where, "missing required key '" + key + "'" + where + " (" + doc + ")");
    }
  }

  ~ConfigReader() { finish(); }
  ConfigReader(const ConfigReader&) = delete;
  ConfigReader& operator=(const ConfigReader&) = delete;

 private:
  static std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
  }
  /// "between 1 and 4", "at least 1ms", "at most 60s", or "" when unbounded.
  static std::string bounds_text(const std::string& min, const std::string& max) {
    if (!min.empty() && !max.empty()) return "between " + min + " and " + max;
    if (!min.empty()) return "at least " + min;
    if (!max.empty()) return "at most " + max;
    return "";
  }
  static std::string toml_array(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "\"" : ", \"") + i + "\"";
    return "[" + out + "]";
  }
  static std::string trim(std::string number) {
    if (number.find('.') == std::string::npos) return number;
    while (number.back() == '0') number.pop_back();
    if (number.back() == '.') number.pop_back();
    return number;
  }
  void note(const std::string& key, std::string type, std::string default_text, std::string doc,
            bool required = false, std::string range = {}) {
    specs_.push_back({key, std::move(type), std::move(default_text), std::move(range), required, std::move(doc)});
  }
  template <typename T>
  std::optional<T> missing(const std::string& key, std::optional<T> fallback) {
    // Reported by finish(), where a misspelt key can explain it instead.
    if (!fallback) missing_.push_back({key, specs_.back().doc});
    return fallback;
  }
  void wrong_type(const std::string& key, const ConfigValue& v, const std::string& expected) {
    diag_.error(v.where, "'" + key + "' must be " + expected + ", not " + a_type_name(v));
  }
  void out_of_range(const std::string& key, const ConfigValue& v, const std::string& value, const std::string& min,
                    const std::string& max) {
    diag_.error(v.where, "'" + key + "' = " + value + " is out of range: must be " + bounds_text(min, max));
  }

  const ConfigTable& table_;
  Diagnostics& diag_;
  std::vector<KeySpec> specs_;
  std::vector<std::string> known_;
  std::vector<std::pair<std::string, std::string>> missing_;  ///< key, doc
  bool finished_ = false;
  bool allow_rest_ = false;
};

}  // namespace warren::sdk
