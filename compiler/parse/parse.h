// Parse: one rule file's text -> ast::RuleFile, with syntax diagnostics.
#ifndef QM_COMPILER_PARSE_PARSE_H_
#define QM_COMPILER_PARSE_PARSE_H_

#include "compiler/ast/ast.h"
#include "compiler/diag/diag.h"

namespace qm::parse {

// Nesting limit of parentheses, `not` and `where` (A47, B5).
inline constexpr int kMaxNesting = 64;

struct Options {
  bool keep_tokens = false;  // fill RuleFile::tokens (for `qm fmt`)
};

// Parses `source` (which must outlive the result). Never fails: syntax errors
// become diagnostics, and each top-level item (declaration or rule) is parsed
// on its own, so one broken rule reports one error and does not hide the next.
ast::RuleFile Parse(const Source& source, Diagnostics& diags, Options options = {});

}  // namespace qm::parse

#endif  // QM_COMPILER_PARSE_PARSE_H_
