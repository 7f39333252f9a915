// The LLVM ORC JIT engine: compiles a lowered rule set into native code (one
// function per event type evaluating every rule it triggers, with shared
// subexpressions computed once per step) behind the same Evaluator interface
// as the reference interpreter, and with the same results byte for byte.
// LLVM types never appear outside compiler/jit.
#ifndef QM_COMPILER_JIT_JIT_H_
#define QM_COMPILER_JIT_JIT_H_

#include <memory>
#include <string>

#include "compiler/ir/ir.h"

namespace qm::jit {

struct CompileStats {
  double codegen_ms = 0;   // building LLVM IR
  double optimize_ms = 0;  // the O2 pipeline
  double jit_ms = 0;       // machine code generation and linking
  bool cache_hit = false;  // reused code compiled earlier in this process
  bool optimized = false;  // ran the O2 pipeline (small rule sets)
  size_t instructions = 0; // LLVM IR instructions generated
};

// Compiles `program` (which must outlive the evaluator). On failure (an LLVM
// error: no native target, out of memory) returns null and sets `error`.
std::unique_ptr<ir::Evaluator> MakeJit(const ir::Program& program, std::string* error,
                                       CompileStats* stats = nullptr);

// The module's LLVM IR before optimization, for `qm run --dump-ir`.
std::string DumpIr(const ir::Program& program);

}  // namespace qm::jit

#endif  // QM_COMPILER_JIT_JIT_H_
