#include "compiler/check/check.h"

#include "compiler/driver/driver.h"
#include "gtest/gtest.h"

namespace qm {
namespace {

const char kSchema[] = R"(
enum 阶段 { 陌生, 潜在, 意向, 未购, 已购, 复购, VIP }
event order { amount: money, product: text, channel: text, qty: int, gift: bool }
event click { link: text }
profile {
  stage: 阶段 = 未购
  score: int = 0
  total: money
  ratio: number
  city: text
  会员: bool
  vip_since: time
}
tag 高意向 "high intent"
tag 已购 "bought"
)";

struct CheckCase {
  std::string rules;
  std::string code;       // expected first diagnostic code ("" = clean)
  std::string contains;   // substring of its English message
};

class CheckTest : public testing::TestWithParam<CheckCase> {};

TEST_P(CheckTest, ReportsTheExpectedDiagnostic) {
  const CheckCase& c = GetParam();
  auto comp = driver::CompileText("t.qm", kSchema + c.rules);
  std::vector<const Diagnostic*> relevant;
  for (const Diagnostic& d : comp->diags.all()) {
    // Unused-declaration warnings depend on which rules exist; ignore them here.
    if (InfoOf(d.kind).code != "W0004") relevant.push_back(&d);
  }
  if (c.code.empty()) {
    EXPECT_TRUE(relevant.empty()) << RenderText(*relevant[0], Lang::kEn);
    EXPECT_TRUE(comp->program.has_value());
    return;
  }
  ASSERT_FALSE(relevant.empty()) << c.rules;
  EXPECT_EQ(InfoOf(relevant[0]->kind).code, c.code) << RenderText(*relevant[0], Lang::kEn);
  EXPECT_NE(relevant[0]->Message(Lang::kEn).find(c.contains), std::string::npos)
      << RenderText(*relevant[0], Lang::kEn);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, CheckTest,
    testing::Values(
        CheckCase{"rule a: when order and stage = 未购 then set stage 已购, tag 已购, push VIP群", ""},
        CheckCase{"rule a: when order and amount >= 500 and channel in (天猫, 京东) then tag 高意向", ""},
        CheckCase{"rule a: when order and order.amount > 99.995 then add total amount", ""},  // A15
        CheckCase{"rule a: when order and 会员 and not gift then set vip_since ts", ""},    // C6
        CheckCase{"rule a: when click and link contains \"商品A\" then add score 1", ""},
        CheckCase{"rule a: when order and count(order where product = A within 7d) = 0 then tag 已购", ""},
        CheckCase{"rule a: when order and stage >= 意向 and since(order) > 30d then add ratio amount", ""},
        CheckCase{"rule a: when no order for 60d and since(vip_since) > 1d then set stage 陌生", ""},
        CheckCase{"rule a: when order then set city channel, set stage VIP, add total 1", ""},  // A24 int->money
        CheckCase{"rule a: when order then after 30d push 复购提醒 every 7d unless order", ""},
        // Names.
        CheckCase{"rule a: when ordr then tag 已购", "E0101", "unknown event type `ordr`"},
        CheckCase{"rule a: when order and stage = 复购客户 then tag 已购", "E0103", "not a member"},
        CheckCase{"rule a: when order and amont > 1 then tag 已购", "E0102", "unknown name `amont`"},
        CheckCase{"rule a: when order then tag 已够", "E0104", "unknown tag"},
        CheckCase{"rule a: when click and order.amount > 1 then tag 已购", "E0106", "`order.amount`"},
        CheckCase{"rule a: when any and amount > 1 then tag 已购", "E0102", "no triggering event"},
        CheckCase{"rule a: when order and count(order where city = x) > 1 then tag 已购", "E0102", "where"},
        // Types.
        CheckCase{"rule a: when order and amount >= \"abc\" then tag 已购", "E0201", "money"},
        CheckCase{"rule a: when order and product > x then tag 已购", "E0202", "`>`"},
        CheckCase{"rule a: when order and 5 < score then tag 已购", "E0203", "left side"},
        CheckCase{"rule a: when order and score then tag 已购", "E0201", "not `bool`"},
        CheckCase{"rule a: when order and count(order where has 已购) > 1 then tag 已购", "E0201", "has"},
        CheckCase{"rule a: when order and sum(any.amount) > 1 then tag 已购", "E0201", "any"},
        CheckCase{"rule a: when order and since(city) > 1d then tag 已购", "E0201", "`text`"},
        CheckCase{"rule a: when order then set score amount", "E0204", "cannot set"},
        CheckCase{"rule a: when order then set total 1.005", "E0205", "2 decimals"},
        CheckCase{"rule a: when order and count(order within 0s) > 1 then tag 已购", "E0206", "positive"},  // A46
        CheckCase{"rule a: when order and since(order) > 0s then tag 已购", ""},  // A46: 0s in comparisons
        // A8: each inline enum is its own type; members are scoped by their enum (and may be tags).
        CheckCase{"rule a: when order and stage = 已购 then tag 已购", ""},
        CheckCase{"rule a: when order then set amount 1", "E0204", "not a profile field"},
        CheckCase{"rule a: when order then set stage 复购, set score 1.5", "E0201", "`1.5`"},
        // Declarations and cascades.
        CheckCase{"rule a: when order then tag 已购\nrule a: when click then tag 已购", "E0301", "`a`"},
        CheckCase{"rule a: when tagged 已购 then untag 高意向\nrule b: when untagged 高意向 then tag 已购", "E0401",
                  "`a` → `b` → `a`"},
        CheckCase{"rule a: when score becomes 5 then add score 1", "E0401", "`a` → `a`"},  // A31
        // Warnings.
        CheckCase{"rule a: when order and stage = 未购 and stage = 已购 then tag 已购", "W0001", "contradicts"},
        CheckCase{"rule a: when order and score > 5 and score < 3 then tag 已购", "W0001", "contradicts"},
        CheckCase{"rule a: when order and has 已购 and not has 已购 then tag 高意向", "W0001", "contradicts"},
        CheckCase{"rule a: when tagged 高意向 then tag 已购", "W0002", "tagged 高意向"},
        CheckCase{"rule a: when order then set stage 已购\nrule b: when any then set stage 复购", "W0003", "`stage`"},
        CheckCase{"rule a: when order and score = 1 or score = 2 then tag 已购", "W0006", "`or`"}));

TEST(Check, SharesEqualAggregates) {
  auto comp = driver::CompileText(
      "t.qm", std::string(kSchema) +
                  "rule a: when order and count(order within 7d) > 1 then tag 已购\n"
                  "rule b: when order and count(order within 168h) > 2 then tag 高意向\n"
                  "rule c: when order and count(order) > 2 then set stage 复购\n");
  ASSERT_TRUE(comp->program) << RenderText(comp->diags.all()[0], Lang::kEn);
  EXPECT_EQ(comp->program->aggregates.size(), 2u);  // 7d and 168h are one window
}

TEST(Check, UnnamedRulesAreNamedByFileAndLine) {
  auto comp = driver::CompileText("dir/rules.qm", std::string(kSchema) + "\nwhen order then tag 已购\n");
  ASSERT_TRUE(comp->program);
  EXPECT_EQ(comp->program->rules[0].name, "rules.qm:17");  // A10: basename
}

TEST(Check, FiveBadRulesReportFiveErrors) {
  std::string rules;
  for (int i = 0; i < 5; ++i) rules += "rule r" + std::to_string(i) + ": when order and nope" + std::to_string(i) + " = 1 then tag 已购\n";
  auto comp = driver::CompileText("t.qm", kSchema + rules);
  EXPECT_EQ(comp->diags.error_count(), 5);
}

TEST(Check, AProgramKeepsDefaultsAndTypes) {
  auto comp = driver::CompileText("t.qm", std::string(kSchema) + "rule a: when order then add score qty, add total amount, set 会员 true, set city x\n");
  ASSERT_TRUE(comp->program);
  const check::Program& p = *comp->program;
  const check::FieldInfo& stage = p.profile[p.FindProfileField("stage")];
  ASSERT_TRUE(stage.default_value);
  EXPECT_EQ(p.Spell(*stage.default_value), "未购");
  EXPECT_EQ(p.TypeName(stage.type), "阶段");
  EXPECT_EQ(p.rules[0].actions.size(), 4u);
  EXPECT_EQ(p.rules[0].actions[0].value.kind, check::ActionValue::Kind::kEventField);
}

}  // namespace
}  // namespace qm

