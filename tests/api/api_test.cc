// The public API as an embedder uses it: the same actions as `qm run`, on
// both engines, and the C API over it.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "qianmian/qianmian.h"
#include "qianmian/qianmian.hpp"
#include "tests/support/files.h"

namespace {

namespace fs = std::filesystem;
using qm::testing_internal::Read;
using qm::testing_internal::TempDir;
using qm::testing_internal::Write;

TEST(Api, RunsAnExampleLikeQmRun) {
  fs::path dir = fs::path(QM_SOURCE_DIR) / "rules-examples" / "journey-cascade";
  auto rules = qianmian::RuleSet::FromFiles({(dir / "rules.qm").string()});
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules.rule_count(), 7u);
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    std::string actions, rejects;
    auto runner = qianmian::Runner::Create(rules, {engine, "+08:00"}, [&](std::string_view l) { (actions += l) += "\n"; },
        [&](std::string_view l) { (rejects += l) += "\n"; });
    ASSERT_NE(runner, nullptr);
    std::istringstream events(Read(dir / "events.jsonl"));
    for (std::string line; std::getline(events, line);) runner->Feed(line);
    EXPECT_EQ(actions, Read(dir / "expected.jsonl"));
    EXPECT_EQ(rejects, Read(dir / "expected_rejects.jsonl"));
  }
}

// D9 through the API: a Runner with `lateness` holds events until one that
// much later is fed, EndOfInput releases the rest; Stats counts suppressed
// attempts (A26) and pending timers.
TEST(Api, RunnerHoldsLateEventsUntilEndOfInput) {
  auto rules = qianmian::RuleSet::FromText(
      "r.qm", "event order { amount: money }\nwhen order then push 感谢, notify 客服 \"{amount}\", after 1d push 回访\n");
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    std::string actions, rejects;
    qianmian::RunOptions options{engine, "+08:00"};
    options.lateness = "2h";
    auto runner = qianmian::Runner::Create(rules, options, [&](std::string_view l) { (actions += l) += "\n"; },
        [&](std::string_view l) { (rejects += l) += "\n"; });
    ASSERT_NE(runner, nullptr);
    runner->Feed(R"({"type":"order","customer":"c1","ts":"2024-11-01T10:00:00+08:00","amount":2})");
    runner->Feed(R"({"type":"order","customer":"c1","ts":"2024-11-01T09:00:00+08:00","amount":1})");
    EXPECT_EQ(actions, "");  // both held: nothing 2 hours later yet
    runner->EndOfInput();
    EXPECT_EQ(actions,
              "{\"ts\":\"2024-11-01T09:00:00+08:00\",\"customer\":\"c1\",\"rule\":\"r.qm:2\",\"action\":\"push\",\"target\":\"感谢\"}\n"
              "{\"ts\":\"2024-11-01T09:00:00+08:00\",\"customer\":\"c1\",\"rule\":\"r.qm:2\",\"action\":\"notify\",\"target\":\"客服\",\"message\":\"1.00\"}\n"
              "{\"ts\":\"2024-11-01T10:00:00+08:00\",\"customer\":\"c1\",\"rule\":\"r.qm:2\",\"action\":\"notify\",\"target\":\"客服\",\"message\":\"2.00\"}\n");
    EXPECT_EQ(rejects, "");
    qianmian::Stats stats = runner->stats();
    EXPECT_EQ(stats.suppressed["once"], 1);
    EXPECT_EQ(stats.pending_timers, 2);
    EXPECT_EQ(stats.pending_deferred, 0);
  }
  qianmian::RunOptions bad;
  bad.lateness = "12h1d";
  auto refused = qianmian::Runner::Create(rules, bad, nullptr, nullptr);
  EXPECT_EQ(refused, nullptr);
  std::string why;
  EXPECT_EQ(qianmian::Runner::Create(rules, bad, nullptr, nullptr, &why), nullptr);
  EXPECT_NE(why.find("--lateness"), std::string::npos) << why;
}

