// One line diff for everything `qm` compares: `qm test`'s expected and
// actual lines, `qm fmt --check`, `qm diff`'s differing customers.
#ifndef QM_CLI_LINE_DIFF_H_
#define QM_CLI_LINE_DIFF_H_

#include <string>
#include <vector>

namespace qm::cli {

struct DiffLine {
  char op;  // ' ' in both, '-' only in the old lines, '+' only in the new
  std::string text;
};

// A shortest edit script from `before` to `after` (longest common
// subsequence), common lines included. Past `max_cells` of work (lines ×
// lines after the common ends are cut), the middle is reported as all
// removed then all added: still a correct script, only not the shortest.
std::vector<DiffLine> DiffLines(const std::vector<std::string>& before, const std::vector<std::string>& after,
                                size_t max_cells = 4'000'000);

// The changed lines of `diff` with `context` common lines around each change,
// as "- old", "+ new", "  same" lines, and "  …" where common lines are
// skipped; at most `max_changes` changed lines, then a count of the rest.
std::string RenderDiff(const std::vector<DiffLine>& diff, const std::string& indent, size_t context = 2,
                       size_t max_changes = 40);

// The lines of `text`: split at '\n', without a trailing empty line.
std::vector<std::string> SplitLines(const std::string& text);

}  // namespace qm::cli

#endif  // QM_CLI_LINE_DIFF_H_
