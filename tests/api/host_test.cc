// The host contract of docs/embedding.md, as a service relies on it: a
// failed delivery takes its call back exactly, calls from inside a delivery
// are refused, Feed says what became of each line, time never goes back, a
// durable Runner resumes from the position it committed (in process, and the
// example host killed at random moments), and Forget leaves no trace in
// memory or in the state directory's files.
#include <filesystem>
#include <random>
#include <sstream>
#include <stdexcept>

#include <rocksdb/sst_file_reader.h>

#include "gtest/gtest.h"
#include "qianmian/qianmian.hpp"
#include "tests/support/files.h"
#include "tests/support/qm_process.h"

namespace {

namespace fs = std::filesystem;
using qm::testing_internal::Read;
using qm::testing_internal::Write;

fs::path TempDir(const std::string& name) { return qm::testing_internal::TempDir("qm_host_test", name); }

constexpr qianmian::Engine kEngines[] = {qianmian::Engine::kJit, qianmian::Engine::kInterpreter};

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// An example folder: its rules, events and the options its `args` give.
struct Example {
  fs::path rules, events;
  std::string until, lateness;
  std::vector<std::string> args;
  std::vector<std::string> host_args;  // the example host's own (`--evict-idle`)
};

Example Load(const std::string& dir) {
  fs::path d = fs::path(QM_SOURCE_DIR) / dir;
  Example e{d / "rules.qm", d / "events.jsonl", "", "", {}, {}};
  if (fs::exists(d / "args")) e.args = Words(Read(d / "args"));
  for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
    if (e.args[i] == "--until") e.until = e.args[i + 1];
    if (e.args[i] == "--lateness") e.lateness = e.args[i + 1];
  }
  return e;
}

const char* const kExamples[] = {"rules-examples/journey-cascade", "rules-examples/churn",
                                 "rules-examples/repurchase-reminder", "rules-examples/sop-caps",
                                 "rules-examples/late-feeds", "tests/run/a32_a33_timer_order",
                                 "tests/run/d4_d5_d6_e6_caps_quiet_placeholders", "tests/run/d9_e8_lateness",
                                 "tests/run/d10_e22_count_distinct", "tests/run/a30_cascade_limit",
                                 "tests/run/a33_a35_rearmed_timers"};

struct Delivered {
  std::string actions, rejects;
  void Take(const qianmian::Batch& batch) {
    for (std::string_view l : batch.actions) (actions += l) += '\n';
    for (std::string_view l : batch.rejects) (rejects += l) += '\n';
  }
};

// What an uninterrupted in-memory Runner delivers for an example.
Delivered Reference(const qianmian::RuleSet& rules, const Example& e, qianmian::Engine engine) {
  Delivered out;
  auto runner = qianmian::Runner::Create(rules, {.engine = engine, .lateness = e.lateness},
                                         [&](const qianmian::Batch& b) { return out.Take(b), true; });
  EXPECT_NE(runner, nullptr);
  for (const std::string& line : Lines(Read(e.events))) runner->Feed(line);
  EXPECT_TRUE(runner->EndOfInput().ok());
  if (!e.until.empty()) {
    EXPECT_TRUE(runner->FireUntil(e.until).ok());
  }
  return out;
}

// A delivery that fails about two calls in five, by returning false or by
// throwing, and every call retried until it goes through, delivers exactly
// what a delivery that never fails does; the counts agree too.
// A taken-back call counts nothing in what the state directory tallies for
// `qm report` either: rules fired, actions, suppressed attempts.
TEST(HostContract, TakenBackCallsAreNotTallied) {
  for (const char* dir : {"rules-examples/sop-caps", "rules-examples/journey-cascade", "tests/run/a30_cascade_limit"}) {
    Example e = Load(dir);
    qianmian::RuleSet rules = qianmian::RuleSet::FromFiles({e.rules.string()});
    ASSERT_TRUE(rules.ok()) << dir;
    auto summary_of = [&](const fs::path& state, bool failing) {
      fs::remove_all(state);
      std::mt19937 rng(11);
      auto runner = qianmian::Runner::Create(rules, {.lateness = e.lateness, .state_dir = state.string()},
                                             [&](const qianmian::Batch&) { return !failing || rng() % 3 != 0; });
      EXPECT_NE(runner, nullptr);
      auto retry = [&](auto call) {
        for (int attempt = 0; attempt < 100 && !call().ok(); ++attempt) {}
      };
      for (const std::string& line : Lines(Read(e.events))) retry([&] { return runner->Feed(line).status; });
      retry([&] { return runner->EndOfInput(); });
      if (!e.until.empty()) retry([&] { return runner->FireUntil(e.until); });
      EXPECT_TRUE(runner->Commit().status.ok());
      runner.reset();
      std::string error;
      auto directory = qianmian::StateDirectory::Open(state.string(), &error);
      qianmian::StateSummary summary;
      EXPECT_NE(directory, nullptr) << error;
      if (directory) EXPECT_EQ(directory->Summarize(summary), "");
      return summary;
    };
    fs::path work = TempDir("tallies");
    qianmian::StateSummary plain = summary_of(work / "plain", false), failing = summary_of(work / "failing", true);
    EXPECT_FALSE(plain.rules_fired.empty()) << dir;
    EXPECT_EQ(failing.rules_fired, plain.rules_fired) << dir;
    EXPECT_EQ(failing.actions, plain.actions) << dir;
    EXPECT_EQ(failing.suppressed, plain.suppressed) << dir;
    fs::remove_all(work);
  }
}

