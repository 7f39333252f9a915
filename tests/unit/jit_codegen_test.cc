// What the JIT generates: conditions that compile to the same code are
// compiled once, and only those (docs/performance.md, "Compiling 1,000
// rules"); texts and lists compared in place; later operands read only when
// the earlier ones hold.
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

namespace {

// `text` (which declares `event pad { n: int }`) compiled as a small rule
// set, or with 120 rules on `pad` appended, as a large one: the two shapes of
// code (jit_internal::Optimized), branching O2 code and one straight block.
// Null, with the test failed, when it does not compile or gets the other
// shape; `ir` is the generated module's text.
std::shared_ptr<const qm::Program> CompileInShape(const std::string& name, std::string text, bool large,
                                                  std::string& ir) {
  for (int r = 0; large && r < 120; ++r)
    text += "rule pad" + std::to_string(r) + ": when pad and n > " + std::to_string(r) + " then push P\n";
  std::string why;
  std::shared_ptr<const qm::Program> program = CompileOrExplain(name, text, why);
  if (program == nullptr) {
    ADD_FAILURE() << why;
    return nullptr;
  }
  qm::jit::CompileStats stats;
  if (qm::jit::MakeJit(program->ir(), &why, &stats) == nullptr || stats.optimized == large) {
    ADD_FAILURE() << "not compiled as a " << (large ? "large" : "small") << " rule set: " << why;
    return nullptr;
  }
  ir = qm::jit::DumpIr(program->ir());
  return program;
}

// Text `=`, `!=`, `in`, `not in` against literals and `in` over enum members,
// on event fields and profile fields, in both shapes of code (jit_internal::Optimized): the same answers as the
// interpreter's, unset included (C5: an unset field is neither equal nor
// different, neither in nor not in). Small rule sets compare them inline
// (lengths, then bytes; integers), with no call to the shared comparison.
void CheckTextsAndLists(bool large) {
  std::string text =
      "enum 阶段 { 未购, 已购, 复购 }\n"
      "event v { ch: text, st: 阶段 }\nevent pad { n: int }\n"
      "event p { home: text, lv: 阶段, score: number }\n"
      "profile { home: text\n lv: 阶段\n score: number }\n"
      "rule load: when p then set home p.home, set lv p.lv, set score p.score\n"
      "rule ph: when v and home = 北京 then push PH\n"
      "rule pin: when v and home in (上海, 北京) then push PIN\n"
      "rule plv: when v and lv in (已购) then push PLV\n"
      "rule pscore: when v and score > 2 then push PSCORE\n"
      "rule eq: when v and ch = 抖音 then push EQ\n"
      "rule ne: when v and ch != 抖音 then push NE\n"
      "rule empty: when v and ch = \"\" then push EMPTY\n"
      "rule inlist: when v and ch in (抖音, 快手, \"\") then push IN\n"
      "rule outlist: when v and ch not in (抖音, 快手) then push OUT\n"
      "rule first: when v and st in (未购, 复购) then push FIRST\n"
      "rule notfirst: when v and st not in (未购) then push NOTFIRST\n";
  std::string ir;
  auto program = CompileInShape("inline.qm", text, large, ir);
  ASSERT_NE(program, nullptr);
  if (!large) {
    EXPECT_EQ(Count(ir, "call i32 @qm_rt_compare"), 0u) << ir;
    EXPECT_EQ(Count(ir, "call i32 @qm_rt_in"), 0u) << ir;
  }

  std::vector<std::string> lines = {
      R"({"type":"v","customer":"unset","ts":"2026-01-01T00:00:00Z"})",
      R"({"type":"v","customer":"empty","ts":"2026-01-01T00:00:01Z","ch":"","st":"未购"})",
      R"({"type":"v","customer":"same","ts":"2026-01-01T00:00:02Z","ch":"抖音","st":"已购"})",
      R"({"type":"v","customer":"longer","ts":"2026-01-01T00:00:03Z","ch":"抖音x","st":"复购"})",
      R"({"type":"v","customer":"shorter","ts":"2026-01-01T00:00:04Z","ch":"抖"})",
      R"({"type":"v","customer":"other","ts":"2026-01-01T00:00:05Z","ch":"快手"})",
      R"({"type":"v","customer":"samelength","ts":"2026-01-01T00:00:06Z","ch":"抖抖"})",
      R"({"type":"p","customer":"ploaded","ts":"2026-01-01T00:00:07Z","home":"北京","lv":"已购","score":2.5})",
      R"({"type":"v","customer":"ploaded","ts":"2026-01-01T00:00:08Z"})",
      R"({"type":"p","customer":"pother","ts":"2026-01-01T00:00:09Z","home":"北京市","lv":"未购","score":1.5})",
      R"({"type":"v","customer":"pother","ts":"2026-01-01T00:00:10Z"})",
  };
  std::string error;
  auto [interp, jit] = RunBothEngines(*program, lines, std::nullopt, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(jit.actions, interp.actions);
  auto pushed = [&](const std::string& customer, const std::string& target) {
    return jit.actions.find("\"customer\":\"" + customer + "\",\"rule\":\"" + target) != std::string::npos;
  };
  for (const char* rule : {"eq", "ne", "empty", "inlist", "outlist", "first", "notfirst", "ph", "pin", "plv", "pscore"})
    EXPECT_FALSE(pushed("unset", rule)) << rule << "\n" << jit.actions;
  // Profile fields, read in place.
  for (const char* rule : {"ph", "pin", "plv", "pscore"}) {
    EXPECT_TRUE(pushed("ploaded", rule)) << rule << "\n" << jit.actions;
    EXPECT_FALSE(pushed("pother", rule)) << rule << "\n" << jit.actions;
  }
  EXPECT_TRUE(pushed("empty", "empty") && pushed("empty", "inlist") && pushed("empty", "ne") && pushed("empty", "outlist"));
  EXPECT_TRUE(pushed("empty", "first") && !pushed("empty", "notfirst"));
  EXPECT_TRUE(pushed("same", "eq") && pushed("same", "inlist") && !pushed("same", "ne") && !pushed("same", "outlist"));
  EXPECT_TRUE(pushed("same", "notfirst") && !pushed("same", "first"));
  EXPECT_TRUE(pushed("longer", "ne") && pushed("longer", "outlist") && !pushed("longer", "eq") && !pushed("longer", "inlist"));
  EXPECT_TRUE(pushed("longer", "first"));
  EXPECT_TRUE(pushed("shorter", "ne") && !pushed("shorter", "inlist"));
  EXPECT_TRUE(pushed("other", "inlist") && !pushed("other", "outlist"));
  EXPECT_TRUE(pushed("samelength", "ne") && pushed("samelength", "outlist") && !pushed("samelength", "eq"));
}

TEST(JitCodegen, TextsAndListsCompareAsTheInterpreterDoesInSmallRuleSets) { CheckTextsAndLists(false); }
TEST(JitCodegen, TextsAndListsCompareAsTheInterpreterDoesInLargeRuleSets) { CheckTextsAndLists(true); }

// `contains` on event and profile texts, in both shapes of code: the same
// answers as the interpreter's (false when unset, true for "" when set). Small
// rule sets scan short texts inline and call the library's search only past
// 64 bytes; every boundary of the scan is here (the needle at the start, at
// the very end, running off the end, a false start just before a match, the
// needle longer than the text, the text exactly the needle).
void CheckContains(bool large) {
  std::string text =
      "event v { ch: text }\nevent pad { n: int }\nevent p { home: text }\nprofile { home: text }\n"
      "rule load: when p then set home p.home\n"
      "rule abc: when v and ch contains abc then push ABC\n"
      "rule wide: when v and ch contains \"音x\" then push WIDE\n"
      "rule one: when v and ch contains z then push ONE\n"
      "rule none: when v and ch contains \"\" then push NONE\n"
      "rule home: when v and home contains 京 then push HOME\n";
  std::string ir;
  auto program = CompileInShape("contains.qm", text, large, ir);
  ASSERT_NE(program, nullptr);
  if (!large) {
    EXPECT_EQ(Count(ir, "call i8 @qm_rt_contains"), 0u) << ir;
    EXPECT_EQ(Count(ir, "call i8 @qm_rt_text_contains"), 4u) << ir;  // not for "": a set text contains it
  }
  const std::string far(70, '.');  // past the inline scan
  std::vector<std::pair<std::string, std::string>> texts = {
      {"start", "abcd"}, {"end", "xxabc"}, {"exact", "abc"}, {"offend", "xxab"}, {"falsestart", "ababc"},
      {"shorter", "ab"}, {"empty", ""}, {"z", "z"}, {"wide", "抖音x"}, {"widepart", "抖音"},
      {"farend", far + "abc"}, {"farnone", far + "ab"}, {"farwide", far + "音x"}, {"farz", far + "z"}};
  std::vector<std::string> lines = {R"({"type":"v","customer":"unset","ts":"2026-01-01T00:00:00Z"})"};
  for (size_t k = 0; k < texts.size(); ++k) {
    std::string second = std::to_string(10 + k);
    lines.push_back(R"({"type":"v","customer":")" + texts[k].first + R"(","ts":"2026-01-01T00:00:)" + second +
                    R"(Z","ch":")" + texts[k].second + R"("})");
  }
  lines.push_back(R"({"type":"p","customer":"bj","ts":"2026-01-01T00:01:00Z","home":"北京市"})");
  lines.push_back(R"({"type":"v","customer":"bj","ts":"2026-01-01T00:01:01Z"})");
  lines.push_back(R"({"type":"p","customer":"sh","ts":"2026-01-01T00:01:02Z","home":"上海"})");
  lines.push_back(R"({"type":"v","customer":"sh","ts":"2026-01-01T00:01:03Z"})");
  std::string error;
  auto [interp, jit] = RunBothEngines(*program, lines, std::nullopt, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(jit.actions, interp.actions);
  auto pushed = [&](const std::string& customer, const std::string& rule) {
    return jit.actions.find("\"customer\":\"" + customer + "\",\"rule\":\"" + rule + "\"") != std::string::npos;
  };
  for (const char* rule : {"abc", "wide", "one", "none", "home"}) EXPECT_FALSE(pushed("unset", rule)) << rule;
  for (const char* customer : {"start", "end", "exact", "falsestart", "farend"}) EXPECT_TRUE(pushed(customer, "abc")) << customer;
  for (const char* customer : {"offend", "shorter", "empty", "farnone", "wide"}) EXPECT_FALSE(pushed(customer, "abc")) << customer;
  EXPECT_TRUE(pushed("wide", "wide") && pushed("farwide", "wide") && !pushed("widepart", "wide")) << jit.actions;
  EXPECT_TRUE(pushed("z", "one") && pushed("farz", "one") && !pushed("start", "one"));
  EXPECT_TRUE(pushed("empty", "none") && pushed("farz", "none"));
  EXPECT_TRUE(pushed("bj", "home") && !pushed("sh", "home"));
}

TEST(JitCodegen, ContainsAnswersAsTheInterpreterDoesInSmallRuleSets) { CheckContains(false); }
TEST(JitCodegen, ContainsAnswersAsTheInterpreterDoesInLargeRuleSets) { CheckContains(true); }

// A rule's operands after its first are read only when those before hold.
// What the second rule reads was also read past a branch of the first:
// were it reused there, the code would not verify (it would not dominate).
TEST(JitCodegen, LaterOperandsAreReadOnlyWhenTheFirstHolds) {
  std::string why;
  auto program = CompileOrExplain("short.qm",
                                  "event v { ch: text }\nevent b { n: int }\n"
                                  "profile { p: int = 0 }\ntag T \"t\"\n"
                                  "rule load: when b then set p b.n\n"
                                  "rule first: when v and ch = 抖音 and p > 3 and has T then push FIRST\n"
                                  "rule second: when v and p > 3 then push SECOND\n"
                                  "rule tagging: when b and b.n > 10 then tag T\n",
                                  why);
  ASSERT_NE(program, nullptr) << why;
  std::string ir = qm::jit::DumpIr(program->ir());
  EXPECT_NE(ir.find("and:"), std::string::npos) << ir;

  std::vector<std::string> lines = {
      R"({"type":"b","customer":"u1","ts":"2026-01-01T00:00:00Z","n":5})",
      R"({"type":"v","customer":"u1","ts":"2026-01-01T00:00:01Z","ch":"快手"})",
      R"({"type":"v","customer":"u1","ts":"2026-01-01T00:00:02Z","ch":"抖音"})",
      R"({"type":"b","customer":"u1","ts":"2026-01-01T00:00:03Z","n":11})",
      R"({"type":"v","customer":"u1","ts":"2026-01-01T00:00:04Z","ch":"抖音"})",
  };
  std::string error;
  auto [interp, jit] = RunBothEngines(*program, lines, std::nullopt, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(jit.actions, interp.actions);
  EXPECT_EQ(Count(jit.actions, "\"rule\":\"second\""), 1u) << jit.actions;  // pushes are once (A26)
  EXPECT_EQ(Count(jit.actions, "\"rule\":\"first\""), 1u) << jit.actions;
}

}  // namespace
