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
//   event_fns[e]: void(view, consts, uint8_t* out), out[k] for rules_by_event[e][k]
//   rule_fns[r]:  uint8_t(view, consts), for rules with an internal trigger
//   where_fns[f]: uint8_t(view, consts), for ir::Program::filters[f]
struct FunctionNames {
  std::vector<std::string> event_fns, rule_fns, where_fns;
};

std::unique_ptr<llvm::Module> BuildModule(const ir::Program& program, const ConstantTable& constants,
                                          llvm::LLVMContext& context, FunctionNames& names);

}  // namespace qm::jit_internal

#endif  // QM_COMPILER_JIT_INTERNAL_CODEGEN_H_
