#include "cli/line_diff.h"

#include <algorithm>
#include <cstdint>

namespace qm::cli {

std::vector<DiffLine> DiffLines(const std::vector<std::string>& before, const std::vector<std::string>& after,
                                size_t max_cells) {
  size_t prefix = 0;
  while (prefix < before.size() && prefix < after.size() && before[prefix] == after[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < before.size() - prefix && suffix < after.size() - prefix &&
         before[before.size() - 1 - suffix] == after[after.size() - 1 - suffix])
    ++suffix;
  const size_t n = before.size() - prefix - suffix, m = after.size() - prefix - suffix;

  std::vector<DiffLine> out;
  for (size_t i = 0; i < prefix; ++i) out.push_back({' ', before[i]});
  auto a = [&](size_t i) -> const std::string& { return before[prefix + i]; };
  auto b = [&](size_t j) -> const std::string& { return after[prefix + j]; };
  if (n > 0 && m > 0 && (n + 1) * (m + 1) <= max_cells) {
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        at(i, j) = a(i) == b(j) ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    while (i < n && j < m) {
      if (a(i) == b(j)) {
        out.push_back({' ', a(i)});
        ++i, ++j;
      } else if (at(i + 1, j) >= at(i, j + 1)) {
        out.push_back({'-', a(i++)});
      } else {
        out.push_back({'+', b(j++)});
      }
    }
    for (; i < n; ++i) out.push_back({'-', a(i)});
    for (; j < m; ++j) out.push_back({'+', b(j)});
  } else {
    for (size_t i = 0; i < n; ++i) out.push_back({'-', a(i)});
    for (size_t j = 0; j < m; ++j) out.push_back({'+', b(j)});
  }
  for (size_t i = before.size() - suffix; i < before.size(); ++i) out.push_back({' ', before[i]});
  return out;
}

std::string RenderDiff(const std::vector<DiffLine>& diff, const std::string& indent, size_t context,
                       size_t max_changes) {
  std::vector<bool> shown(diff.size(), false);
  for (size_t i = 0; i < diff.size(); ++i) {
    if (diff[i].op == ' ') continue;
    size_t from = i >= context ? i - context : 0, to = std::min(diff.size(), i + context + 1);
    for (size_t k = from; k < to; ++k) shown[k] = true;
  }
  std::string out;
  size_t changes = 0, total_changes = 0;
  bool skipped = false;
  for (size_t i = 0; i < diff.size(); ++i) {
    if (diff[i].op != ' ') ++total_changes;
    if (changes >= max_changes) continue;
    if (!shown[i]) {
      skipped = true;
      continue;
    }
    if (skipped && !out.empty()) out += indent + "  …\n";
    skipped = false;
    if (diff[i].op != ' ') ++changes;
    out += indent + diff[i].op + ' ' + diff[i].text + '\n';
  }
  if (total_changes > changes) out += indent + "  … (+" + std::to_string(total_changes - changes) + ")\n";
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace qm::cli
