#include "compiler/parse/parse.h"

#include "gtest/gtest.h"

namespace qm {
namespace {

struct ParseCase {
  std::string src;
  std::string ast;       // ast::DebugString, when the parse is clean
  std::string error_code = "";  // else the first diagnostic's code
};

class ParseTest : public testing::TestWithParam<ParseCase> {};

TEST_P(ParseTest, BuildsTheExpectedTree) {
  const ParseCase& c = GetParam();
  Source src("t.qm", c.src);
  Diagnostics diags;
  ast::RuleFile file = parse::Parse(src, diags);
  if (c.error_code.empty()) {
    ASSERT_TRUE(diags.all().empty()) << RenderText(diags.all()[0], Lang::kEn);
    EXPECT_EQ(ast::DebugString(file), c.ast);
  } else {
    ASSERT_FALSE(diags.all().empty());
    EXPECT_EQ(InfoOf(diags.all()[0].kind).code, c.error_code) << RenderText(diags.all()[0], Lang::kEn);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, ParseTest,
    testing::Values(
        // A1: fields separated by commas or whitespace, trailing comma allowed.
        ParseCase{.src = "enum 阶段 { 未购, 已购 复购, }\nprofile { stage: 阶段 = 未购 score: int = 0, }",
                  .ast = "enum 阶段 {未购 已购 复购}\nprofile {stage: 阶段 = 未购, score: int = 0}\n"},
        ParseCase{.src = "event reply\nevent order { amount: money, grade: enum { S, A } }",
                  .ast = "event reply {}\nevent order {amount: money, grade: enum{S A}}\n"},
        // A4: strings take \" \\ \n \t escapes.
        ParseCase{.src = "tag 高意向 \"点击\\\"雷达\\\"\"", .ast = "tag 高意向 \"点击\\\"雷达\\\"\"\n"},
        // The contract's design-card rule, named and unnamed.
        ParseCase{.src = "rule 首购:\n  when order and stage = 未购\n  then set stage 已购, tag 已购, push VIP群",
                  .ast = "rule 首购: when order if (= stage 未购) then set stage 已购, tag 已购, push VIP群\n"},
        ParseCase{.src = "when order and stage=未购 then set stage 已购, push VIP群",
                  .ast = "rule _: when order if (= stage 未购) then set stage 已购, push VIP群\n"},
        // A12: everything after the first `and` is one condition; not > and > or.
        ParseCase{.src = "when order and a = 1 or not b = 2 and c then tag x",
                  .ast = "rule _: when order if (or (= a 1) (and (not (= b 2)) (bool c))) then tag x\n"},
        // B10: `not x in` is not (x in ...); `x not in` is its own form.
        ParseCase{.src = "when order and not ch in (天猫, 京东) and ch not in (a) then tag x",
                  .ast = "rule _: when order if (and (not (in ch 天猫 京东)) (not-in ch a)) then tag x\n"},
        // B1: `where` is a name except right after the aggregated type.
        ParseCase{.src = "when order and count(order where where = 1 within 7d) >= 2 then tag x",
                  .ast = "rule _: when order if (>= count(order where (= where 1) within 7d) 2) then tag x\n"},
        ParseCase{.src = "when no order for 30d and since(order) > 30d and since(profile.t) < 1h then tag x",
                  .ast = "rule _: when no order for 30d if (and (> since(order) 30d) (< since(profile.t) 1h)) then tag x\n"},
        ParseCase{.src = "when tagged 高意向 then after 3d push 复购提醒 every 7d unless order, notify 销售 \"高意向\"",
                  .ast = "rule _: when tagged 高意向 then after 3d push 复购提醒 every 7d unless order, notify 销售 \"高意向\"\n"},
        ParseCase{.src = "when stage becomes 复购 then add score -5, set vip_since ts, untag 未购",
                  .ast = "rule _: when stage becomes 复购 then add score -5, set vip_since ts, untag 未购\n"},
        // A2: CJK identifiers; A3: digit-led names; A6: `#` starts a comment anywhere.
        ParseCase{.src = "when order and x = 618大促 then tag VIP#1 comment",
                  .ast = "rule _: when order if (= x 618大促) then tag VIP\n"},
        ParseCase{.src = "\xEF\xBB\xBFimport \"schema.qm\" // BOM skipped", .ast = "import \"schema.qm\"\n"},
        // D3, E3: compound durations in decreasing unit order; `12h1d` stays a name;
        // `-` negates the whole literal.
        ParseCase{.src = "when order and since(order) > 1d12h and x = 12h1d and since(order) > -2h30m then tag x",
                  .ast = "rule _: when order if (and (> since(order) 1d12h) (= x 12h1d) (> since(order) -2h30m)) then tag x\n"},
        ParseCase{.src = "when no order for 1h0m30s then after 2d12h push x every 1d1s", 
                  .ast = "rule _: when no order for 1h0m30s then after 2d12h push x every 1d1s\n"},
        // D15, E23: quoted tag names wherever a tag is named.
        ParseCase{.src = "tag \"来源-天猫\" \"d\"\nwhen tagged \"来源-天猫\" and has \"a b\" then untag \"a/b\", tag c",
                  .ast = "tag \"来源-天猫\" \"d\"\nrule _: when tagged \"来源-天猫\" if (has \"a b\") then untag \"a/b\", tag c\n"},
        // Errors.
        ParseCase{.src = "when order then tag \"\"", .error_code = "E0008"},
        ParseCase{.src = "when order and a > 1000000000d1s then tag x", .error_code = "E0007"},
        ParseCase{.src = "when order and then tag x", .error_code = "E0002"},
        ParseCase{.src = "when order and true then tag x", .error_code = "E0002"},  // B9
        ParseCase{.src = "when order and count(order within 7d where a = 1) > 1 then tag x", .error_code = "E0002"},
        ParseCase{.src = "when order and a = 1，b = 2 then tag x", .error_code = "E0003"},
        ParseCase{.src = "when order and a = 1 then tag x @", .error_code = "E0004"},
        ParseCase{.src = "tag x \"open", .error_code = "E0005"},
        ParseCase{.src = "tag x \"bad \\q\"", .error_code = "E0006"},
        ParseCase{.src = "when order and a > 1000000001d then tag x", .error_code = "E0007"},
        ParseCase{.src = "tag count \"keywords are reserved\"", .error_code = "E0002"},
        ParseCase{.src = "x \xff", .error_code = "E0001"}));

TEST(Parse, NestingLimitIs64) {
  auto nested = [](int depth) {
    return "when order and " + std::string(depth, '(') + "a = 1" + std::string(depth, ')') + " then tag x";
  };
  for (int depth : {64, 65, 10000}) {
    Source src("t.qm", nested(depth));
    Diagnostics diags;
    parse::Parse(src, diags);
    if (depth <= 64) {
      EXPECT_TRUE(diags.all().empty()) << depth;
    } else {
      ASSERT_EQ(diags.all().size(), 1u) << depth;
      EXPECT_EQ(diags.all()[0].kind, DiagKind::kNestingTooDeep);
    }
  }
  std::string nots = "when order and ";
  for (int i = 0; i < 10000; ++i) nots += "not ";
  Source src("t.qm", nots + "a = 1 then tag x");
  Diagnostics diags;
  parse::Parse(src, diags);
  ASSERT_EQ(diags.all().size(), 1u);
  EXPECT_EQ(diags.all()[0].kind, DiagKind::kNestingTooDeep);
}

// B5: a `where` counts as one level: `count(E where` + 63 parentheses is the deepest accepted.
TEST(Parse, WhereCountsAsANestingLevel) {
  auto where = [](int parens) {
    return "when order and count(order where " + std::string(parens, '(') + "a = 1" + std::string(parens, ')') +
           ") > 1 then tag x";
  };
  for (int parens : {63, 64}) {
    Source src("t.qm", where(parens));
    Diagnostics diags;
    parse::Parse(src, diags);
    EXPECT_EQ(diags.error_count(), parens == 63 ? 0 : 1) << parens;
  }
}

TEST(Parse, EachBrokenRuleReportsOneErrorAndTheRestStillParse) {
  std::string text;
  for (int i = 0; i < 5; ++i) text += "rule r" + std::to_string(i) + ": when order and a = = 1 then tag x\n";
  text += "rule good: when order then tag x\n";
  Source src("t.qm", text);
  Diagnostics diags;
  ast::RuleFile file = parse::Parse(src, diags);
  EXPECT_EQ(diags.error_count(), 5);
  ASSERT_EQ(file.items.size(), 1u);
  EXPECT_EQ(ast::DebugString(file), "rule good: when order then tag x\n");
}

}  // namespace
}  // namespace qm
