// The reference interpreter: evaluates rule conditions by walking the
// checked expression nodes. It defines the semantics the JIT must match.
#ifndef QM_COMPILER_INTERP_INTERP_H_
#define QM_COMPILER_INTERP_INTERP_H_

#include <memory>

#include "compiler/ir/ir.h"

namespace qm::interp {

// An Evaluator over `program`, which must outlive it.
std::unique_ptr<ir::Evaluator> MakeInterpreter(const ir::Program& program);

}  // namespace qm::interp

#endif  // QM_COMPILER_INTERP_INTERP_H_
