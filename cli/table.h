// Text for people: columns padded by display width and shares, as `qm state
// stats` and `qm tags` print them; text inside XML and HTML (JUnit, `qm report`).
#ifndef QM_CLI_TABLE_H_
#define QM_CLI_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace qm::cli {

// `text` padded to `width` display columns (CJK is two wide).
std::string Pad(const std::string& text, int width);
// `part` of `whole` as `12.5%` (0.0% of nothing).
std::string Percent(int64_t part, int64_t whole);
// `text` as XML or HTML character data or attribute value: markup characters
// escaped, the control characters XML 1.0 cannot hold left out.
std::string Markup(std::string_view text);

}  // namespace qm::cli

#endif  // QM_CLI_TABLE_H_