// A step's lines start from the `{"ts":…,"customer":…` already at the front
// of the engine's line buffer; a reject line written over it in between
// must not leave its bytes there for the next step of the same customer
// and second (a host feeding lines one at a time decodes each into the
// same event, so the two steps name the customer alike).
TEST(Api, ARejectBetweenTwoStepsLeavesNoBytesInTheNextLine) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order { amount: money }\nwhen order then notify 客服 \"{amount}\"\n");
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    std::string actions, rejects;
    auto runner = qianmian::Runner::Create(rules, {engine, "+08:00"}, [&](std::string_view l) { (actions += l) += "\n"; },
        [&](std::string_view l) { (rejects += l) += "\n"; });
    ASSERT_NE(runner, nullptr);
    runner->Feed(R"({"type":"order","customer":"c1","ts":"2024-11-01T10:00:00+08:00","amount":1})");
    runner->Feed(R"({"type":"order","customer":"c1","ts":"2024-11-01T10:00:00+08:00","amount":"x"})");
    runner->Feed(R"({"type":"order","customer":"c1","ts":"2024-11-01T10:00:00+08:00","amount":2})");
    auto notify = [](const char* message) {
      return std::string("{\"ts\":\"2024-11-01T10:00:00+08:00\",\"customer\":\"c1\",\"rule\":\"r.qm:2\",") +
             "\"action\":\"notify\",\"target\":\"客服\",\"message\":\"" + message + "\"}\n";
    };
    EXPECT_EQ(actions, notify("1.00") + notify("2.00"));
    EXPECT_EQ(rejects, "{\"line\":2,\"customer\":\"c1\",\"reason\":\"wrong_type\",\"field\":\"amount\"}\n");
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
  auto runner = qianmian::Runner::Create(en, {}, nullptr, nullptr);
  EXPECT_EQ(runner, nullptr);  // broken rules: no Runner
}

TEST(Api, FiresTimersUntilATime) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order\nwhen order then after 1d push 提醒\n");
  ASSERT_TRUE(rules.ok());
  std::string actions;
  auto runner = qianmian::Runner::Create(rules, {}, [&](std::string_view l) { actions += l; }, nullptr);
  runner->Feed(R"({"type":"order","customer":"c","ts":"2024-01-01T00:00:00Z"})");
  EXPECT_FALSE(runner->FireUntil("not a time").ok());
  EXPECT_EQ(actions, "");
  EXPECT_TRUE(runner->FireUntil("2024-01-02T00:00:00Z").ok());
  EXPECT_EQ(actions, R"({"ts":"2024-01-02T08:00:00+08:00","customer":"c","rule":"r.qm:2","action":"push","target":"提醒"})");
}

TEST(Api, CountsWhatARunnerDid) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order\ntag t \"t\"\nwhen order then tag t, push 券\n");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules.error_count(), 0);
  EXPECT_EQ(rules.warning_count(), 0);
  auto runner = qianmian::Runner::Create(rules, {}, nullptr, nullptr);
  runner->Feed(R"({"type":"order","customer":"c","ts":0})");
  runner->Feed(R"({"type":"order","customer":"c","ts":1})");
  runner->Feed("{");
  qianmian::Stats stats = runner->stats();
  EXPECT_EQ(stats.lines, 3);
  EXPECT_EQ(stats.events, 2);
  EXPECT_EQ(stats.actions, (std::map<std::string, int64_t>{{"push", 1}, {"tag", 1}}));  // a push is sent once
  EXPECT_EQ(stats.rejects, (std::map<std::string, int64_t>{{"invalid_json", 1}}));
}

