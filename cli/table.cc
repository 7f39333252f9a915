#include "cli/table.h"

#include <algorithm>
#include <cstdio>

#include "compiler/source/source.h"

namespace qm::cli {

std::string Pad(const std::string& text, int width) {
  return text + std::string(std::max(0, width - utf8::DisplayWidth(text)), ' ');
}

std::string Percent(int64_t part, int64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

}  // namespace qm::cli
