#pragma once
// The process logger's lines while one of these lives (a test that checks
// what core logs): a sink beside stderr's, removed when it goes.

#include "core/log/logging.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace warren::test {

class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_st>(text_)) {
    sink_->set_pattern("%l %v");
    core::log().sinks().push_back(sink_);
  }
  ~CapturedLog() {
    auto& sinks = core::log().sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  /// Every line so far, as "LEVEL message" ("warning tunnel 'dns': …").
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(text_.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  /// The lines that contain `words`.
  std::vector<std::string> lines_with(const std::string& words) const {
    auto all = lines();
    std::vector<std::string> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out),
                 [&](const std::string& l) { return l.find(words) != std::string::npos; });
    return out;
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_st> sink_;
};

}  // namespace warren::test
