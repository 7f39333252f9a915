// LLVM IR generation for a lowered rule set. Only IRBuilder-level headers.
#ifndef QM_COMPILER_JIT_INTERNAL_CODEGEN_H_
#define QM_COMPILER_JIT_INTERNAL_CODEGEN_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/ir/ir.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace qm::jit_internal {

// The constants generated code reads through its `consts` argument. Built
// in node order, so equal programs give equal layouts and compiled code can
// be shared between them; the Values view the program's own constants.
struct ConstantTable {
  std::vector<Value> values;
  std::unordered_map<check::NodeId, int32_t> index;  // kConstant, kContains: slot; kIn: first slot
};
ConstantTable BuildConstants(const ir::Program& program);

// Names of the generated functions; empty where none was generated.
//   event_fns[e]: int32_t(view, consts, fields, profile, int32_t* out): writes the rules of
//                 rules_by_event[e] that hold to out (room for all), in order, and returns how many
//   rule_fns[r]:  uint8_t(view, consts, fields, profile), for rules with an internal trigger
//   where_fns[f]: uint8_t(view, consts, fields, profile), for ir::Program::filters[f]
// `fields` is the step's event fields in place (StepView::EventFields), or
// as many unset Values as the widest event has in a step without an event;
// `profile` the customer's (StepView::ProfileFields).
struct FunctionNames {
  std::vector<std::string> event_fns, rule_fns, where_fns;
};

// Small rule sets are optimized (O2) and their code branches: a rule's later
// operands are read only when the earlier ones hold, and texts are compared
// in place. Unoptimized code pays spills at every block, so large rule sets
// get one straight block per function, as cheap to compile as it is to run
// (docs/performance.md, "Compiling 1,000 rules").
bool Optimized(const ir::Program& program);

std::unique_ptr<llvm::Module> BuildModule(const ir::Program& program, const ConstantTable& constants,
                                          llvm::LLVMContext& context, FunctionNames& names);

}  // namespace qm::jit_internal

#endif  // QM_COMPILER_JIT_INTERNAL_CODEGEN_H_
