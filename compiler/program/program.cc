#include "compiler/program/program.h"

#include "compiler/interp/interp.h"

namespace qm {
namespace {

Compiled Finish(std::shared_ptr<driver::Compilation> compilation) {
  Compiled out;
  if (compilation->program) out.program = std::make_shared<const Program>(compilation);
  out.compilation = std::move(compilation);
  return out;
}

}  // namespace

Program::Program(std::shared_ptr<driver::Compilation> compilation)
    : compilation_(compilation), ir_(ir::Lower(std::move(*compilation->program))) {
  compilation->program.reset();  // moved into ir_
}

std::unique_ptr<ir::Evaluator> Program::MakeEvaluator(EngineKind engine, std::string* error,
                                                      jit::CompileStats* stats) const {
  if (engine == EngineKind::kInterpreter) return interp::MakeInterpreter(ir_);
  return jit::MakeJit(ir_, error, stats);
}

Compiled Compile(const std::vector<std::string>& paths, const std::vector<std::string>& allow) {
  return Finish(driver::CompileFiles(paths, allow));
}

Compiled CompileText(const std::string& name, std::string text) {
  return Finish(driver::CompileText(name, std::move(text)));
}

}  // namespace qm
