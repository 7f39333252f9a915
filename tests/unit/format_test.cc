// `qm fmt`'s layout (docs/tooling.md), and its two promises checked over the
// fuzz seed corpus (every rule file of the golden tests, examples, run cases
// and fuzz regressions) and over generated rule sets: formatting twice gives
// what formatting once gives, and formatting never changes the program (the
// same tree, fingerprint, and diagnostics on the same lines).
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "compiler/driver/driver.h"
#include "compiler/format/format.h"
#include "compiler/parse/parse.h"
#include "compiler/program/program.h"
#include "gtest/gtest.h"
#include "tests/diff/generator.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> Fmt(const std::string& name, const std::string& text) {
  Source source(name, text);
  Diagnostics diags;
  return format::Format(source, diags);
}

std::string Tree(const std::string& name, const std::string& text) {
  Source source(name, text);
  Diagnostics diags;
  return ast::DebugString(parse::Parse(source, diags));
}

// Each diagnostic's code and line, full-width punctuation aside (formatting
// replaces it).
std::string Findings(const Compiled& c) {
  std::string out;
  for (const Diagnostic& d : c.compilation->diags.all()) {
    if (d.kind == DiagKind::kFullWidthPunctuation) continue;
    out += std::string(InfoOf(d.kind).code);
    if (d.source != nullptr) out += ":" + std::to_string(d.source->Locate(d.span.begin).line);
    out += "\n";
  }
  return out;
}

// Checks both promises for `text`; returns whether it could be formatted.
bool ExpectFormatKeepsMeaning(const std::string& name, const std::string& text) {
  std::optional<std::string> once = Fmt(name, text);
  if (!once) return false;
  std::optional<std::string> twice = Fmt(name, *once);
  EXPECT_TRUE(twice.has_value()) << name << "\n" << *once;
  if (!twice) return true;
  EXPECT_EQ(*twice, *once) << name << ": formatting is not idempotent";
  EXPECT_EQ(Tree(name, *once), Tree(name, text)) << name << ": formatting changed the tree\n" << *once;
  Compiled before = CompileText(name, text), after = CompileText(name, *once);
  bool full_width = false;  // errors that formatting fixes: the checker only runs after
  for (const Diagnostic& d : before.compilation->diags.all()) full_width |= d.kind == DiagKind::kFullWidthPunctuation;
  if (full_width) return true;
  EXPECT_EQ(Findings(after), Findings(before)) << name << "\n" << *once;
  EXPECT_EQ(before.program != nullptr, after.program != nullptr) << name;
  if (before.program && after.program) {
    EXPECT_EQ(after.program->ir().fingerprint, before.program->ir().fingerprint) << name << "\n" << *once;
  }
  return true;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Format, KeepsMeaningOverTheFuzzCorpus) {
  int files = 0, formatted = 0;
  for (const char* dir : {"tests/check", "rules-examples", "tests/run", "tests/fuzz/regressions", "tests/rules"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(QM_SOURCE_DIR) / dir)) {
      if (e.path().extension() != ".qm") continue;
      ++files;
      formatted += ExpectFormatKeepsMeaning(e.path().string(), Read(e.path()));
    }
  }
  EXPECT_GT(files, 70);
  EXPECT_GT(formatted, files / 2);  // the rest have syntax errors, on purpose
}

// Generated rule sets, formatted as written and with the blanks between
// tokens scrambled: both give the same text (the layout is canonical), and
// the program does not change.
TEST(Format, KeepsMeaningOverGeneratedRuleSetsAndIsCanonical) {
  std::mt19937 rng(7);
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    difftest::Case c = difftest::Generator(seed).Make();
    ASSERT_TRUE(ExpectFormatKeepsMeaning("gen.qm", c.rules)) << c.rules;
    std::string scrambled;
    bool in_string = false;
    for (char ch : c.rules) {
      if (ch == '"') in_string = !in_string;
      if (ch == ' ' && !in_string) {
        static const char* kBlanks[] = {" ", "  ", "\t", " \t  "};
        scrambled += kBlanks[rng() % 4];
      } else {
        scrambled += ch;
      }
    }
    EXPECT_EQ(Fmt("gen.qm", scrambled), Fmt("gen.qm", c.rules)) << scrambled;
  }
}

