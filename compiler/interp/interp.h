// The reference interpreter: evaluates rule conditions by walking the
// checked expression nodes. It defines the semantics the JIT must match.
#ifndef QM_COMPILER_INTERP_INTERP_H_
#define QM_COMPILER_INTERP_INTERP_H_

#include <memory>
#include <vector>

#include "compiler/ir/ir.h"

namespace qm::interp {

// One node the interpreter evaluated, and its value (a condition's is a bool).
// Text values view the step's state: read them before the step ends.
struct Evaluated {
  check::NodeId node;
  Value value;
};

class Interpreter : public ir::Evaluator {
 public:
  // Evaluates condition `node` exactly as MatchRules does and appends every
  // node it evaluated, children before parents (`and`/`or` stop at the
  // operand that decides, as rules do). For `qm explain` and coverage.
  virtual bool Trace(check::NodeId node, const ir::StepView& view, std::vector<Evaluated>& trace) const = 0;
};

// An Evaluator over `program`, which must outlive it.
std::unique_ptr<Interpreter> MakeInterpreter(const ir::Program& program);

}  // namespace qm::interp

#endif  // QM_COMPILER_INTERP_INTERP_H_
