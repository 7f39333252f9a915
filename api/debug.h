// Debugging views past the public API, for `qm` only (`qm run --dump-ir`).
// Not installed; their output is not a contract.
#ifndef QM_API_DEBUG_H_
#define QM_API_DEBUG_H_

#include <string>

#include "qianmian/qianmian.hpp"

namespace qianmian::debug {

// The JIT's LLVM IR of an ok() rule set, before optimization.
std::string DumpIr(const RuleSet& rules);

}  // namespace qianmian::debug

#endif  // QM_API_DEBUG_H_
