#include "core/config/state_dir.hpp"

#include <cstdlib>

namespace warren::core {
namespace {

std::optional<std::filesystem::path> absolute_env(const EnvLookup& getenv, const char* name) {
  const char* value = getenv(name);
  if (!value || !*value) return std::nullopt;
  std::string text = value;
  if (auto colon = text.find(':'); colon != std::string::npos) text.resize(colon);  // a list: the first
  std::filesystem::path path(text);
  if (!path.is_absolute()) return std::nullopt;
  return path;
}

std::string folder_name(const std::string& id) {
  std::string out;
  for (char c : id) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-';
    out += plain ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "edge";
  return out;
}

}  // namespace

std::optional<std::filesystem::path> default_state_dir(const std::string& edge_id, const EnvLookup& getenv) {
  std::optional<std::filesystem::path> base;
  if (auto service = absolute_env(getenv, "STATE_DIRECTORY")) base = *service;
  else if (auto xdg = absolute_env(getenv, "XDG_STATE_HOME")) base = *xdg / "warren";
  else if (auto home = absolute_env(getenv, "HOME")) base = *home / ".local" / "state" / "warren";
  if (!base) return std::nullopt;
  return *base / folder_name(edge_id);
}

}  // namespace warren::core
