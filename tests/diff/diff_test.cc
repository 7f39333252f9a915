// Differential test: generated rule files and event streams run on the
// interpreter and the JIT must give identical actions, rejects and warnings;
// and a run that stops half way and continues its state directory under
// renamed names (D14) writes what one run writes, under the new names.
// QM_DIFF_CASES=N runs more cases (the suite runs 150); QM_DIFF_SEED picks
// the first seed.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <regex>

#include "compiler/value/value.h"
#include "gtest/gtest.h"
#include "qianmian/qianmian.hpp"
#include "runtime/shard/shard.h"
#include "tests/diff/generator.h"
#include "tests/support/engines.h"
#include "tests/support/files.h"

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

// What Shards writes for `lines` over `shards` threads, in batches of `batch`.
testing_internal::Outputs RunSharded(const Program& program, EngineKind kind, const std::vector<std::string>& lines,
                                     std::optional<int64_t> until, int64_t lateness_ms, int shards, size_t batch) {
  std::vector<shard::Shards::Part> parts;
  std::vector<std::unique_ptr<state::Store>> stores;
  for (int i = 0; i < shards; ++i) {
    std::string error;
    stores.push_back(state::MakeMemoryStore(program.ir()));
    parts.push_back({program.MakeEvaluator(kind, &error), stores.back().get()});
  }
  sink::StringSink sink;
  {
    shard::Shards sharded(program.ir(), std::move(parts), sink, engine::Options{.lateness_ms = lateness_ms}, {}, batch);
    for (const std::string& line : lines) sharded.Feed(line);
    sharded.EndOfInput();
    if (until) sharded.FireUntil(*until);
  }
  return {sink.actions, sink.rejects, sink.warnings};
}

// Customers split over threads write one engine's bytes: generated cases
// (out-of-order and late lines, --lateness, timers due before the latest
// line, cascades and their warnings) over 2 and 3 shards in batches small enough to cross
// many, both engines.
TEST(Differential, ThreadsWriteOneEnginesBytes) {
  int cases = EnvInt("QM_DIFF_CASES", 150);
  int run = 0, lines = 0;
  for (uint32_t s = static_cast<uint32_t>(EnvInt("QM_DIFF_SEED", 1)); run < cases; ++s) {
    difftest::Case c = difftest::Generator(s).Make();
    std::string why;
    auto program = testing_internal::CompileOrExplain("gen.qm", c.rules, why);
    if (!program || shard::WhyNotSharded(program->ir(), engine::Options{.lateness_ms = c.lateness_ms})) continue;
    std::optional<int64_t> until = c.until ? std::optional<int64_t>(c.until_ms) : std::nullopt;
    std::string error;
    auto one_engine = program->MakeEvaluator(EngineKind::kInterpreter, &error);
    testing_internal::Outputs one = testing_internal::RunLines(*program, *one_engine, c.lines, until, c.lateness_ms);
    const EngineKind kind = s % 2 ? EngineKind::kJit : EngineKind::kInterpreter;
    for (auto [shards, batch] : {std::pair{2, size_t{3}}, {3, size_t{7}}, {2, size_t{1000}}}) {
      testing_internal::Outputs split = RunSharded(*program, kind, c.lines, until, c.lateness_ms, shards, batch);
      std::string context = "seed " + std::to_string(s) + ", " + std::to_string(shards) + " shards, batches of " +
                            std::to_string(batch) + "\n" + c.rules;
      ASSERT_EQ(one.actions, split.actions) << context;
      ASSERT_EQ(one.rejects, split.rejects) << context;
      ASSERT_EQ(one.warnings, split.warnings) << context;
    }
    lines += static_cast<int>(c.lines.size());
    ++run;
  }
  std::printf("%d generated cases, %d lines, run on 2 and 3 shards\n", run, lines);
}

// Lines decoded ahead (Engine::Ahead, what `qm run` does to fetch each
// customer's state early) change nothing: generated cases, both engines,
// lines given ahead at random depths. Now and then the line processed is
// not the one given ahead for its place (another line of the case), which
// the engine must notice and decode instead.
TEST(Differential, LinesDecodedAheadWriteTheSameBytes) {
  int cases = EnvInt("QM_DIFF_CASES", 150);
  int run = 0, ahead = 0, replaced = 0;
  for (uint32_t s = static_cast<uint32_t>(EnvInt("QM_DIFF_SEED", 1)); run < cases; ++s) {
    difftest::Case c = difftest::Generator(s).Make();
    std::string why;
    auto program = testing_internal::CompileOrExplain("gen.qm", c.rules, why);
    if (!program || c.lines.empty()) continue;
    std::optional<int64_t> until = c.until ? std::optional<int64_t>(c.until_ms) : std::nullopt;
    std::mt19937 rng(s);
    std::vector<std::string> fed = c.lines;
    std::vector<bool> swapped(fed.size());
    for (size_t i = 0; i < fed.size(); ++i)
      if (rng() % 10 == 0) fed[i] = c.lines[rng() % c.lines.size()], swapped[i] = true, ++replaced;
    const EngineKind kind = s % 2 ? EngineKind::kJit : EngineKind::kInterpreter;
    std::string error;
    auto evaluator = program->MakeEvaluator(kind, &error);
    ASSERT_TRUE(evaluator) << error;
    testing_internal::Outputs plain = testing_internal::RunLines(*program, *evaluator, fed, until, c.lateness_ms);

    auto store = state::MakeMemoryStore(program->ir());
    sink::StringSink sink;
    engine::Engine engine(program->ir(), *evaluator, *store, sink, engine::Options{.lateness_ms = c.lateness_ms});
    size_t given = 0;  // lines given ahead so far
    for (size_t i = 0; i < fed.size(); ++i) {
      engine.ProcessLine(fed[i], static_cast<int64_t>(i + 1));
      given = std::max(given, i + 1);
      for (size_t k = rng() % 6; k > 0 && engine.AheadRoom() > 0 && given < fed.size(); --k, ++given, ++ahead)
        engine.Ahead(swapped[given] ? c.lines[given] : fed[given], static_cast<int64_t>(given + 1));
    }
    engine.ReleaseAll();
    if (until) engine.FireUntil(*until);
    std::string context = "seed " + std::to_string(s) + "\n" + c.rules;
    ASSERT_EQ(plain.actions, sink.actions) << context;
    ASSERT_EQ(plain.rejects, sink.rejects) << context;
    ASSERT_EQ(plain.warnings, sink.warnings) << context;
    ++run;
  }
  std::printf("%d generated cases, %d lines decoded ahead, %d lines replaced after\n", run, ahead, replaced);
  EXPECT_GT(ahead, replaced);
}