TEST(HostContract, FailedDeliveriesAreTakenBackExactly) {
  for (const char* dir : kExamples) {
    Example e = Load(dir);
    qianmian::RuleSet rules = qianmian::RuleSet::FromFiles({e.rules.string()});
    ASSERT_TRUE(rules.ok()) << dir;
    for (qianmian::Engine engine : kEngines) {
      Delivered expected = Reference(rules, e, engine);
      ASSERT_EQ(expected.actions, Read(fs::path(QM_SOURCE_DIR) / dir / "expected.jsonl")) << dir;
      std::mt19937 rng(7);
      Delivered got;
      int failures = 0;
      auto runner = qianmian::Runner::Create(rules, {.engine = engine, .lateness = e.lateness},
                                             [&](const qianmian::Batch& b) {
                                               switch (rng() % 5) {
                                                 case 0: ++failures; return false;
                                                 case 1: ++failures; throw std::runtime_error("queue full");
                                                 default: got.Take(b); return true;
                                               }
                                             });
      ASSERT_NE(runner, nullptr);
      auto retry = [&](auto call) {
        for (int attempt = 0;; ++attempt) {
          ASSERT_LT(attempt, 100);
          qianmian::Status s = call();
          if (s.ok()) return;
          EXPECT_NE(s.error.find("the call was taken back"), std::string::npos) << s.error;
        }
      };
      for (const std::string& line : Lines(Read(e.events)))
        retry([&] { return runner->Feed(line).status; });
      retry([&] { return runner->EndOfInput(); });
      if (!e.until.empty()) retry([&] { return runner->FireUntil(e.until); });
      EXPECT_EQ(got.actions, expected.actions) << dir;
      EXPECT_EQ(got.rejects, expected.rejects) << dir;
      EXPECT_GT(failures, 0) << dir;
      qianmian::Stats stats = runner->stats();
      EXPECT_EQ(stats.failed_deliveries, failures);
      // The counts are those of one run: a taken-back call counts nothing.
      auto plain = qianmian::Runner::Create(rules, {.engine = engine, .lateness = e.lateness}, nullptr, nullptr);
      for (const std::string& line : Lines(Read(e.events))) plain->Feed(line);
      plain->EndOfInput();
      if (!e.until.empty()) plain->FireUntil(e.until);
      qianmian::Stats once = plain->stats();
      EXPECT_EQ(stats.lines, once.lines);
      EXPECT_EQ(stats.events, once.events);
      EXPECT_EQ(stats.timer_steps, once.timer_steps);
      EXPECT_EQ(stats.actions, once.actions);
      EXPECT_EQ(stats.rejects, once.rejects);
      EXPECT_EQ(stats.suppressed, once.suppressed);
      EXPECT_EQ(stats.pending_timers, once.pending_timers);
      EXPECT_EQ(stats.customers, once.customers);
    }
  }
}

TEST(HostContract, CallsFromInsideADeliveryAreRefused) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event visit\nwhen visit then push 欢迎\n");
  ASSERT_TRUE(rules.ok());
  qianmian::Runner* self = nullptr;
  std::vector<std::string> inner;
  auto runner = qianmian::Runner::Create(rules, {}, [&](const qianmian::Batch&) {
    inner.push_back(self->Feed(R"({"type":"visit","customer":"b","ts":2})").status.error);
    inner.push_back(self->FireUntil("2024-01-01T00:00:00Z").error);
    inner.push_back(self->EndOfInput().error);
    inner.push_back(self->Commit().status.error);
    return true;
  });
  ASSERT_NE(runner, nullptr);
  self = runner.get();
  qianmian::FeedResult outer = runner->Feed(R"({"type":"visit","customer":"a","ts":1})");
  EXPECT_TRUE(outer.ok()) << outer.status.error;
  EXPECT_EQ(outer.outcome, qianmian::FeedResult::Outcome::kAccepted);
  ASSERT_EQ(inner.size(), 4u);
  for (const std::string& why : inner)
    EXPECT_EQ(why, "a `Runner` was called from inside its own delivery: return from the delivery first");
  EXPECT_EQ(runner->stats().events, 1);        // the inner Feed did nothing
}

TEST(HostContract, FeedSaysWhatBecameOfEachLine) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order { amount: money }\nwhen order then push 谢谢\n");
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : kEngines) {
    auto runner = qianmian::Runner::Create(rules, {.engine = engine}, nullptr, nullptr);
    using O = qianmian::FeedResult::Outcome;
    auto feed = [&](const std::string& line) { return runner->Feed(line); };
    EXPECT_EQ(feed(R"({"type":"order","customer":"c1","ts":100,"amount":1})").outcome, O::kAccepted);
    EXPECT_EQ(feed("   ").outcome, O::kBlank);
    qianmian::FeedResult bad = feed("{");
    EXPECT_EQ(bad.outcome, O::kRejected);
    EXPECT_EQ(bad.reason, "invalid_json");
    EXPECT_EQ(bad.customer, "");
    qianmian::FeedResult wrong = feed(R"({"type":"order","customer":"c2","ts":100,"amount":"很多"})");
    EXPECT_EQ(wrong.outcome, O::kRejected);
    EXPECT_EQ(wrong.reason, "wrong_type");
    EXPECT_EQ(wrong.field, "amount");
    EXPECT_EQ(wrong.customer, "c2");
    qianmian::FeedResult late = feed(R"({"type":"order","customer":"c1","ts":50,"amount":1})");
    EXPECT_EQ(late.outcome, O::kRejected);
    EXPECT_EQ(late.reason, "late");
    EXPECT_EQ(late.field, "ts");
    EXPECT_EQ(late.customer, "c1");
    EXPECT_TRUE(late.ok());  // a rejected line is handled, not a failed call

    auto held = qianmian::Runner::Create(rules, {.engine = engine, .lateness = "1h"}, nullptr, nullptr);
    EXPECT_EQ(held->Feed(R"({"type":"order","customer":"c1","ts":100,"amount":1})").outcome, O::kHeld);
  }
}

