#include "compiler/diag/diag.h"

#include <regex>
#include <set>
#include <type_traits>

#include "compiler/value/value.h"
#include "gtest/gtest.h"

namespace qm {
namespace {

TEST(DiagRegistry, CodesAreWellFormedAndMessagesBilingual) {
  std::set<std::string_view> names;
  for (const DiagInfo& info : AllDiagKinds()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    ASSERT_EQ(info.code.size(), 5u) << info.name;
    EXPECT_EQ(info.code[0], info.severity == Severity::kError ? 'E' : 'W') << info.name;
    EXPECT_FALSE(info.en.empty());
    EXPECT_FALSE(info.zh.empty());
    EXPECT_NE(info.en.back(), '.') << "messages end without a period: " << info.name;
  }
}

TEST(DiagRender, CaretIsMeasuredInDisplayColumns) {
  Source src("r.qm", "when order and stage = 复购客户 then tag x\n");
  Diagnostics diags;
  int32_t begin = static_cast<int32_t>(std::string("when order and stage = ").size());
  int32_t end = begin + static_cast<int32_t>(std::string("复购客户").size());
  diags.Add(DiagKind::kUnknownMember, &src, {begin, end}, {"复购客户", "阶段"}).help =
      Help{HelpKind::kDidYouMean, {"复购"}};
  EXPECT_EQ(RenderText(diags.all()[0], Lang::kEn),
            "r.qm:1:24: error[E0103]: `复购客户` is not a member of enum `阶段`\n"
            "  |\n"
            "1 | when order and stage = 复购客户 then tag x\n"
            "  |                        ^^^^^^^^\n"
            "  = help: did you mean `复购`?\n");
  EXPECT_EQ(RenderJson(diags.all()[0], Lang::kZh),
            "{\"file\":\"r.qm\",\"line\":1,\"column\":24,\"end_line\":1,\"end_column\":28,"
            "\"severity\":\"error\",\"code\":\"E0103\",\"message\":\"`复购客户` 不是枚举 `阶段` 的成员\","
            "\"help\":\"你是不是想写 `复购`？\"}");
}

TEST(DiagRender, JsonEscapesControlCharacters) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\n\x01\u2028");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\u2028\"");
}

TEST(Diagnostics, SortsByFileThenPosition) {
  Source a("a.qm", "xxxxxxxx"), b("b.qm", "yyyy");
  Diagnostics diags;
  diags.Add(DiagKind::kUnknownTag, &b, {1, 2}, {"t"});
  diags.Add(DiagKind::kUnknownTag, &a, {5, 6}, {"t"});
  diags.Add(DiagKind::kUnusedTag, &a, {1, 2}, {"t"});
  diags.SortBy({&a, &b});
  EXPECT_EQ(diags.all()[0].span.begin, 1);
  EXPECT_EQ(diags.all()[0].source, &a);
  EXPECT_EQ(diags.all()[2].source, &b);
  EXPECT_EQ(diags.error_count(), 2);
  EXPECT_EQ(diags.warning_count(), 1);
}

// Diagnostic arguments are typed by their kind's message: a call with one
// too few or too many does not compile, and a kind chosen at run time with a
// missing argument shows the placeholder instead of dropping it.
static_assert(ArgCount(DiagKind::kCannotSet) == 4);
static_assert(ArgCount(DiagKind::kUnknownTag) == 1);
static_assert(ArgCount(HelpKind::kDidYouMean) == 1);
static_assert(std::is_constructible_v<DiagArgs<2>, std::string, std::string>);
static_assert(!std::is_constructible_v<DiagArgs<2>, std::string>);
static_assert(!std::is_constructible_v<DiagArgs<1>, std::string, std::string>);

TEST(Diagnostics, EveryKindsMessagesTakeTheSameArgumentsInBothLanguages) {
  for (const DiagInfo& info : AllDiagKinds())
    EXPECT_EQ(PlaceholderCount(info.en), PlaceholderCount(info.zh)) << info.name;
}

