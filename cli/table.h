// Columns for people: padding by display width and shares, as `qm state
// stats` and `qm tags` print them.
#ifndef QM_CLI_TABLE_H_
#define QM_CLI_TABLE_H_

#include <cstdint>
#include <string>

namespace qm::cli {

// `text` padded to `width` display columns (CJK is two wide).
std::string Pad(const std::string& text, int width);
// `part` of `whole` as `12.5%` (0.0% of nothing).
std::string Percent(int64_t part, int64_t whole);

}  // namespace qm::cli

#endif  // QM_CLI_TABLE_H_