TEST(HostContract, TimersNeverGoBack) {
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order\nwhen order then after 1d push 回访\n");
  auto runner = qianmian::Runner::Create(rules, {}, nullptr, nullptr);
  EXPECT_TRUE(runner->FireUntil("2024-03-02T00:00:00Z").ok());
  qianmian::Status back = runner->FireUntil("2024-03-01T00:00:00Z");
  EXPECT_EQ(back.error,
            "timers already fired up to 2024-03-02T08:00:00+08:00: firing up to 2024-03-01T08:00:00+08:00 would go "
            "back in time");
  EXPECT_TRUE(runner->FireUntil("2024-03-02T00:00:00Z").ok());
  EXPECT_EQ(runner->FireUntil("soon").error, "not a time: `soon` (an RFC 3339 time or epoch seconds)");
  auto zh = qianmian::RuleSet::FromText("r.qm", "event order\nwhen order then after 1d push 回访\n",
                                        qianmian::Language::kChinese);
  auto runner_zh = qianmian::Runner::Create(zh, {}, nullptr, nullptr);
  EXPECT_TRUE(runner_zh->FireUntil("2024-03-02T00:00:00Z").ok());
  EXPECT_EQ(runner_zh->FireUntil("2024-03-01T00:00:00Z").error,
            "定时器已经触发到 2024-03-02T08:00:00+08:00：触发到 2024-03-01T08:00:00+08:00 会让时间倒退");
}

// In process: a durable Runner commits after some lines, feeds more without
// committing and is dropped (a crash); the next one resumes from the
// committed position, on the other engine, and the lines delivered up to the
// commit plus those after equal one uninterrupted run's.
TEST(DurableApi, ResumesFromTheCommittedPosition) {
  for (const char* dir : kExamples) {
    Example e = Load(dir);
    qianmian::RuleSet rules = qianmian::RuleSet::FromFiles({e.rules.string()});
    Delivered expected = Reference(rules, e, qianmian::Engine::kJit);
    std::vector<std::string> lines = Lines(Read(e.events));
    for (size_t cut : {size_t{0}, lines.size() / 3, lines.size() / 2}) {
      fs::path work = TempDir("resume");
      qianmian::RunOptions options{.lateness = e.lateness, .state_dir = (work / "state").string()};
      Delivered first, committed;
      {
        auto runner = qianmian::Runner::Create(rules, options, [&](const qianmian::Batch& b) { return first.Take(b), true; });
        ASSERT_NE(runner, nullptr);
        EXPECT_EQ(runner->committed_position(), std::nullopt);
        for (size_t i = 0; i < cut; ++i) runner->Feed(lines[i], std::to_string(i + 1));
        qianmian::Runner::Committed c = runner->Commit();
        ASSERT_TRUE(c.status.ok()) << c.status.error;
        EXPECT_EQ(c.position, cut == 0 ? "" : std::to_string(cut));
        committed = first;
        // Fed after the commit: lost with the crash, delivered again after the restart.
        for (size_t i = cut; i < lines.size() && i < cut + 5; ++i) runner->Feed(lines[i], std::to_string(i + 1));
      }
      options.engine = qianmian::Engine::kInterpreter;
      Delivered second;
      auto runner = qianmian::Runner::Create(rules, options, [&](const qianmian::Batch& b) { return second.Take(b), true; });
      ASSERT_NE(runner, nullptr);
      ASSERT_TRUE(runner->committed_position().has_value());
      size_t from = runner->committed_position()->empty() ? 0 : std::stoul(*runner->committed_position());
      EXPECT_EQ(from, cut);
      for (size_t i = from; i < lines.size(); ++i) runner->Feed(lines[i], std::to_string(i + 1));
      runner->EndOfInput();
      if (!e.until.empty()) runner->FireUntil(e.until);
      ASSERT_TRUE(runner->Commit().status.ok());
      EXPECT_TRUE(committed.actions + second.actions == expected.actions) << dir << " cut at " << cut;
      EXPECT_TRUE(committed.rejects + second.rejects == expected.rejects) << dir << " cut at " << cut;
      runner.reset();
      fs::remove_all(work);
    }
  }
}