TEST(Api, ShowsACustomersState) {
  auto rules = qianmian::RuleSet::FromText(
      "r.qm", "enum 等级 { A, B }\nevent order { amount: money }\nprofile {\n  spend: money = 0\n  grade: 等级\n  note: text\n}\n"
              "tag 已购 \"买过\"\ntag VIP \"大客\"\nwhen order then tag 已购, add spend order.amount, set grade A\n");
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    auto runner = qianmian::Runner::Create(rules, {.engine = engine}, nullptr, nullptr);
    qianmian::CustomerView view;
    EXPECT_FALSE(runner->Customer("小雪", view));
    runner->Feed(R"({"type":"order","customer":"小雪","ts":"2024-01-01T00:00:00Z","amount":"12.5"})");
    runner->Feed(R"({"type":"order","customer":"老王","ts":"2024-01-01T00:00:00Z","amount":"很多"})");
    ASSERT_TRUE(runner->Customer("小雪", view));
    EXPECT_EQ(view.profile, (std::vector<std::pair<std::string, std::optional<std::string>>>{
                                {"spend", "12.50"}, {"grade", "A"}, {"note", std::nullopt}}));
    EXPECT_EQ(view.tags, std::vector<std::string>{"已购"});
    EXPECT_EQ(view.json.rfind(R"({"customer":"小雪","clock":"2024-01-01T08:00:00+08:00","profile":{"spend":12.50,"grade":"A","note":null},"tags":["已购"])", 0), 0u) << view.json;
    EXPECT_FALSE(runner->Customer("老王", view));  // a rejected event leaves no state
  }
}

// A durable run through the API, stopped after part of the stream and run
// again over all of it, writes what one run over all of it writes.
TEST(Api, RunStreamContinuesAStateDirectory) {
  fs::path dir = fs::path(QM_SOURCE_DIR) / "rules-examples" / "journey-cascade";
  fs::path work = TempDir("qm_api_test", "stream");
  auto rules = qianmian::RuleSet::FromFiles({(dir / "rules.qm").string()});
  ASSERT_TRUE(rules.ok());
  std::string events = Read(dir / "events.jsonl");
  size_t half = events.find('\n', events.size() / 2) + 1;
  Write(work / "events.jsonl", events.substr(0, half));
  qianmian::StreamOptions options;
  options.events = (work / "events.jsonl").string();
  options.out = (work / "actions.jsonl").string();
  options.rejects = (work / "rejects.jsonl").string();
  options.state_dir = (work / "state").string();
  options.engine = qianmian::Engine::kInterpreter;
  qianmian::StreamResult first = qianmian::RunStream(rules, options);
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_TRUE(first.finished);
  Write(work / "events.jsonl", events);
  std::vector<std::string> messages;
  options.engine = qianmian::Engine::kJit;
  qianmian::StreamResult second =
      qianmian::RunStream(rules, options, [&](std::string_view line) { messages.emplace_back(line); });
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(first.stats.lines + second.stats.lines, std::count(events.begin(), events.end(), '\n'));
  EXPECT_EQ(Read(work / "actions.jsonl"), Read(dir / "expected.jsonl"));
  EXPECT_EQ(Read(work / "rejects.jsonl"), Read(dir / "expected_rejects.jsonl"));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].rfind("qm run: continuing the state in", 0), 0u) << messages[0];

  std::string error;
  std::unique_ptr<qianmian::StateDirectory> state = qianmian::StateDirectory::Open(*options.state_dir, &error);
  ASSERT_TRUE(state) << error;
  qianmian::StateSummary summary;
  ASSERT_EQ(state->Summarize(summary), "");
  int64_t customers = 0;
  std::string first_line;
  EXPECT_EQ(state->ForEachCustomer("Z", [&](std::string_view line) {
    if (customers++ == 0) first_line = line;
  }), "");
  EXPECT_GT(customers, 0);
  EXPECT_EQ(summary.customers, customers);
  EXPECT_EQ(summary.input_lines, first.stats.lines + second.stats.lines);
  std::string id = first_line.substr(13, first_line.find('"', 13) - 13);  // {"customer":"ID",...
  std::string line;
  EXPECT_TRUE(state->Customer(id, "Z", line, error)) << error;
  EXPECT_EQ(line, first_line);
  EXPECT_FALSE(state->Customer("no such customer", "Z", line, error));
  EXPECT_EQ(error, "");
  state.reset();

  options.tz = "+09:00";  // a state is continued in the zone it was written in
  qianmian::StreamResult refused = qianmian::RunStream(rules, options);
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(refused.usage_error);
  EXPECT_NE(refused.error.find("give the same --tz"), std::string::npos) << refused.error;
  options.tz = "8";
  EXPECT_NE(qianmian::CheckStreamOptions(options), "");
  EXPECT_TRUE(qianmian::RunStream(rules, options).usage_error);
  fs::remove_all(work);
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

