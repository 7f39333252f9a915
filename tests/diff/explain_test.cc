// `qm explain` never disagrees with the engines: over the differential
// corpus, for every customer of every generated case and on both engines,
// the rules explain's own evaluation (the reference interpreter's trace)
// finds to hold are the ones the engine matched, step by step, and the lines
// explain attributes to the customer's steps are exactly the customer's
// lines of a plain run. QM_DIFF_CASES=N runs more cases.
#include <cstdlib>
#include <map>
#include <set>

#include "compiler/interp/interp.h"
#include "gtest/gtest.h"
#include "runtime/explain/explain.h"
#include "tests/diff/generator.h"
#include "tests/support/engines.h"

namespace qm {
namespace {

std::string Customer(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> members;
  if (!event::ObjectMembers(line, members)) return "";
  for (const auto& [k, v] : members)
    if (k == "customer") return v.substr(1);
  return "";
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST(ExplainAgreement, ExplainMatchesTheEnginesStepByStep) {
  const char* env = std::getenv("QM_DIFF_CASES");
  int cases = env ? std::atoi(env) : 150;
  int run = 0, steps = 0, not_held = 0;
  for (uint32_t seed = 1; run < cases; ++seed) {
    difftest::Case c = difftest::Generator(seed).Make();
    std::string why;
    auto program = testing_internal::CompileOrExplain("gen.qm", c.rules, why);
    if (!program) continue;
    ++run;
    std::optional<int64_t> until = c.until ? std::optional<int64_t>(c.until_ms) : std::nullopt;
    auto tracer = interp::MakeInterpreter(program->ir());
    for (EngineKind kind : {EngineKind::kJit, EngineKind::kInterpreter}) {
      std::string error;
      auto evaluator = program->MakeEvaluator(kind, &error);
      ASSERT_TRUE(evaluator) << error;
      testing_internal::Outputs plain = testing_internal::RunLines(*program, *evaluator, c.lines, until, c.lateness_ms);
      std::map<std::string, std::vector<std::string>> lines_of, rejects_of;
      std::set<std::string> customers;
      for (const std::string& l : SplitLines(plain.actions)) {
        lines_of[Customer(l)].push_back(l);
        customers.insert(Customer(l));
      }
      for (const std::string& l : SplitLines(plain.rejects))
        if (!Customer(l).empty()) rejects_of[Customer(l)].push_back(l);
      for (const std::string& l : c.lines) customers.insert(Customer(l));
      customers.erase("");
      for (const std::string& customer : customers) {
        explain::Explainer explainer(program->ir(), *tracer, {.customer = customer, .tz_minutes = 480});
        auto store = state::MakeMemoryStore(program->ir());
        sink::StringSink sink;
        engine::Engine engine(program->ir(), *evaluator, *store, sink,
                              {.lateness_ms = c.lateness_ms, .observer = &explainer});
        int64_t n = 0;
        for (const std::string& line : c.lines) engine.ProcessLine(line, ++n);
        engine.ReleaseAll();
        if (until) engine.FireUntil(*until);
        ASSERT_EQ(sink.actions, plain.actions) << "observing changed the run, seed " << seed;
        std::vector<std::string> explained;
        for (const explain::StepRecord& step : explainer.steps()) {
          ++steps;
          for (const explain::RuleRecord& r : step.rules) {
            ASSERT_EQ(r.held, r.matched) << "seed " << seed << " customer " << customer << " rule "
                                         << program->ir().checked.rules[r.rule].name << "\n" << c.rules;
            if (!r.held) {
              ++not_held;
              EXPECT_FALSE(r.why.empty());
            }
          }
          explained.insert(explained.end(), step.lines.begin(), step.lines.end());
        }
        ASSERT_EQ(explained, lines_of[customer]) << "seed " << seed << " customer " << customer;
        std::string report = explainer.Text();
        for (const std::string& l : rejects_of[customer]) EXPECT_NE(report.find(l), std::string::npos) << l;
      }
    }
  }
  std::printf("%d generated cases, %d customer steps explained, %d rules that did not hold\n", run, steps, not_held);
  EXPECT_GE(run, 150);
  EXPECT_GT(not_held, run);  // the corpus exercises the "why not" path
}

}  // namespace
}  // namespace qm
