// Debugging views past the public API, for `qm` only (`qm run --dump-ir`).
// Not installed; their output is not a contract.
#ifndef QM_API_DEBUG_H_
#define QM_API_DEBUG_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qianmian/qianmian.hpp"

namespace qianmian::debug {

// The JIT's LLVM IR of an ok() rule set, before optimization.
std::string DumpIr(const RuleSet& rules);

// The members of a JSON object line (an action or reject line), each value
// spelled so that equal JSON values are equal strings: a string as '"' and
// its text, a number as written, true/false/null. False when `line` is not
// one JSON object. For `qm test`'s partial line matches.
bool ObjectMembers(std::string_view line, std::vector<std::pair<std::string, std::string>>& members);

}  // namespace qianmian::debug

#endif  // QM_API_DEBUG_H_