TEST(DurableApi, RefusesWhatItCannotContinue) {
  fs::path work = TempDir("refuse");
  auto rules = qianmian::RuleSet::FromText("r.qm", "event order { amount: money }\nprofile { spend: money = 0 }\n"
                                                   "when order then add spend order.amount\n");
  std::string state = (work / "state").string();
  {
    auto runner = qianmian::Runner::Create(rules, {.state_dir = state}, nullptr, nullptr);
    runner->Feed(R"({"type":"order","customer":"c","ts":1,"amount":2})", "1");
    ASSERT_TRUE(runner->Commit().status.ok());
    std::string busy;
    EXPECT_EQ(qianmian::Runner::Create(rules, {.state_dir = state}, nullptr, nullptr, &busy), nullptr);
    EXPECT_EQ(busy, "state directory `" + state + "` is in use by another `Runner` of this process");
  }
  std::string why;
  auto retyped = qianmian::RuleSet::FromText("r.qm", "event order { amount: money }\nprofile { spend: text }\n"
                                                     "when order then set spend \"x\"\n");
  EXPECT_EQ(qianmian::Runner::Create(retyped, {.state_dir = state}, nullptr, nullptr, &why), nullptr);
  EXPECT_NE(why.find("E0501"), std::string::npos) << why;
  EXPECT_EQ(qianmian::Runner::Create(rules, {.tz = "Z", .state_dir = state}, nullptr, nullptr, &why), nullptr);
  EXPECT_NE(why.find("+08:00"), std::string::npos) << why;
  auto memory = qianmian::Runner::Create(rules, {}, nullptr, nullptr);
  EXPECT_EQ(memory->Commit().status.error,
            "`Commit` needs a `Runner` with a state directory (`RunOptions::state_dir`)");
  // `qm run --state` and a service keep positions of their own: neither takes the other's directory.
  fs::path events = work / "events.jsonl";
  Write(events, "{\"type\":\"order\",\"customer\":\"c\",\"ts\":5,\"amount\":1}\n");
  Write(work / "rules.qm", "event order { amount: money }\nprofile { spend: money = 0 }\n"
                           "when order then add spend order.amount\n");
  qm::testing_internal::Exit run = qm::testing_internal::RunQm(
      {"run", (work / "rules.qm").string(), "--events", events.string(), "--out", (work / "a").string(), "--rejects",
       (work / "r").string(), "--state", state});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("is kept by a service through the API"), std::string::npos) << run.err;
  std::string by_run = (work / "by_run").string();
  run = qm::testing_internal::RunQm({"run", (work / "rules.qm").string(), "--events", events.string(), "--out",
                                     (work / "a").string(), "--rejects", (work / "r").string(), "--state", by_run});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(qianmian::Runner::Create(rules, {.state_dir = by_run}, nullptr, nullptr, &why), nullptr);
  EXPECT_NE(why.find("is kept by `qm run --state`"), std::string::npos) << why;
  fs::remove_all(work);
}

// The example host of docs/embedding.md, killed at random moments and
// started again until it finishes, writes what `qm run` writes.
void KillHostAndCompare(const Example& e, const fs::path& work, int rounds, uint32_t seed,
                        const std::string& commit_every) {
  using qm::testing_internal::Exit;
  using qm::testing_internal::RunQm;
  std::vector<std::string> run = {"run", e.rules.string(), "--events", e.events.string(), "--out",
                                  (work / "a0").string(), "--rejects", (work / "r0").string()};
  run.insert(run.end(), e.args.begin(), e.args.end());
  ASSERT_EQ(RunQm(run).code, 0);
  std::vector<std::string> host = {e.rules.string(), e.events.string(), (work / "a").string(), (work / "r").string(),
                                   (work / "state").string(), "--commit-every", commit_every};
  host.insert(host.end(), e.args.begin(), e.args.end());
  host.insert(host.end(), e.host_args.begin(), e.host_args.end());
  qm::testing_internal::RunOptions o;
  o.binary = QM_EMBED_HOST;
  fs::remove_all(work / "state");
  auto start = std::chrono::steady_clock::now();
  Exit whole = RunQm(host, o);
  ASSERT_EQ(whole.code, 0) << whole.err;
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_EQ(Read(work / "a"), Read(work / "a0"));
  std::mt19937 rng(seed);
  int landed = 0;
  for (int round = 0; round < rounds; ++round) {
    fs::remove_all(work / "state");
    for (int k = 0;; ++k) {
      std::vector<std::string> args = host;
      if (round % 2 == 1 && k % 2 == 0) args.insert(args.end(), {"--engine", "interp"});
      qm::testing_internal::RunOptions killing = o;
      if (k < 3) killing.kill_after = std::chrono::microseconds(rng() % (took.count() / 2 + 1) + took.count() / 20);
      Exit x = RunQm(args, killing);
      if (x.killed) {
        ++landed;
        continue;
      }
      ASSERT_EQ(x.code, 0) << x.err;
      break;
    }
    ASSERT_TRUE(Read(work / "a") == Read(work / "a0")) << "actions differ in round " << round << ": " << e.rules;
    ASSERT_TRUE(Read(work / "r") == Read(work / "r0")) << "rejects differ in round " << round << ": " << e.rules;
  }
  std::printf("%s: %d kills in %d rounds, one run %.3f s\n", e.events.string().c_str(), landed, rounds,
              static_cast<double>(took.count()) / 1e6);
}

TEST(DurableApi, KilledHostFinishesAsOneRun) {
  uint32_t seed = 1;
  for (const char* dir : kExamples) {
    fs::path work = TempDir("kill_host");
    KillHostAndCompare(Load(dir), work, 4, seed++, "1");
    fs::remove_all(work);
  }
}

// A stream long enough for kills to land mid-run, between and during
// commits, with lines held across commits by --lateness.
TEST(DurableApi, KilledHostOnALongStreamFinishesAsOneRun) {
  fs::path work = TempDir("kill_host_long");
  const char* env = std::getenv("QM_KILL_EVENTS");
  int64_t events = env != nullptr ? std::atoll(env) / 5 : 200000;
  std::mt19937_64 rng(3);
  std::string text;
  int64_t ts = 1704067200;
  for (int64_t i = 0; i < events; ++i) {
    ts += static_cast<int64_t>(rng() % 90);
    uint64_t c = (rng() % 5000) * (rng() % 5000) / 5000;
    int64_t t = rng() % 300 == 0 ? ts - 3 * 3600 : rng() % 50 == 0 ? ts - 1800 : ts;
    if (rng() % 100 == 0)  // a phone from a small pool: customers merge (D12)
      text += "{\"type\":\"绑定\",\"customer\":\"c" + std::to_string(c) + "\",\"ts\":" + std::to_string(t) +
              ",\"phone\":\"p" + std::to_string(rng() % 600) + "\"}\n";
    else if (rng() % 10 < 3)
      text += "{\"type\":\"order\",\"customer\":\"c" + std::to_string(c) + "\",\"ts\":" + std::to_string(t) +
              ",\"amount\":" + std::to_string(rng() % 500) + "}\n";
    else
      text += "{\"type\":\"visit\",\"customer\":\"c" + std::to_string(c) + "\",\"ts\":" + std::to_string(t) +
              ",\"page\":\"p" + std::to_string(rng() % 20) + "\"}\n";
  }
  Write(work / "events.jsonl", text);
  Example e{fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm", work / "events.jsonl", "", "",
            {"--until", "2026-01-01T00:00:00Z", "--lateness", "2h"}, {}};
  KillHostAndCompare(e, work, 2, 11, "5000");
  // Customers idle for a day leave memory at each commit and come back.
  e.host_args = {"--evict-idle", "1d"};
  KillHostAndCompare(e, work, 1, 12, "5000");
  fs::remove_all(work);
}

