// Issue 4, safety: rule sets built to stress code generation (huge literals,
// the deepest nesting allowed, long `in` lists and strings, thousands of
// rules) compile, run, and agree with the interpreter.
#include <algorithm>

#include "gtest/gtest.h"
#include "tests/support/engines.h"

namespace qm {
namespace {

const char kSchema[] = R"(event e { i: int, m: money, n: number, t: text }
profile {
  pi: int = 0
}
tag x "x"
)";

std::string RunBoth(const std::string& rules, const std::vector<std::string>& lines) {
  std::string why;
  auto program = testing_internal::CompileOrExplain("adv.qm", kSchema + rules, why);
  EXPECT_TRUE(program) << why;
  if (!program) return "";
  std::string error;
  auto [interp, jit] = testing_internal::RunBothEngines(*program, lines, std::nullopt, error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(interp, jit);
  return jit.actions + jit.rejects;
}

const std::vector<std::string> kEvents = {
    R"({"type":"e","customer":"c","ts":1,"i":9223372036854775807,"m":"92233720368547758.07","n":1e308,"t":"长文本"})",
    R"({"type":"e","customer":"c","ts":2,"i":-9223372036854775808,"m":-1,"n":-0.0,"t":"x"})",
    R"({"type":"e","customer":"d","ts":3})",
};

TEST(Adversarial, HugeLiterals) {
  std::string out = RunBoth(
      "rule a: when e and i >= 9223372036854775807 then push 最大\n"
      "rule b: when e and m > 92233720368547758.069999999999999999 then push 金额\n"
      "rule c: when e and n > 123456789012345678901234567890123456 then push 浮点\n"
      "rule d: when e and i < -9223372036854775807 then push 最小\n"
      "rule f: when e and m < 0.000000000000000000000000000000001 then push 负\n",
      kEvents);
  for (const char* target : {"最大", "金额", "浮点", "最小", "负"})
    EXPECT_NE(out.find(target), std::string::npos) << target << "\n" << out;
}

TEST(Adversarial, DeepestNestingAndLongLists) {
  std::string deep = std::string(63, '(') + "i > 0" + std::string(63, ')');
  std::string nots;
  for (int k = 0; k < 64; ++k) nots += "not ";
  std::string list = "t in (";
  for (int k = 0; k < 2000; ++k) list += "w" + std::to_string(k) + ", ";
  list += "x)";
  std::string text(10'000, 'a');
  RunBoth("rule a: when e and " + deep + " then push 深\n" +
              "rule b: when e and " + nots + "i > 0 then push 否\n" +
              "rule c: when e and " + list + " then push 列表\n" +
              "rule d: when e and t contains \"" + text + "\" then push 长\n",
          kEvents);
}

TEST(Adversarial, ThousandsOfRules) {
  std::string rules;
  for (int r = 0; r < 3000; ++r) {
    rules += "rule r" + std::to_string(r) + ": when e and (i > " + std::to_string(r) + " or m <= " +
             std::to_string(r) + ".5) and not has x then add pi 1, push p" + std::to_string(r % 40) + "\n";
  }
  std::string out = RunBoth(rules, kEvents);
  EXPECT_GT(std::count(out.begin(), out.end(), '\n'), 3000);
}

}  // namespace
}  // namespace qm
