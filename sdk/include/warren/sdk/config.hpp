#pragma once
// The read-only view a plugin gets of its own TOML table, and the common
// diagnostic format "FILE:LINE:COL: message".
//
// core/ turns the TOML document into this plain tree (no toml++ types cross
// the plugin boundary); ConfigReader (config_reader.hpp) reads it with types,
// defaults, ranges and "did you mean" for unknown keys.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace warren::sdk {

struct SourceLocation {
  std::string file;
  std::uint32_t line = 0;    ///< 1-based; 0 when unknown
  std::uint32_t column = 0;  ///< 1-based; 0 when unknown

  /// "file:line:col", or as much of it as is known.
  std::string to_string() const {
    std::string out = file.empty() ? "<config>" : file;
    if (line) out += ":" + std::to_string(line) + ":" + std::to_string(column ? column : 1);
    return out;
  }
};

struct Diagnostic {
  SourceLocation where;
  std::string message;
  std::string to_string() const { return where.to_string() + ": " + message; }
};

/// Collects errors; a factory that adds one returns no object.
class Diagnostics {
 public:
  void error(SourceLocation where, std::string message) {
    list_.push_back({std::move(where), std::move(message)});
  }
  bool ok() const { return list_.empty(); }
  const std::vector<Diagnostic>& list() const { return list_; }
  void append(const Diagnostics& other) { list_.insert(list_.end(), other.list_.begin(), other.list_.end()); }

 private:
  std::vector<Diagnostic> list_;
};

struct ConfigValue;

/// One key of a table.
struct ConfigEntry;

/// A TOML table with where it stands; entries keep document order.
struct ConfigTable {
  std::vector<ConfigEntry> entries;
  SourceLocation where;  ///< where the table's header (or inline table) starts
  std::string path;      ///< "backend", "transport[2]", … for messages

  const ConfigValue* find(std::string_view key) const;
};

/// A TOML value. Date and time values arrive as their TOML text.
struct ConfigValue {
  using Array = std::vector<ConfigValue>;
  std::variant<bool, std::int64_t, double, std::string, Array, ConfigTable> value;
  SourceLocation where;

  const char* type_name() const {
    static constexpr const char* names[] = {"boolean", "integer", "float", "string", "array", "table"};
    return names[value.index()];
  }
};

struct ConfigEntry {
  std::string key;
  ConfigValue value;
  SourceLocation key_where;  ///< where the key itself is written
};

inline const ConfigValue* ConfigTable::find(std::string_view key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

}  // namespace warren::sdk