// Every file of a directory, byte for byte, and every entry of its tables
// decompressed (they are LZ4-compressed, which can hide a string).
std::string AllBytes(const fs::path& dir) {
  std::string all;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    all += Read(entry.path());
    if (entry.path().extension() != ".sst") continue;
    rocksdb::SstFileReader table{rocksdb::Options()};
    EXPECT_TRUE(table.Open(entry.path().string()).ok());
    std::unique_ptr<rocksdb::Iterator> it(table.NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) (all += it->key().ToString()) += it->value().ToString();
    EXPECT_TRUE(it->status().ok());
  }
  return all;
}

// PIPL: a forgotten customer leaves memory at once and the state directory's
// files at the next commit, their id and their values with them, while the
// other customers carry on as before.
TEST(DurableApi, ForgetLeavesNoTrace) {
  fs::path work = TempDir("forget");
  auto rules = qianmian::RuleSet::FromText(
      "r.qm", "event signup { phone: text }\nevent order { amount: money }\nprofile {\n  phone: text\n"
              "  spend: money = 0\n}\nwhen signup then set phone signup.phone\n"
              "when order then add spend order.amount, after 30d push 回访\n");
  ASSERT_TRUE(rules.ok());
  const std::string kId = "zz-forget-me-4711", kPhone = "Qz7Kx3Wv9Jm2";
  std::string state = (work / "state").string();
  std::vector<std::string> lines;
  for (int i = 0; i < 300; ++i)
    lines.push_back("{\"type\":\"order\",\"customer\":\"c" + std::to_string(i) + "\",\"ts\":" + std::to_string(i) +
                    ",\"amount\":" + std::to_string(i) + "}");
  lines.push_back("{\"type\":\"signup\",\"customer\":\"" + kId + "\",\"ts\":400,\"phone\":\"" + kPhone + "\"}");
  lines.push_back("{\"type\":\"order\",\"customer\":\"" + kId + "\",\"ts\":401,\"amount\":5}");
  for (qianmian::Engine engine : kEngines) {
    fs::remove_all(state);
    {
      auto runner = qianmian::Runner::Create(rules, {.engine = engine, .state_dir = state}, nullptr, nullptr);
      ASSERT_NE(runner, nullptr);
      for (const std::string& line : lines) runner->Feed(line);
      ASSERT_TRUE(runner->Commit().status.ok());
    }
    // The check can fail: before forgetting, the files hold both.
    std::string before = AllBytes(state);
    ASSERT_NE(before.find(kId), std::string::npos);
    ASSERT_NE(before.find(kPhone), std::string::npos);
    std::string later;
    {
      auto runner = qianmian::Runner::Create(rules, {.engine = engine, .state_dir = state},
                                             [&](std::string_view l) { (later += l) += '\n'; }, nullptr);
      ASSERT_NE(runner, nullptr);
      int64_t customers = runner->stats().customers;
      int64_t timers = runner->stats().pending_timers;
      EXPECT_TRUE(runner->Forget(kId));
      EXPECT_FALSE(runner->Forget(kId));
      qianmian::CustomerView view;
      EXPECT_FALSE(runner->Customer(kId, view));
      EXPECT_EQ(runner->stats().customers, customers - 1);
      EXPECT_EQ(runner->stats().pending_timers, timers - 1);  // their `after` went with them
      ASSERT_TRUE(runner->Commit().status.ok());
      ASSERT_TRUE(runner->FireUntil("2030-01-01T00:00:00Z").ok());  // the others' timers still fire
    }
    EXPECT_EQ(later.find(kId), std::string::npos);
    EXPECT_NE(later.find("\"customer\":\"c299\""), std::string::npos);
    std::string after = AllBytes(state);
    EXPECT_EQ(after.find(kId), std::string::npos);
    EXPECT_EQ(after.find(kPhone), std::string::npos);
    std::string error;
    auto dir = qianmian::StateDirectory::Open(state, &error);
    ASSERT_NE(dir, nullptr) << error;
    std::string line;
    EXPECT_FALSE(dir->Customer(kId, "+08:00", line, error));
    EXPECT_TRUE(dir->Customer("c7", "+08:00", line, error));
  }
  fs::remove_all(work);
}

}  // namespace

