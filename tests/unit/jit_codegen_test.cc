// What the JIT generates: conditions that compile to the same code are
// compiled once, and only those (docs/performance.md, "Compiling 1,000 rules").
#include <string>
#include <vector>

#include "compiler/jit/jit.h"
#include "gtest/gtest.h"
#include "tests/support/engines.h"

namespace {

using qm::testing_internal::CompileOrExplain;
using qm::testing_internal::RunBothEngines;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// `qty > 2` filters the aggregates of a and b with one function; c's qty is
// money, where 2 means 2.00, so its filter is its own. Were it shared, 0.03
// (3 cents) would pass as 3 > 2.
TEST(JitCodegen, EqualConditionsShareOneFunctionAndTypesKeepThemApart) {
  std::string why;
  auto program = CompileOrExplain("share.qm",
                                  "event a { qty: int }\nevent b { qty: int }\nevent c { qty: money }\n"
                                  "rule ra: when a and count(a where qty > 2) >= 1 then push A\n"
                                  "rule rb: when b and count(b where qty > 2) >= 1 then push B\n"
                                  "rule rc: when c and count(c where qty > 2) >= 1 then push C\n",
                                  why);
  ASSERT_NE(program, nullptr) << why;
  std::string ir = qm::jit::DumpIr(program->ir());
  EXPECT_EQ(Count(ir, "define i8 @qm_where_"), 2u) << ir;

  std::vector<std::string> lines = {
      R"({"type":"a","customer":"u1","ts":"2026-01-01T00:00:00Z","qty":3})",
      R"({"type":"b","customer":"u2","ts":"2026-01-01T00:00:01Z","qty":1})",
      R"({"type":"c","customer":"u3","ts":"2026-01-01T00:00:02Z","qty":0.03})",
      R"({"type":"c","customer":"u4","ts":"2026-01-01T00:00:03Z","qty":2.5})",
  };
  std::string error;
  auto [interp, jit] = RunBothEngines(*program, lines, std::nullopt, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(jit.actions, interp.actions);
  EXPECT_EQ(jit.rejects, interp.rejects);
  EXPECT_EQ(Count(jit.actions, "\"target\":\"A\""), 1u) << jit.actions;
  EXPECT_EQ(Count(jit.actions, "\"target\":\"B\""), 0u) << jit.actions;
  EXPECT_EQ(Count(jit.actions, "\"customer\":\"u3\""), 0u) << jit.actions;
  EXPECT_EQ(Count(jit.actions, "\"customer\":\"u4\""), 1u) << jit.actions;
}

}  // namespace