// Every occurrence of `from` in `text` replaced by `to`.
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// D14 across a resumed run: the first half of a generated stream runs with a
// state directory, then the rules rename tag t1 and target 券 and the run
// continues the directory with the second half. Its lines are one run's
// lines, with the new names from the renaming on (tag presence, push history
// and pending actions carried over); the engines alternate between the runs.
TEST(Differential, RenamesAcrossAResumedRun) {
  int cases = EnvInt("QM_DIFF_CASES", 150) / 3;
  int run = 0, renamed_lines = 0;
  std::filesystem::path work = testing_internal::TempDir("diff_test", "renames");
  for (uint32_t s = 1; run < cases; ++s) {
    difftest::Case c = difftest::Generator(s).Make();
    if (c.lateness_ms > 0) continue;  // each run releases what it holds at its end (D9): not one run
    std::string renamed = std::regex_replace(c.rules, std::regex("\\bt1\\b"), "t1新");
    renamed = std::regex_replace(renamed, std::regex("(push|invite) 券([ ,\n])"), "$1 优惠券$2");
    renamed = ReplaceAll(renamed, "for (券,", "for (优惠券,");
    if (renamed.find("push 优惠券") == std::string::npos && renamed.find("invite 优惠券") == std::string::npos) continue;
    renamed += "renamed tag t1 -> t1新\nrenamed target 券 -> 优惠券\n";
    qianmian::RuleSet before = qianmian::RuleSet::FromText("gen.qm", c.rules);
    qianmian::RuleSet after = qianmian::RuleSet::FromText("gen.qm", renamed);
    if (!before.ok()) continue;  // e.g. a cascade cycle (E0401)
    ASSERT_TRUE(after.ok()) << "seed " << s << "\n" << renamed;
    std::string why;
    auto program = testing_internal::CompileOrExplain("gen.qm", c.rules, why);
    ASSERT_TRUE(program) << why;
    std::string error;
    auto [whole, unused] = testing_internal::RunBothEngines(
        *program, c.lines, c.until ? std::optional<int64_t>(c.until_ms) : std::nullopt, error);
    ASSERT_TRUE(error.empty()) << error;

    std::filesystem::remove_all(work / "state");
    std::string actions;
    auto collect = [&](const qianmian::Batch& batch) {
      for (std::string_view line : batch.actions) actions.append(line).push_back('\n');
      return true;
    };
    qianmian::RunOptions options;
    options.state_dir = (work / "state").string();
    options.engine = run % 2 ? qianmian::Engine::kInterpreter : qianmian::Engine::kJit;
    size_t half = c.lines.size() / 2;
    {
      auto runner = qianmian::Runner::Create(before, options, collect, &error);
      ASSERT_TRUE(runner) << error;
      for (size_t i = 0; i < half; ++i) runner->Feed(c.lines[i]);
      ASSERT_TRUE(runner->Commit().status.ok());
    }
    size_t first = actions.size();
    ASSERT_EQ(actions, whole.actions.substr(0, first)) << "seed " << s;
    options.engine = run % 2 ? qianmian::Engine::kJit : qianmian::Engine::kInterpreter;
    auto runner = qianmian::Runner::Create(after, options, collect, &error);
    ASSERT_TRUE(runner) << "seed " << s << ": " << error;
    for (size_t i = half; i < c.lines.size(); ++i) runner->Feed(c.lines[i]);
    ASSERT_TRUE(runner->EndOfInput().ok());
    if (c.until) ASSERT_TRUE(runner->FireUntil(FormatTime(c.until_ms, 0)).ok());
    std::string expected = whole.actions.substr(first);
    expected = ReplaceAll(expected, "\"tag\":\"t1\"", "\"tag\":\"t1新\"");
    expected = ReplaceAll(expected, "\"target\":\"券\"", "\"target\":\"优惠券\"");
    ASSERT_EQ(actions.substr(first), expected) << "seed " << s << "\n" << renamed;
    renamed_lines += static_cast<int>(std::count(expected.begin(), expected.end(), '\n'));
    ++run;
  }
  std::filesystem::remove_all(work);
  std::printf("%d generated cases resumed under renamed names, %d lines after the renaming\n", run, renamed_lines);
  EXPECT_GT(renamed_lines, cases);
}

}  // namespace
}  // namespace qm