namespace {

// `qm state forget DIR --customer ID` on a directory no process holds: the
// record and the lines --lateness held for the customer leave the files.
TEST(DurableApi, StateForgetCommandLeavesNoTrace) {
  using qm::testing_internal::RunQm;
  fs::path work = TempDir("forget_command");
  auto rules = qianmian::RuleSet::FromText("r.qm", "event signup { phone: text }\nprofile { phone: text }\n"
                                                   "when signup then set phone signup.phone\n");
  const std::string kId = "zz-forget-me-0815", kPhone = "Wq4Tn8Yc2Hv6", kHeldPhone = "Pk3Rd7Gm5Xs1";
  std::string state = (work / "state").string();
  {
    auto runner = qianmian::Runner::Create(rules, {.lateness = "1h", .state_dir = state}, nullptr, nullptr);
    ASSERT_NE(runner, nullptr);
    for (int i = 0; i < 50; ++i)
      runner->Feed("{\"type\":\"signup\",\"customer\":\"c" + std::to_string(i) + "\",\"ts\":" + std::to_string(i) +
                   ",\"phone\":\"1" + std::to_string(i) + "\"}");
    runner->Feed("{\"type\":\"signup\",\"customer\":\"" + kId + "\",\"ts\":100,\"phone\":\"" + kPhone + "\"}");
    runner->Feed("{\"type\":\"signup\",\"customer\":\"c1\",\"ts\":20000,\"phone\":\"2\"}");  // releases the above
    runner->Feed("{\"type\":\"signup\",\"customer\":\"" + kId + "\",\"ts\":20001,\"phone\":\"" + kHeldPhone + "\"}");
    ASSERT_TRUE(runner->Commit().status.ok());
    EXPECT_EQ(runner->stats().events, 51);  // the last two are held
  }
  std::string before = AllBytes(state);
  ASSERT_NE(before.find(kPhone), std::string::npos);
  ASSERT_NE(before.find(kHeldPhone), std::string::npos);
  fs::path out = work / "out";
  qm::testing_internal::RunOptions o;
  o.out_path = out.string();
  qm::testing_internal::Exit e = RunQm({"state", "forget", state, "--customer", kId}, o);
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(Read(out), "customer \"" + kId + "\" is gone from state `" + state +
                           "`: their record, held lines and older copies\n");
  std::string after = AllBytes(state);
  EXPECT_EQ(after.find(kId), std::string::npos);
  EXPECT_EQ(after.find(kPhone), std::string::npos);
  EXPECT_EQ(after.find(kHeldPhone), std::string::npos);
  e = RunQm({"state", "forget", state, "--customer", kId, "--lang", "zh"});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: 状态 `" + state + "` 中没有客户 \"" + kId + "\"\n");
  e = RunQm({"state", "forget", state});
  EXPECT_EQ(e.code, 2);
  // The others are still there, and the service continues: c1's held line is kept.
  std::string why;
  auto runner = qianmian::Runner::Create(rules, {.lateness = "1h", .state_dir = state}, nullptr, nullptr, &why);
  ASSERT_NE(runner, nullptr) << why;
  qianmian::CustomerView view;
  EXPECT_TRUE(runner->Customer("c7", view));
  EXPECT_FALSE(runner->Customer(kId, view));
  EXPECT_TRUE(runner->EndOfInput().ok());
  EXPECT_EQ(runner->stats().events, 1);
  fs::remove_all(work);
}

}  // namespace

namespace {

// Reloading rules in place keeps every customer's state: what a Runner
// writes after Reload equals what a durable Runner writes when it is
// stopped, and started again on the new rules over the same directory (the
// durable rerun of docs/state.md). Nobody gets a once-only push twice.
TEST(Reload, KeepsStateAsADurableRerunDoes) {
  for (const char* dir : {"rules-examples/journey-cascade", "rules-examples/churn",
                          "rules-examples/repurchase-reminder", "rules-examples/sop-caps"}) {
    Example e = Load(dir);
    std::string v1 = Read(e.rules);
    // One rule more, at the end: the others keep their names (A10).
    std::string v2 = v1 + "\nrule 重载后新增:\n  when order then push 重载通知\n";
    auto old_rules = qianmian::RuleSet::FromText("rules.qm", v1), new_rules = qianmian::RuleSet::FromText("rules.qm", v2);
    ASSERT_TRUE(old_rules.ok() && new_rules.ok()) << dir;
    std::vector<std::string> lines = Lines(Read(e.events));
    size_t half = lines.size() / 3;
    for (qianmian::Engine engine : kEngines) {
      Delivered reloaded;
      auto runner = qianmian::Runner::Create(old_rules, {.engine = engine, .lateness = e.lateness},
                                             [&](const qianmian::Batch& b) { return reloaded.Take(b), true; });
      for (size_t i = 0; i < half; ++i) runner->Feed(lines[i]);
      std::vector<std::string> notices;
      qianmian::Status s = runner->Reload(new_rules, &notices);
      ASSERT_TRUE(s.ok()) << s.error;
      for (size_t i = half; i < lines.size(); ++i) runner->Feed(lines[i]);
      runner->EndOfInput();
      if (!e.until.empty()) runner->FireUntil(e.until);

      fs::path work = TempDir("reload");
      Delivered rerun;
      qianmian::RunOptions options{.engine = engine, .lateness = e.lateness, .state_dir = (work / "state").string()};
      {
        auto first = qianmian::Runner::Create(old_rules, options, [&](const qianmian::Batch& b) { return rerun.Take(b), true; });
        for (size_t i = 0; i < half; ++i) first->Feed(lines[i]);
        ASSERT_TRUE(first->Commit().status.ok());
      }
      auto second = qianmian::Runner::Create(new_rules, options, [&](const qianmian::Batch& b) { return rerun.Take(b), true; });
      ASSERT_NE(second, nullptr);
      for (size_t i = half; i < lines.size(); ++i) second->Feed(lines[i]);
      second->EndOfInput();
      if (!e.until.empty()) second->FireUntil(e.until);
      EXPECT_TRUE(reloaded.actions == rerun.actions) << dir;
      EXPECT_TRUE(reloaded.rejects == rerun.rejects) << dir;
      EXPECT_NE(reloaded.actions.find("重载通知"), std::string::npos) << dir;
      // The lines before the reload are those of the old rules alone.
      Delivered old_only = Reference(old_rules, e, engine);
      EXPECT_EQ(old_only.actions.find("重载通知"), std::string::npos);
      EXPECT_EQ(runner->stats().lines, static_cast<int64_t>(lines.size()));  // counts go on across a reload
      fs::remove_all(work);
    }
  }
}

// D14: a reload onto rules that rename a tag, a field, an enum member and a
// group carries the states over under the new names, as a durable rerun does
// (rules-examples/rename-running, whose expected output is that rerun's).
TEST(Reload, RenamesCarryStatesOver) {
  const fs::path example = fs::path(QM_SOURCE_DIR) / "rules-examples" / "rename-running";
  auto old_rules = qianmian::RuleSet::FromFiles({(example / "rules_before.qm").string()});
  auto new_rules = qianmian::RuleSet::FromFiles({(example / "rules.qm").string()});
  ASSERT_TRUE(old_rules.ok() && new_rules.ok());
  std::vector<std::string> lines = Lines(Read(example / "events.jsonl"));
  size_t before = Lines(Read(example / "events_before.jsonl")).size();
  for (qianmian::Engine engine : kEngines) {
    Delivered out;
    auto runner = qianmian::Runner::Create(old_rules, {.engine = engine},
                                           [&](const qianmian::Batch& b) { return out.Take(b), true; });
    for (size_t i = 0; i < before; ++i) runner->Feed(lines[i]);
    std::vector<std::string> notices;
    qianmian::Status s = runner->Reload(new_rules, &notices);
    ASSERT_TRUE(s.ok()) << s.error;
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find("target `老会员群` -> `VIP群`"), std::string::npos) << notices[0];
    for (size_t i = before; i < lines.size(); ++i) runner->Feed(lines[i]);
    ASSERT_TRUE(runner->EndOfInput().ok());
    EXPECT_EQ(out.actions, Read(example / "expected_resumed.jsonl"));
    qianmian::CustomerView u1;
    ASSERT_TRUE(runner->Customer("u1", u1));
    EXPECT_EQ(u1.tags, std::vector<std::string>{"已购"});
  }
}

