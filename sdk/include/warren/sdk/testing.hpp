#pragma once
// Test support for plugin authors: a manual clock, scripted randomness, a
// logger that keeps lines, and a builder for config tables.

#include <warren/sdk/config.hpp>
#include <warren/sdk/log.hpp>
#include <warren/sdk/random.hpp>
#include <warren/sdk/time.hpp>

#include <string>
#include <utility>
#include <vector>

namespace warren::sdk::testing {

/// Virtual time: starts at an arbitrary fixed point and moves only when told.
class ManualClock {
 public:
  TimePoint now() const { return now_; }
  void advance(Duration d) { now_ += d; }

 private:
  TimePoint now_ = TimePoint(std::chrono::hours(1000));
};

/// Returns the given fractions in [0, 1) in turn, cycling; exact tests of
/// jittered delays state the fraction they feed.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<double> fractions) : fractions_(std::move(fractions)) {}
  std::uint64_t next_u64() override {
    double f = fractions_.empty() ? 0.0 : fractions_[next_++ % fractions_.size()];
    return static_cast<std::uint64_t>(f * 0x1.0p53) << 11;
  }

 private:
  std::vector<double> fractions_;
  std::size_t next_ = 0;
};

class CapturingLogger final : public Logger {
 public:
  bool enabled(LogLevel) const override { return true; }
  void log(LogLevel level, std::string_view message) override { lines.emplace_back(level, std::string(message)); }
  std::vector<std::pair<LogLevel, std::string>> lines;
};

/// Builds a ConfigTable as if read from `file`, one line per key.
class TableBuilder {
 public:
  explicit TableBuilder(std::string path = "plugin", std::string file = "test.toml") {
    table_.path = std::move(path);
    table_.where = {std::move(file), 1, 1};
  }
  TableBuilder& set(std::string key, ConfigValue::Array items) { return add(std::move(key), std::move(items)); }
  template <typename T>
  TableBuilder& set(std::string key, T value) {
    if constexpr (std::is_same_v<T, bool>) return add(std::move(key), value);
    else if constexpr (std::is_integral_v<T>) return add(std::move(key), static_cast<std::int64_t>(value));
    else if constexpr (std::is_floating_point_v<T>) return add(std::move(key), static_cast<double>(value));
    else return add(std::move(key), std::string(value));
  }
  const ConfigTable& table() const { return table_; }

 private:
  template <typename V>
  TableBuilder& add(std::string key, V value) {
    SourceLocation where{table_.where.file, static_cast<std::uint32_t>(table_.entries.size() + 2), 1};
    ConfigValue v{std::move(value), where};
    if (auto* array = std::get_if<ConfigValue::Array>(&v.value))
      for (auto& item : *array) item.where = where;
    table_.entries.push_back({std::move(key), std::move(v), where});
    return *this;
  }
  ConfigTable table_;
};

/// A string array element for TableBuilder::set.
inline ConfigValue item(std::string s) { return ConfigValue{std::move(s), {}}; }

}  // namespace warren::sdk::testing
