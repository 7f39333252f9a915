// Differential test: generated rule files and event streams run on the
// interpreter and the JIT must give identical actions, rejects and warnings.
// QM_DIFF_CASES=N runs more cases (the suite runs 150); QM_DIFF_SEED picks
// the first seed.
#include <algorithm>
#include <cstdlib>

#include "compiler/driver/driver.h"
#include "compiler/interp/interp.h"
#include "compiler/jit/jit.h"
#include "gtest/gtest.h"
#include "runtime/sink/sink.h"
#include "tests/diff/generator.h"

namespace qm {
namespace {

struct Output {
  std::string actions, rejects, warnings;
};

Output RunEngine(const ir::Program& program, ir::Evaluator& evaluator, const difftest::Case& c) {
  auto store = state::MakeMemoryStore(program);
  sink::StringSink sink;
  engine::Engine engine(program, evaluator, *store, sink);
  int64_t n = 0;
  for (const std::string& line : c.lines) engine.ProcessLine(line, ++n);
  if (c.until) engine.FireUntil(c.until_ms);
  return {sink.actions, sink.rejects, sink.warnings};
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

TEST(Differential, InterpreterAndJitAgree) {
  int cases = EnvInt("QM_DIFF_CASES", 150);
  uint32_t seed = static_cast<uint32_t>(EnvInt("QM_DIFF_SEED", 1));
  int run = 0, actions = 0, skipped = 0;
  for (uint32_t s = seed; run < cases; ++s) {
    difftest::Case c = difftest::Generator(s).Make();
    auto compilation = driver::CompileText("gen.qm", c.rules);
    if (!compilation->program) {  // e.g. a generated cascade cycle (E0401)
      ++skipped;
      continue;
    }
    ir::Program program = ir::Lower(std::move(*compilation->program));
    std::string error;
    auto jit = jit::MakeJit(program, &error);
    ASSERT_TRUE(jit) << error;
    auto interp = interp::MakeInterpreter(program);
    Output a = RunEngine(program, *interp, c), b = RunEngine(program, *jit, c);
    std::string context = "seed " + std::to_string(s) + "\n" + c.rules;
    ASSERT_EQ(a.actions, b.actions) << context;
    ASSERT_EQ(a.rejects, b.rejects) << context;
    ASSERT_EQ(a.warnings, b.warnings) << context;
    actions += static_cast<int>(std::count(a.actions.begin(), a.actions.end(), '\n'));
    ++run;
  }
  std::printf("%d generated cases (%d more did not check), %d actions compared\n", run, skipped, actions);
  EXPECT_GT(actions, cases);  // the generator must exercise the engines, not produce silence
}

}  // namespace
}  // namespace qm