TEST(Reload, ARefusedReloadKeepsTheOldRules) {
  const std::string v1 = "event order { amount: money }\nprofile { spend: money = 0, 等级: text }\n"
                         "tag 已购 \"买过\"\nwhen order then add spend order.amount, tag 已购, push 首购礼\n";
  auto rules = qianmian::RuleSet::FromText("r.qm", v1);
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : kEngines) {
    std::string actions;
    auto runner = qianmian::Runner::Create(rules, {.engine = engine},
                                           [&](std::string_view l) { (actions += l) += '\n'; }, nullptr);
    runner->Feed(R"({"type":"order","customer":"c","ts":1,"amount":5})");
    // Dropping a field and a tag the state keeps would lose them (E0501).
    auto dropping = qianmian::RuleSet::FromText("r.qm", "event order { amount: money }\nwhen order then push 首购礼\n");
    qianmian::Status s = runner->Reload(dropping);
    EXPECT_EQ(s.error.rfind("these rules cannot continue the state in `the Runner's memory`: 3 incompatible changes", 0), 0u)
        << s.error;
    EXPECT_NE(s.error.find("error[E0501]: profile field `spend` (money) is kept in state"), std::string::npos) << s.error;
    auto broken = qianmian::RuleSet::FromText("r.qm", "event order\nwhen ordr then push x\n");
    EXPECT_EQ(runner->Reload(broken).error, "the rule set has errors");
    // The old rules go on, with the customer's state intact.
    runner->Feed(R"({"type":"order","customer":"c","ts":2,"amount":7})");
    qianmian::CustomerView view;
    ASSERT_TRUE(runner->Customer("c", view));
    EXPECT_EQ(view.profile[0].second, std::optional<std::string>("12.00"));
    EXPECT_EQ(actions.find("首购礼", actions.find("首购礼") + 1), std::string::npos);  // once, not twice
    // A compatible reload is told what changed.
    auto adding = qianmian::RuleSet::FromText("r.qm", v1 + "when order and count(order within 30d) >= 2 then push 复购礼\n");
    std::vector<std::string> notices;
    ASSERT_TRUE(runner->Reload(adding, &notices).ok());
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0], "new aggregates start empty and count events from now on: `count(order within 30d)`");
    runner->Feed(R"({"type":"order","customer":"c","ts":3,"amount":1})");
    EXPECT_EQ(actions.find("复购礼"), std::string::npos);  // one order counted since the reload
    runner->Feed(R"({"type":"order","customer":"c","ts":4,"amount":1})");
    EXPECT_NE(actions.find("复购礼"), std::string::npos);
  }
}

// In-flight timers survive a reload, and a durable Runner commits the new
// schema: started again on the new rules, it continues.
TEST(Reload, TimersSurviveAndTheDirectoryFollows) {
  fs::path work = TempDir("reload_timers");
  const std::string v1 = "event order\nrule 回访: when order then after 1d push 回访券\n";
  const std::string v2 = v1 + "rule 新: when order then push 新券\n";
  auto r1 = qianmian::RuleSet::FromText("r.qm", v1), r2 = qianmian::RuleSet::FromText("r.qm", v2);
  std::string actions;
  qianmian::RunOptions options{.state_dir = (work / "state").string()};
  {
    auto runner = qianmian::Runner::Create(r1, options, [&](std::string_view l) { (actions += l) += '\n'; }, nullptr);
    runner->Feed(R"({"type":"order","customer":"c","ts":"2024-01-01T00:00:00Z"})", "1");
    ASSERT_TRUE(runner->Reload(r2).ok());
    EXPECT_EQ(runner->stats().pending_timers, 1);
    ASSERT_TRUE(runner->Commit().status.ok());
  }
  auto runner = qianmian::Runner::Create(r2, options, [&](std::string_view l) { (actions += l) += '\n'; }, nullptr);
  ASSERT_NE(runner, nullptr);
  runner->Feed(R"({"type":"order","customer":"d","ts":"2024-01-01T01:00:00Z"})", "2");
  ASSERT_TRUE(runner->FireUntil("2024-01-03T00:00:00Z").ok());
  EXPECT_EQ(actions,
            "{\"ts\":\"2024-01-01T09:00:00+08:00\",\"customer\":\"d\",\"rule\":\"新\",\"action\":\"push\",\"target\":\"新券\"}\n"
            "{\"ts\":\"2024-01-02T08:00:00+08:00\",\"customer\":\"c\",\"rule\":\"回访\",\"action\":\"push\",\"target\":\"回访券\"}\n"
            "{\"ts\":\"2024-01-02T09:00:00+08:00\",\"customer\":\"d\",\"rule\":\"回访\",\"action\":\"push\",\"target\":\"回访券\"}\n");
  fs::remove_all(work);
}

}  // namespace

