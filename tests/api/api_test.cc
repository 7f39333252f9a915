// The public API as an embedder uses it: the same actions as `qm run`, on
// both engines, and the C API over it.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "qianmian/qianmian.h"
#include "qianmian/qianmian.hpp"

namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Api, RunsAnExampleLikeQmRun) {
  fs::path dir = fs::path(QM_SOURCE_DIR) / "rules-examples" / "journey-cascade";
  auto rules = qianmian::RuleSet::FromFiles({(dir / "rules.qm").string()});
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules.rule_count(), 7u);
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    std::string actions, rejects;
    qianmian::Runner runner(
        rules, {engine, "+08:00"}, [&](std::string_view l) { (actions += l) += "\n"; },
        [&](std::string_view l) { (rejects += l) += "\n"; });
    ASSERT_EQ(runner.error(), "");
    std::istringstream events(Read(dir / "events.jsonl"));
    for (std::string line; std::getline(events, line);) runner.Feed(line);
    EXPECT_EQ(actions, Read(dir / "expected.jsonl"));
    EXPECT_EQ(rejects, Read(dir / "expected_rejects.jsonl"));
  }
}

TEST(Api, ReportsDiagnosticsInBothLanguages) {
  auto en = qianmian::RuleSet::FromText("r.qm", "event order\nwhen ordr then push x\n");
  ASSERT_FALSE(en.ok());
  ASSERT_EQ(en.diagnostics().size(), 1u);
  const qianmian::Diagnostic& d = en.diagnostics()[0];
  EXPECT_EQ(d.code, "E0101");
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 6);
  EXPECT_EQ(d.help, "did you mean `order`?");
  EXPECT_NE(d.rendered.find("r.qm:2:6: error[E0101]"), std::string::npos);
  auto zh = qianmian::RuleSet::FromText("r.qm", "event order\nwhen ordr then push x\n", qianmian::Language::kChinese);
  EXPECT_EQ(zh.diagnostics()[0].message, "未声明的事件类型 `ordr`");
  qianmian::Runner runner(en, {}, nullptr, nullptr);
  EXPECT_NE(runner.error(), "");
  runner.Feed("{}");  // does nothing, does not crash
}

TEST(Api, FiresTimersUntilATime) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order\nwhen order then after 1d push 提醒\n");
  ASSERT_TRUE(rules.ok());
  std::string actions;
  qianmian::Runner runner(rules, {}, [&](std::string_view l) { actions += l; }, nullptr);
  runner.Feed(R"({"type":"order","customer":"c","ts":"2024-01-01T00:00:00Z"})");
  EXPECT_FALSE(runner.FireUntil("not a time"));
  EXPECT_EQ(actions, "");
  EXPECT_TRUE(runner.FireUntil("2024-01-02T00:00:00Z"));
  EXPECT_EQ(actions, R"({"ts":"2024-01-02T08:00:00+08:00","customer":"c","rule":"r.qm:2","action":"push","target":"提醒"})");
}

extern "C" void Collect(void* user, const char* line, size_t length) {
  static_cast<std::string*>(user)->append(line, length).append("\n");
}

TEST(CApi, RunsAndReportsErrors) {
  const char* text = "event order { amount: money }\nrule 大单: when order and amount >= 500 then push 券\n";
  qm_ruleset* rules = qm_ruleset_from_text("r.qm", text, static_cast<size_t>(-1), "en");
  ASSERT_TRUE(qm_ruleset_ok(rules));
  std::string out;
  char* error = nullptr;
  qm_runner* runner = qm_runner_new(rules, "jit", "Z", Collect, Collect, &out, &error);
  ASSERT_NE(runner, nullptr) << (error ? error : "");
  qm_ruleset_free(rules);  // the runner keeps what it needs
  const char* line = R"({"type":"order","customer":"c","ts":0,"amount":"600.00"})";
  qm_runner_feed(runner, line, std::strlen(line));
  qm_runner_feed(runner, "nope", 4);
  qm_runner_free(runner);
  EXPECT_EQ(out,
            "{\"ts\":\"1970-01-01T00:00:00+00:00\",\"customer\":\"c\",\"rule\":\"大单\",\"action\":\"push\",\"target\":\"券\"}\n"
            "{\"line\":2,\"reason\":\"invalid_json\"}\n");

  qm_ruleset* bad = qm_ruleset_from_text("r.qm", "when x then push y", static_cast<size_t>(-1), "zh");
  EXPECT_FALSE(qm_ruleset_ok(bad));
  ASSERT_EQ(qm_ruleset_diagnostic_count(bad), 1u);
  EXPECT_NE(std::string(qm_ruleset_diagnostic_json(bad, 0)).find("\"code\":\"E0101\""), std::string::npos);
  EXPECT_EQ(qm_ruleset_diagnostic_json(bad, 1), nullptr);
  EXPECT_EQ(qm_runner_new(bad, "jit", nullptr, nullptr, nullptr, nullptr, &error), nullptr);
  ASSERT_NE(error, nullptr);
  qm_free_string(error);
  qm_ruleset_free(bad);
}

}  // namespace
