// Program: one compiled rule set, immutable and shared (DESIGN.md). It owns
// the source text the checked IR points into, the lowered IR the engine
// runs, and makes the evaluators that run it: the JIT (the default) and the
// reference interpreter. Every host (the `qm` command through the public
// API, tests, benchmarks, fuzz targets) opens rules through Compile.
#ifndef QM_COMPILER_PROGRAM_PROGRAM_H_
#define QM_COMPILER_PROGRAM_PROGRAM_H_

#include <memory>
#include <string>
#include <vector>

#include "compiler/driver/driver.h"
#include "compiler/ir/ir.h"
#include "compiler/jit/jit.h"

namespace qm {

enum class EngineKind { kJit, kInterpreter };

class Program {
 public:
  // The lowered rule set, for the engine and the state store.
  const ir::Program& ir() const { return ir_; }
  // Every file read, imports included, in the order they were loaded.
  const std::vector<std::unique_ptr<Source>>& sources() const { return compilation_->sources; }

  // A new evaluator of this program (it must outlive the evaluator). The
  // JIT can fail (no native target, out of memory): then null and `error`.
  std::unique_ptr<ir::Evaluator> MakeEvaluator(EngineKind engine, std::string* error,
                                               jit::CompileStats* stats = nullptr) const;

  // Use Compile; public for std::make_shared.
  explicit Program(std::shared_ptr<driver::Compilation> compilation);

 private:
  std::shared_ptr<const driver::Compilation> compilation_;  // owns the text ir_ views
  ir::Program ir_;
};

// What compiling rule files gave: the diagnostics, and the program unless
// there is an error (warnings allowed).
struct Compiled {
  std::shared_ptr<const driver::Compilation> compilation;  // sources and diagnostics
  std::shared_ptr<const Program> program;                  // null when there is an error
};

// The entry point: rule files in order (imports followed), or in-memory
// text named `name` (driver.h).
Compiled Compile(const std::vector<std::string>& paths, const std::vector<std::string>& allow = {});
Compiled CompileText(const std::string& name, std::string text);

}  // namespace qm

#endif  // QM_COMPILER_PROGRAM_PROGRAM_H_
