#pragma once
// Small helpers for tests that run `warren` as a user does.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace warren::test {

/// A config file in a fresh temporary folder, removed at scope exit.
struct TempConfig {
  std::filesystem::path dir;
  std::filesystem::path file;
  explicit TempConfig(const std::string& text, const std::string& name = "tunnel.toml") {
    dir = std::filesystem::temp_directory_path() / ("warren-cli-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(counter++));
    std::filesystem::create_directories(dir);
    file = dir / name;
    std::ofstream(file) << text;
  }
  ~TempConfig() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  TempConfig(const TempConfig&) = delete;
  TempConfig& operator=(const TempConfig&) = delete;
  static inline int counter = 0;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// `text` with the first `from` replaced by `to`; `from` must be there.
inline std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace warren::test
