// Differential test: generated rule files and event streams run on the
// interpreter and the JIT must give identical actions, rejects and warnings.
// QM_DIFF_CASES=N runs more cases (the suite runs 150); QM_DIFF_SEED picks
// the first seed.
#include <algorithm>
#include <cstdlib>
#include <map>

#include "gtest/gtest.h"
#include "tests/diff/generator.h"
#include "tests/support/engines.h"

namespace qm {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

TEST(Differential, InterpreterAndJitAgree) {
  int cases = EnvInt("QM_DIFF_CASES", 150);
  uint32_t seed = static_cast<uint32_t>(EnvInt("QM_DIFF_SEED", 1));
  int run = 0, actions = 0, skipped = 0, segment_steps = 0, merges = 0;
  std::map<std::string, int> skipped_by;  // error code
  for (uint32_t s = seed; run < cases; ++s) {
    difftest::Case c = difftest::Generator(s).Make();
    std::string why;
    auto program = testing_internal::CompileOrExplain("gen.qm", c.rules, why);
    if (!program) {  // e.g. a generated cascade cycle (E0401)
      size_t at = why.find("error[");
      ++skipped_by[at == std::string::npos ? "?" : why.substr(at + 6, 5)];
      ++skipped;
      continue;
    }
    std::string error;
    auto [a, b] = testing_internal::RunBothEngines(
        *program, c.lines, c.until ? std::optional<int64_t>(c.until_ms) : std::nullopt, error, c.lateness_ms);
    ASSERT_TRUE(error.empty()) << error;
    std::string context = "seed " + std::to_string(s) + "\n" + c.rules;
    ASSERT_EQ(a.actions, b.actions) << context;
    ASSERT_EQ(a.rejects, b.rejects) << context;
    ASSERT_EQ(a.warnings, b.warnings) << context;
    actions += static_cast<int>(std::count(a.actions.begin(), a.actions.end(), '\n'));
    for (size_t at = a.actions.find("\"rule\":\"segment "); at != std::string::npos;
         at = a.actions.find("\"rule\":\"segment ", at + 1))
      ++segment_steps;
    for (size_t at = a.actions.find("\"action\":\"merge\""); at != std::string::npos;
         at = a.actions.find("\"action\":\"merge\"", at + 1))
      ++merges;
    ++run;
  }
  std::string why_skipped;
  for (const auto& [code, n] : skipped_by) why_skipped += " " + code + "=" + std::to_string(n);
  std::printf("%d generated cases (%d more did not check:%s), %d actions compared (%d by segment refreshes, %d merges)\n",
              run, skipped, why_skipped.c_str(), actions, segment_steps, merges);
  EXPECT_LT(skipped * 5, run) << "the generator makes too many invalid rule files:" << why_skipped;
  EXPECT_GT(actions, cases);  // the generator must exercise the engines, not produce silence
  EXPECT_GT(segment_steps * 20, cases);  // D13 too
  EXPECT_GT(merges * 20, cases);         // and D12
}

}  // namespace
}  // namespace qm