// Lines a C callback gets end in NUL at `length`, as C code expects.
void CollectChecked(void* user, const char* line, size_t length) {
  EXPECT_EQ(line[length], '\0');
  static_cast<std::string*>(user)->append(line).append("\n");
}

// A host whose messages carry their line numbers (`qm worker`): reject
// lines name them; rules that need every customer together say so.
TEST(CApi, NumbersLinesAsTheHostSaysAndTellsRulesThatCannotBeSplit) {
  qm_ruleset* rules = qm_ruleset_from_text("r.qm", "event order { amount: money }\nrule r: when order then push p\n",
                                           static_cast<size_t>(-1), "en");
  ASSERT_TRUE(qm_ruleset_ok(rules));
  EXPECT_EQ(qm_ruleset_why_not_partitioned(rules), nullptr);
  std::string out;
  qm_runner* runner = qm_runner_new(rules, "jit", "Z", Collect, Collect, &out, nullptr);
  ASSERT_NE(runner, nullptr);
  EXPECT_EQ(qm_runner_feed_numbered(runner, R"({"type":"order","customer":"c","ts":0,"amount":"x"})",
                                    static_cast<size_t>(-1), "seq-7", 1041),
            QM_REJECTED);
  EXPECT_EQ(qm_runner_feed(runner, "nope", 4), QM_REJECTED);
  EXPECT_EQ(out,
            "{\"line\":1041,\"customer\":\"c\",\"reason\":\"wrong_type\",\"field\":\"amount\"}\n"
            "{\"line\":1042,\"reason\":\"invalid_json\"}\n");
  qm_runner_free(runner);
  qm_ruleset_free(rules);

  qm_ruleset* merged = qm_ruleset_from_text(
      "r.qm", "event order { phone: text }\nidentity phone\nrule r: when order then push p\n", static_cast<size_t>(-1), "en");
  ASSERT_TRUE(qm_ruleset_ok(merged));
  char* why = qm_ruleset_why_not_partitioned(merged);
  ASSERT_NE(why, nullptr);
  EXPECT_STREQ(why, "identity merges need every customer in one place");
  qm_free_string(why);
  qm_ruleset_free(merged);
}

TEST(CApi, HoldsLateEventsAndSaysItsVersion) {
  EXPECT_STREQ(qm_version(), qianmian::Version());
  qm_ruleset* rules =
      qm_ruleset_from_text("r.qm", "event order\nrule 单: when order then tag t\ntag t \"t\"\n", static_cast<size_t>(-1), "en");
  ASSERT_TRUE(qm_ruleset_ok(rules));
  for (const char* engine : {"jit", "interp"}) {
    std::string out;
    char* error = nullptr;
    EXPECT_EQ(qm_runner_new_with_lateness(rules, engine, "Z", "often", CollectChecked, CollectChecked, &out, &error),
              nullptr);
    ASSERT_NE(error, nullptr);
    qm_free_string(error);
    error = nullptr;
    qm_runner* runner = qm_runner_new_with_lateness(rules, engine, "Z", "2h", CollectChecked, CollectChecked, &out, &error);
    ASSERT_NE(runner, nullptr) << (error ? error : "");
    // Out of order by one hour: held, then processed in time order; without lateness the first would be late.
    qm_runner_feed(runner, R"({"type":"order","customer":"a","ts":7200})", static_cast<size_t>(-1));
    qm_runner_feed(runner, R"({"type":"order","customer":"b","ts":3600})", static_cast<size_t>(-1));
    EXPECT_EQ(out, "");
    qm_runner_end_of_input(runner);
    EXPECT_EQ(out,
              "{\"ts\":\"1970-01-01T01:00:00+00:00\",\"customer\":\"b\",\"rule\":\"单\",\"action\":\"tag\",\"tag\":\"t\"}\n"
              "{\"ts\":\"1970-01-01T02:00:00+00:00\",\"customer\":\"a\",\"rule\":\"单\",\"action\":\"tag\",\"tag\":\"t\"}\n");
    qm_runner_free(runner);
  }
  qm_runner_end_of_input(nullptr);
  qm_ruleset_free(rules);
}

}  // namespace

