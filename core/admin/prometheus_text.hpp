#pragma once
// Pieces of the Prometheus text exposition format (version 0.0.4) that the
// edge's and the connector's /metrics both write.

#include <string>
#include <string_view>

namespace warren::core::prometheus {

/// A label value with the format's three escapes (backslash, quote, newline).
std::string label(std::string_view value);

/// Appends a family's `# HELP` and `# TYPE` lines to `out`.
void family(std::string& out, const char* name, const char* type, const char* help);

}  // namespace warren::core::prometheus