// Chinese may leave out an English-only argument (a plural ending), never
// use one English does not take; and every failure is said in both.
TEST(Errors, EveryKindIsBilingualWithTheSameArguments) {
  for (const ErrorInfo& info : AllErrorKinds()) {
    for (char k = '0'; k <= '9'; ++k) {
      std::string placeholder = {'{', k, '}'};
      if (info.zh.find(placeholder) != std::string_view::npos)
        EXPECT_NE(info.en.find(placeholder), std::string_view::npos) << info.name << " " << placeholder;
    }
    EXPECT_FALSE(info.en.empty()) << info.name;
    if (info.name != "Other") EXPECT_NE(info.en, info.zh) << info.name;
  }
  Error e = Error::Of<ErrorKind::kCannotWrite>({"out.jsonl", "No space left on device"});
  EXPECT_EQ(e.Message(Lang::kEn), "cannot write `out.jsonl`: No space left on device");
  EXPECT_EQ(e.Message(Lang::kZh), "无法写入 `out.jsonl`：No space left on device");
  static_assert(ArgCount(ErrorKind::kCannotWrite) == 2);
}

TEST(Diagnostics, AMissingArgumentShows) {
  Source a("a.qm", "x");
  Diagnostics diags;
  diags.Add(DiagKind::kTypeMismatch, &a, {0, 1}, {"x", "int"});  // needs 4
  EXPECT_EQ(diags.all()[0].Message(Lang::kEn), "cannot compare `x` (int) with `{2}` ({3})");
  diags.Add<DiagKind::kUnknownTag>(&a, {0, 1}, {"t"});
  EXPECT_EQ(diags.all()[1].Message(Lang::kEn), "unknown tag `t`");
}

}  // namespace
}  // namespace qm

namespace qm {
namespace {

// Every message in Chinese is Chinese (issue 12: "此处应为 the end of the
// item"): after taking out what is quoted in backticks, placeholders,
// options and a few names that stay as they are, no English word is left.
TEST(Words, EveryChineseMessageIsChinese) {
  static const std::set<std::string> kKept = {"qm",    "JSON", "Lines", "RFC",   "UTF",  "LLVM", "IR",   "JIT",
                                              "CI",    "JUnit", "XML",  "state", "show", "stats", "text", "json",
                                              "junit", "zh",   "en",   "jit",   "interp", "both", "true", "id",
                                              "D4",    "D5",   "A18",  "A35",   "Z",    "tz",
                                              // the language's own words and types, commands, formats
                                              "int", "money", "number", "bool", "time", "duration", "where", "count",
                                              "sum", "min", "max", "avg", "since", "hour", "weekday", "day", "month",
                                              "run", "diff", "fmt", "explain", "check", "HH", "MM", "RocksDB", "FIFO", "NATS", "JetStream"};
  auto check = [&](std::string_view name, std::string_view zh) {
    std::string text(zh);
    // Quoted code, placeholders and options are not words of a language.
    text = std::regex_replace(text, std::regex("`[^`]*`"), " ");
    text = std::regex_replace(text, std::regex("\\{[0-9]\\}"), " ");
    text = std::regex_replace(text, std::regex("--?[a-z-]+"), " ");
    text = std::regex_replace(text, std::regex("[A-Za-z_.]+\\.(qm|jsonl)"), " ");  // file names
    text = std::regex_replace(text, std::regex("v[0-9]+(\\.[0-9]+)*"), " ");       // versions
    text = std::regex_replace(text, std::regex("[EW][0-9]{4}"), " ");
    std::smatch m;
    std::string rest = text;
    while (std::regex_search(rest, m, std::regex("[A-Za-z][A-Za-z0-9]*"))) {
      EXPECT_TRUE(kKept.count(m.str())) << name << ": `" << m.str() << "` in: " << zh;
      rest = m.suffix();
    }
  };
  for (const DiagInfo& d : AllDiagKinds()) check(d.name, d.zh);
  for (const ErrorInfo& e : AllErrorKinds()) check(e.name, e.zh);
}

}  // namespace
}  // namespace qm