namespace {

// A durable Runner evicting idle customers at every commit writes what one
// keeping everyone in memory writes: evicted customers come back for their
// events and for their timers (`no … for`, `after`, quiet hours), through
// reloads of the rules and deliveries that fail and are taken back.
TEST(Eviction, EvictedCustomersComeBackWithTheSameOutput) {
  int64_t evicted_in_all = 0;
  for (const char* dir : kExamples) {
    Example e = Load(dir);
    qianmian::RuleSet rules = qianmian::RuleSet::FromFiles({e.rules.string()});
    std::vector<std::string> lines = Lines(Read(e.events));
    for (qianmian::Engine engine : kEngines) {
      Delivered expected = Reference(rules, e, engine);
      fs::path work = TempDir("evict");
      Delivered got;
      std::mt19937 rng(5);
      auto runner = qianmian::Runner::Create(
          rules,
          {.engine = engine, .lateness = e.lateness, .state_dir = (work / "state").string(), .evict_idle = "1s"},
          [&](const qianmian::Batch& b) {
            if (rng() % 4 == 0) return false;
            got.Take(b);
            return true;
          });
      ASSERT_NE(runner, nullptr);
      int64_t evicted = 0;
      auto retry = [&](auto call) {
        for (int attempt = 0; attempt < 100; ++attempt)
          if (call().ok()) return;
        FAIL() << "a call kept failing";
      };
      for (size_t i = 0; i < lines.size(); ++i) {
        retry([&] { return runner->Feed(lines[i]).status; });
        if (i % 2 == 1) {
          ASSERT_TRUE(runner->Commit().status.ok());
          evicted = std::max(evicted, runner->stats().customers_evicted);
        }
        if (i == lines.size() / 2) {
          ASSERT_TRUE(runner->Reload(rules).ok());
        }
      }
      retry([&] { return runner->EndOfInput(); });
      ASSERT_TRUE(runner->Commit().status.ok());
      evicted = std::max(evicted, runner->stats().customers_evicted);
      if (!e.until.empty()) retry([&] { return runner->FireUntil(e.until); });
      EXPECT_TRUE(got.actions == expected.actions) << dir;
      EXPECT_TRUE(got.rejects == expected.rejects) << dir;
      evicted_in_all += evicted;
      runner.reset();
      fs::remove_all(work);
    }
  }
  EXPECT_GE(evicted_in_all, 10);
}

// Many customers, most idle: memory holds the active ones; reads and
// Forget reach evicted customers too.
TEST(Eviction, OnlyActiveCustomersStayInMemory) {
  fs::path work = TempDir("evict_many");
  auto rules = qianmian::RuleSet::FromText(
      "r.qm", "event order { amount: money }\nprofile { spend: money = 0 }\n"
              "when order then add spend order.amount\nrule 沉睡: when no order for 30d then push 唤醒券\n");
  std::string actions;
  auto runner = qianmian::Runner::Create(
      rules, {.state_dir = (work / "state").string(), .evict_idle = "2d"},
      [&](std::string_view l) { (actions += l) += '\n'; }, nullptr);
  ASSERT_NE(runner, nullptr);
  int64_t ts = 1704067200;
  for (int day = 0; day < 10; ++day)
    for (int c = 0; c < 200; ++c)
      runner->Feed("{\"type\":\"order\",\"customer\":\"d" + std::to_string(day) + "-" + std::to_string(c) +
                   "\",\"ts\":" + std::to_string(ts + day * 86400 + c) + ",\"amount\":1}");
  ASSERT_TRUE(runner->Commit().status.ok());
  qianmian::Stats stats = runner->stats();
  EXPECT_EQ(stats.customers + stats.customers_evicted, 2000);
  EXPECT_LE(stats.customers, 600);  // the last three days' (idle for under 2 days, and today's)
  EXPECT_EQ(stats.pending_timers, 2000);  // every `no … for` timer is still queued
  qianmian::CustomerView view;
  ASSERT_TRUE(runner->Customer("d0-7", view));  // read back
  EXPECT_EQ(view.profile[0].second, std::optional<std::string>("1.00"));
  EXPECT_TRUE(runner->Forget("d1-7"));
  ASSERT_TRUE(runner->FireUntil("2024-03-01T00:00:00Z").ok());
  size_t pushes = 0;
  for (size_t at = actions.find("唤醒券"); at != std::string::npos; at = actions.find("唤醒券", at + 1)) ++pushes;
  EXPECT_EQ(pushes, 1999u);  // everyone but the forgotten one
  EXPECT_EQ(actions.find("\"d1-7\",\"rule\":\"沉睡\""), std::string::npos);
  EXPECT_NE(actions.find("\"d1-8\",\"rule\":\"沉睡\""), std::string::npos);
  fs::remove_all(work);
}

}  // namespace
