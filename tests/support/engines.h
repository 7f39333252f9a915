// Compiling rules and running them on both engines in memory, for tests
// that compare the engines or look at what a rule set does.
#ifndef QM_TESTS_SUPPORT_ENGINES_H_
#define QM_TESTS_SUPPORT_ENGINES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/program/program.h"
#include "runtime/sink/sink.h"

namespace qm::testing_internal {

// The program of `text`, or null with every diagnostic rendered in `why`.
inline std::shared_ptr<const Program> CompileOrExplain(const std::string& name, std::string text, std::string& why) {
  Compiled compiled = CompileText(name, std::move(text));
  for (const Diagnostic& d : compiled.compilation->diags.all()) why += RenderText(d, Lang::kEn);
  return compiled.program;
}

struct Outputs {
  std::string actions, rejects, warnings;
  bool operator==(const Outputs&) const = default;
};

// Runs `lines` on `evaluator` with state in memory, releases what
// `lateness_ms` held (D9), then fires the timers due by `until`.
inline Outputs RunLines(const Program& program, ir::Evaluator& evaluator, const std::vector<std::string>& lines,
                        std::optional<int64_t> until = std::nullopt, int64_t lateness_ms = 0) {
  auto store = state::MakeMemoryStore(program.ir());
  sink::StringSink sink;
  engine::Engine engine(program.ir(), evaluator, *store, sink, engine::Options{.lateness_ms = lateness_ms});
  int64_t n = 0;
  for (const std::string& line : lines) engine.ProcessLine(line, ++n);
  engine.ReleaseAll();
  if (until) engine.FireUntil(*until);
  return {sink.actions, sink.rejects, sink.warnings};
}

// The outputs of the interpreter and of the JIT, in that order; `error` is
// set when the JIT cannot be made.
inline std::pair<Outputs, Outputs> RunBothEngines(const Program& program, const std::vector<std::string>& lines,
                                                  std::optional<int64_t> until, std::string& error,
                                                  int64_t lateness_ms = 0) {
  auto jit = program.MakeEvaluator(EngineKind::kJit, &error);
  if (!jit) return {};
  auto interp = program.MakeEvaluator(EngineKind::kInterpreter, &error);
  return {RunLines(program, *interp, lines, until, lateness_ms), RunLines(program, *jit, lines, until, lateness_ms)};
}

}  // namespace qm::testing_internal

#endif  // QM_TESTS_SUPPORT_ENGINES_H_