TEST(Format, CanonicalLayout) {
  const std::string messy =
      "\xEF\xBB\xBF# 头注释\n"
      "\n"
      "enum 阶段 {陌生 潜在,意向,}\n"
      "event order{amount:money,product :text}   # 订单\n"
      "profile {\n"
      "   stage : 阶段 = 陌生,   score: int = 0  // 分数\n"
      "  level: enum{ A B }\n"
      "}\n"
      "tag  已购   \"买过\"\n"
      "tag \"满 100\" \xE2\x80\x9C满百\xE2\x80\x9D\n"
      "rule 首购\xEF\xBC\x9A\n"
      "when order and stage\xEF\xBC\x9D陌生 and count\xEF\xBC\x88order within 7d\xEF\xBC\x89>=1  # 条件\n"
      "   # 中间注释\n"
      "       then set stage 意向 ,tag 已购,   # 一\n"
      "  push \"SOP-{product}\"   # 二\n"
      "when no order for 30d then tag \"满 100\"\n"
      "cap push 2 per 7d for ( A , \"B\" )\n"
      "quiet push 22:00-08:00 drop\n"
      "zone +08:00\n"
      "when order and hour ( ts ) >= 22 and since( order )>1d then tag 已购\n"
      "\n\n\n";
  const std::string canonical =
      "# 头注释\n"
      "\n"
      "enum 阶段 { 陌生, 潜在, 意向 }\n"
      "event order { amount: money, product: text }  # 订单\n"
      "profile {\n"
      "  stage: 阶段 = 陌生, score: int = 0  // 分数\n"
      "  level: enum { A, B }\n"
      "}\n"
      "tag 已购 \"买过\"\n"
      "tag \"满 100\" \"满百\"\n"
      "rule 首购:\n"
      "  when order and stage = 陌生 and count(order within 7d) >= 1  # 条件\n"
      "  # 中间注释\n"
      "  then set stage 意向, tag 已购,  # 一\n"
      "    push \"SOP-{product}\"          # 二\n"
      "when no order for 30d then tag \"满 100\"\n"
      "cap push 2 per 7d for (A, \"B\")\n"
      "quiet push 22:00-08:00 drop\n"
      "zone +08:00\n"
      "when order and hour(ts) >= 22 and since(order) > 1d then tag 已购\n";
  EXPECT_EQ(Fmt("x.qm", messy), canonical);
  EXPECT_TRUE(ExpectFormatKeepsMeaning("x.qm", messy));
}

TEST(Format, RefusesSyntaxErrorsButNotFullWidthPunctuation) {
  EXPECT_FALSE(Fmt("x.qm", "event order\nwhen order then tag").has_value());
  EXPECT_FALSE(Fmt("x.qm", "event order\nwhen order then push \"open").has_value());
  EXPECT_FALSE(Fmt("x.qm", "event order ★\n").has_value());
  EXPECT_FALSE(Fmt("x.qm", "tag a \xE2\x80\x9Cunclosed\n").has_value());  // a lone curly quote: meaning unsure
  EXPECT_EQ(Fmt("x.qm", "event order\xEF\xBC\x88\n"), std::nullopt);  // `（` where no `(` fits is still an error
  EXPECT_EQ(Fmt("x.qm", "event order { a: int\xEF\xBC\x8C b: text }"), "event order { a: int, b: text }\n");
  // A curly-quoted string holding a `"` or `\` stays as it is: ASCII quotes would change it.
  EXPECT_EQ(Fmt("x.qm", "tag a  \u201C说\"好\u201D"), "tag a \u201C说\"好\u201D\n");
  EXPECT_EQ(Fmt("x.qm", ""), "");
  EXPECT_EQ(Fmt("x.qm", "# only a comment   \n\n"), "# only a comment\n");
}

// An unnamed rule is named by its line (A10): formatting keeps every line,
// so output naming `x.qm:3` still does.
TEST(Format, KeepsTheLinesThatNameUnnamedRules) {
  std::string text = "event order\n\n\n\nwhen order then tag a\ntag a \"d\"\n";
  std::optional<std::string> formatted = Fmt("x.qm", text);
  ASSERT_TRUE(formatted);
  EXPECT_EQ(*formatted, text);
  Compiled c = CompileText("x.qm", *formatted);
  ASSERT_TRUE(c.program);
  EXPECT_EQ(c.program->ir().checked.rules[0].name, "x.qm:5");
}

}  // namespace
}  // namespace qm

namespace qm {
namespace {

std::string FingerprintOf(const std::string& text) {
  Compiled c = CompileText("f.qm", text);
  EXPECT_TRUE(c.program) << text;
  return c.program ? c.program->ir().fingerprint : "";
}

// The fingerprint keys the JIT's code cache: layout must not change it, and
// any change of meaning must, or a rule set would run another's code.
TEST(Fingerprint, FollowsMeaningNotLayout) {
  const std::string head = "event order { amount: money }\ntag a \"d\"\ntag b \"d\"\ntag \"a, tag b\" \"d\"\n";
  EXPECT_EQ(FingerprintOf(head + "rule r: when order and amount >= 1 then tag a  # x\n"),
            FingerprintOf(head + "rule r:\n  when order   and amount>=1\n  then tag a\n"));
  std::set<std::string> distinct;
  for (const char* rule : {
           "rule r: when order and amount >= 1 then tag a",
           "rule r: when order and amount >= 2 then tag a",
           "rule r: when order and amount > 1 then tag a",
           "rule r: when order and not amount >= 1 then tag a",
           "rule r: when order then tag a, tag b",
           "rule r: when order then tag \"a, tag b\"",
           "rule r: when order then push a, tag b",
           "rule r: when order then push \"a, tag b\"",
           "rule r: when order then push \"x\"",
           "rule r: when order then push x",
           "rule r: when order then push x every 7d",
           "rule r: when order then notify a \"m\"",
           "rule r: when order then notify a \"m\\\"\"",
           "rule r: when order and count(order within 7d) >= 1 then tag a",
           "rule r: when order and count(order within this week) >= 1 then tag a",
           "rule r: when order and count(order where amount > 1) >= 1 then tag a",
           "rule r: when order then after 1d tag a unless order",
           "rule r: when order then after 1d tag a unless order where amount > 1",
           "rule q: when order and amount >= 1 then tag a",
       })
    EXPECT_TRUE(distinct.insert(FingerprintOf(head + rule + "\n")).second) << rule;
}

}  // namespace
}  // namespace qm
