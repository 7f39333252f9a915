// Whole-program checks that run after every rule is resolved: trigger
// cascade cycles (E0401, A31) and the warnings (W0001-W0004).
#ifndef QM_COMPILER_CHECK_INTERNAL_LINT_H_
#define QM_COMPILER_CHECK_INTERNAL_LINT_H_

#include "compiler/check/check.h"

namespace qm::check_internal {

// Reports E0401 for every cycle of the rule graph of A31.
void CheckCascadeCycles(const check::Program& program, Diagnostics& diags);

// Rules that can never fire (W0001, W0002) and conflicting sets (W0003).
void RunLints(const check::Program& program, Diagnostics& diags);

}  // namespace qm::check_internal

#endif  // QM_COMPILER_CHECK_INTERNAL_LINT_H_