TEST(Api, CoverageCountsWhatRunsExercised) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order { amount: money }\nrule big: when order and amount >= 500 then push 券\n");
  ASSERT_TRUE(rules.ok());
  qianmian::Coverage coverage(rules);
  auto missing = [&] {
    std::string out;
    for (const auto& i : coverage.Items()) if (!i.covered) out += i.rule + ": " + i.what + "\n";
    return out;
  };
  EXPECT_EQ(missing(), "big: never held\nbig: `amount >= 500` never true\nbig: `amount >= 500` never false\n");
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    auto runner = qianmian::Runner::Create(rules, {.engine = engine, .coverage = &coverage}, nullptr, nullptr);
    ASSERT_NE(runner, nullptr);
    runner->Feed(R"({"type":"order","customer":"c","ts":0,"amount":100})");
  }
  EXPECT_EQ(missing(), "big: never held\nbig: `amount >= 500` never true\n");
  auto runner = qianmian::Runner::Create(rules, {.coverage = &coverage}, nullptr, nullptr);
  runner->Feed(R"({"type":"order","customer":"c","ts":0,"amount":600})");
  EXPECT_EQ(missing(), "");
  // A Coverage belongs to one rule set.
  auto other = qianmian::RuleSet::FromText("r.qm", "event order\nwhen order then push x\n");
  auto wrong = qianmian::Runner::Create(other, {.coverage = &coverage}, nullptr, nullptr);
  EXPECT_EQ(wrong, nullptr);
}

TEST(Api, SetsAStartingProfile) {
  auto rules = qianmian::RuleSet::FromText(
      "r.qm", "enum 等级 { A, B }\nevent order { amount: money }\nprofile {\n  spend: money = 0\n  grade: 等级\n}\n"
              "tag VIP \"大客\"\nwhen order and spend >= 100 and has VIP then push 老客券\n");
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    std::string actions;
    auto runner = qianmian::Runner::Create(rules, {.engine = engine}, [&](std::string_view l) { actions += l; }, nullptr);
    EXPECT_NE(runner->SetProfile("c", {{"spend", "12.505"}}, {}), "");  // not money
    EXPECT_NE(runner->SetProfile("c", {{"grade", "C"}}, {}), "");
    EXPECT_NE(runner->SetProfile("c", {{"nope", "1"}}, {}), "");
    EXPECT_NE(runner->SetProfile("c", {}, {"nope"}), "");
    EXPECT_EQ(runner->SetProfile("c", {{"spend", "120.50"}, {"grade", "B"}}, {"VIP"}), "");
    runner->Feed(R"({"type":"order","customer":"c","ts":0,"amount":1})");
    EXPECT_NE(actions.find("老客券"), std::string::npos) << actions;
    qianmian::CustomerView view;
    ASSERT_TRUE(runner->Customer("c", view));
    EXPECT_EQ(view.profile[0].second, std::optional<std::string>("120.50"));
    EXPECT_EQ(view.profile[1].second, std::optional<std::string>("B"));
  }
}
