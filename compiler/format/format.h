// Format: one rule file's text -> its canonical layout (`qm fmt`,
// docs/tooling.md). Layout only: the tokens, their lines and the comments
// stay; spacing, indentation, optional commas and full-width punctuation
// become canonical, so the program and every rule's name (an unnamed rule
// is named by its line, A10) are unchanged.
#ifndef QM_COMPILER_FORMAT_FORMAT_H_
#define QM_COMPILER_FORMAT_FORMAT_H_

#include <optional>
#include <string>

#include "compiler/diag/diag.h"
#include "compiler/source/source.h"

namespace qm::format {

// The formatted text of `source`, or nullopt when it cannot be formatted: a
// syntax error other than full-width punctuation (E0003), which formatting
// replaces. The parse's diagnostics go to `diags` either way.
std::optional<std::string> Format(const Source& source, Diagnostics& diags);

}  // namespace qm::format

#endif  // QM_COMPILER_FORMAT_FORMAT_H_