namespace qm {
namespace {

TEST(Check, InlineEnumsAreDistinctTypes) {  // A8
  auto comp = driver::CompileText("t.qm",
                                  "event e { a: enum { X, Y }, b: enum { X, Y } }\n"
                                  "rule r: when e and a = b then push p\n");
  ASSERT_TRUE(comp->diags.has_errors());
  EXPECT_EQ(InfoOf(comp->diags.all()[0].kind).code, "E0201");
}

}  // namespace
}  // namespace qm

namespace qm::check {
namespace {

// The editor's index (check::Index): every use of every kind of name, where
// the checker resolved it, also in a file with an error elsewhere.
TEST(CheckIndex, EveryUseOfEveryKindOfName) {
  const std::string text =
      "enum 等级 { 普通, 金卡, 黑卡 }\n"
      "event order { amount: money, level: 等级 }\n"
      "event visit { page: text }\n"
      "profile { grade: 等级 = 普通, spend: money = 0, seen: time, mood: enum { 好, 坏 } }\n"
      "tag 高意向 \"多次浏览\"\n"
      "tag 新 \"改名后的标签\"\n"
      "tag \"VIP / 重点\" \"引号里的名字（D15）\"\n"
      "renamed tag 旧 -> 新\n"
      "renamed member 等级.银卡 -> 等级.金卡\n"
      "rule a: when order and order.amount > 100 and level in (金卡, 黑卡) and grade = \"普通\" then set grade 金卡, "
      "add spend amount, tag 高意向\n"
      "rule b: when visit and count(order where amount > 1 within 7d) >= 2 and since(visit) > 1d and "
      "since(profile.seen) > 1h and sum(order.amount) > 0 and mood = 好 then untag 新\n"
      "rule c: when tagged 高意向 and has 新 then after 1d push 顾问 unless visit\n"
      "rule d: when grade becomes 黑卡 and not has \"VIP / 重点\" then tag 新\n"
      "rule e: when order and nope > 1 then tag 新\n";  // an error: the index is still built
  auto comp = driver::CompileText("t.qm", text);
  ASSERT_FALSE(comp->program);
  const Index& index = comp->index;
  auto uses = [&](SymbolKind kind, const std::string& name, const std::string& container = "") {
    std::vector<std::string> out;
    for (size_t s = 0; s < index.symbols.size(); ++s) {
      const Symbol& sym = index.symbols[s];
      if (sym.kind != kind || sym.name != name || (!container.empty() && sym.container != container)) continue;
      for (const Use& u : index.uses)
        if (u.symbol == static_cast<int32_t>(s)) out.push_back(text.substr(u.span.begin, u.span.end - u.span.begin));
      return out;
    }
    ADD_FAILURE() << "no symbol " << name;
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(uses(SymbolKind::kEvent, "order"), (V{"order", "order", "order", "order", "order"}));
  EXPECT_EQ(uses(SymbolKind::kEvent, "visit"), (V{"visit", "visit", "visit"}));
  EXPECT_EQ(uses(SymbolKind::kEventField, "amount", "order"), (V{"amount", "amount", "amount", "amount"}));
  EXPECT_EQ(uses(SymbolKind::kEventField, "level", "order"), (V{"level"}));
  EXPECT_EQ(uses(SymbolKind::kProfileField, "grade"), (V{"grade", "grade", "grade"}));
  EXPECT_EQ(uses(SymbolKind::kProfileField, "seen"), (V{"seen"}));
  EXPECT_EQ(uses(SymbolKind::kEnum, "等级"), (V{"等级", "等级", "等级", "等级"}));
  EXPECT_EQ(uses(SymbolKind::kMember, "金卡", "等级"), (V{"金卡", "金卡", "金卡"}));
  EXPECT_EQ(uses(SymbolKind::kMember, "普通", "等级"), (V{"普通", "普通"}));  // the default, and a quoted one
  EXPECT_EQ(uses(SymbolKind::kMember, "好", "mood"), (V{"好"}));               // an inline enum's member
  EXPECT_EQ(uses(SymbolKind::kTag, "高意向"), (V{"高意向", "高意向"}));
  EXPECT_EQ(uses(SymbolKind::kTag, "新"), (V{"新", "新", "新", "新", "新"}));
  EXPECT_EQ(uses(SymbolKind::kTag, "VIP / 重点"), (V{"VIP / 重点"}));  // inside the quotes, as declared
  for (const Symbol& s : index.symbols)
    if (s.name == "VIP / 重点") EXPECT_EQ(text.substr(s.span.begin, s.span.end - s.span.begin), "VIP / 重点");
  const Symbol* grade = nullptr;
  for (const Symbol& s : index.symbols)
    if (s.name == "grade") grade = &s;
  ASSERT_NE(grade, nullptr);
  EXPECT_EQ(grade->type, "等级");
  EXPECT_EQ(grade->default_value, "普通");
  EXPECT_EQ(text.substr(grade->span.begin, grade->span.end - grade->span.begin), "grade");
}

}  // namespace
}  // namespace qm::check
