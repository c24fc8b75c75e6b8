#include "core/config/toml_tree.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace warren::core {
namespace {

sdk::SourceLocation location(const toml::source_region& region, const std::string& file) {
  return {file, static_cast<std::uint32_t>(region.begin.line), static_cast<std::uint32_t>(region.begin.column)};
}

sdk::ConfigValue convert(const toml::node& node, const std::string& file, const std::string& path);

sdk::ConfigTable convert_table(const toml::table& table, const std::string& file, const std::string& path) {
  sdk::ConfigTable out;
  out.where = location(table.source(), file);
  out.path = path;
  for (const auto& [key, value] : table) {
    std::string name(key.str());
    out.entries.push_back({name, convert(value, file, path.empty() ? name : path + "." + name),
                           location(key.source(), file)});
  }
  // toml++ keeps keys sorted; messages read better in the order written.
  std::stable_sort(out.entries.begin(), out.entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.key_where.line, a.key_where.column) < std::tie(b.key_where.line, b.key_where.column);
  });
  return out;
}

sdk::ConfigValue convert(const toml::node& node, const std::string& file, const std::string& path) {
  sdk::ConfigValue out;
  out.where = location(node.source(), file);
  switch (node.type()) {
    case toml::node_type::table: out.value = convert_table(*node.as_table(), file, path); break;
    case toml::node_type::array: {
      sdk::ConfigValue::Array items;
      for (const auto& item : *node.as_array()) items.push_back(convert(item, file, path));
      out.value = std::move(items);
      break;
    }
    case toml::node_type::string: out.value = node.as_string()->get(); break;
    case toml::node_type::integer: out.value = node.as_integer()->get(); break;
    case toml::node_type::floating_point: out.value = node.as_floating_point()->get(); break;
    case toml::node_type::boolean: out.value = node.as_boolean()->get(); break;
    default: {
      // Dates and times: kept as their TOML text; no warren key takes one.
      std::ostringstream text;
      node.visit([&](const auto& v) { text << v; });
      out.value = text.str();
    }
  }
  return out;
}

}  // namespace

std::optional<sdk::ConfigTable> read_toml_text(std::string_view text, const std::string& file_name,
                                               sdk::Diagnostics& diagnostics) {
  try {
    auto document = toml::parse(text, file_name);
    auto root = convert_table(document, file_name, "");
    root.where = {file_name, 1, 1};
    return root;
  } catch (const toml::parse_error& e) {
    diagnostics.error(location(e.source(), file_name), std::string(e.description()));
    return std::nullopt;
  }
}

std::optional<sdk::ConfigTable> read_toml_file(const std::filesystem::path& file, sdk::Diagnostics& diagnostics) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    diagnostics.error({file.string(), 0, 0}, "this is a folder; give the config file itself (e.g. " +
                                                 (file / "edge.toml").string() + ")");
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    diagnostics.error({file.string(), 0, 0}, "cannot read the file: " + std::string(std::strerror(errno)));
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return read_toml_text(buffer.str(), file.string(), diagnostics);
}

}  // namespace warren::core
