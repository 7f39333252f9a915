// Durable state (`qm run --state`): a run killed at any moment and rerun
// writes exactly what one uninterrupted run writes; input appended later is
// picked up; a state directory that cannot be continued is refused with an
// exact message, never silently reset.
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "compiler/program/program.h"
#include "runtime/state/durable.h"
#include "runtime/state/internal/codec.h"

#include "gtest/gtest.h"
#include "tests/pending_conformance.h"
#include "tests/support/qm_process.h"

namespace {

namespace fs = std::filesystem;

using qm::testing_internal::Exit;
using qm::testing_internal::Read;
using qm::testing_internal::RunOptions;
using qm::testing_internal::Write;

fs::path TempDir(const std::string& name) { return qm::testing_internal::TempDir("qm_state_test", name); }

// Runs qm with `args`; when `kill_after` is set, sends SIGKILL after that long
// unless it has finished. Standard output goes to `out_path`, if given.
Exit Qm(const std::vector<std::string>& args, std::optional<std::chrono::microseconds> kill_after = {},
        const std::string& out_path = "/dev/null") {
  RunOptions o;
  o.kill_after = kill_after;
  o.out_path = out_path;
  return qm::testing_internal::RunQm(args, o);
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A stream for tests/state/kill.qm: orders and visits of `customers`
// customers in time order, with a malformed line now and then and some
// customers' events out of order (late rejects).
void WriteStream(const fs::path& path, int64_t events, int customers, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::ofstream out(path, std::ios::binary);
  int64_t ts = 1704067200;  // 2024-01-01T00:00:00Z
  std::string line;
  for (int64_t i = 0; i < events; ++i) {
    ts += static_cast<int64_t>(rng() % 90);
    // Skewed activity: low ids are the busy customers.
    uint64_t c = (rng() % customers) * (rng() % customers) / customers;
    int64_t t = rng() % 500 == 0 ? ts - 86400 : ts;
    if (rng() % 1000 == 0) {
      out << "{\"type\":\"order\",\"customer\":\"c" << c << "\",\"ts\":" << t << ",\"amount\":\"x\"}\n";
    } else if (rng() % 100 == 0) {  // a phone from a small pool: customers merge (D12)
      out << "{\"type\":\"绑定\",\"customer\":\"c" << c << "\",\"ts\":" << t << ",\"phone\":\"p" << rng() % (customers / 8 + 1)
          << "\"}\n";
    } else if (rng() % 10 < 3) {
      out << "{\"type\":\"order\",\"customer\":\"c" << c << "\",\"ts\":" << t << ",\"amount\":" << (rng() % 50000) / 100
          << "." << (rng() % 100) / 10 << (rng() % 10) << "}\n";
    } else {
      out << "{\"type\":\"visit\",\"customer\":\"c" << c << "\",\"ts\":" << t << ",\"page\":\"p" << rng() % 20
          << "\"}\n";
    }
  }
}

struct Case {
  fs::path rules, events;
  std::vector<std::string> args;
};

Case Example(const std::string& dir) {
  fs::path d = fs::path(QM_SOURCE_DIR) / dir;
  Case c{d / "rules.qm", d / "events.jsonl", {}};
  if (fs::exists(d / "args")) c.args = Words(Read(d / "args"));
  return c;
}

// What a state directory tallied since it began (format 8), as text.
std::string TalliesOf(const fs::path& dir) {
  qm::Error error;
  std::unique_ptr<qm::state::StateReader> reader = qm::state::StateReader::Open(dir.string(), &error);
  if (!reader || !reader->checkpoint()) return "(unreadable)";
  const qm::state::Tallies& t = reader->checkpoint()->tallies;
  std::string out;
  for (const auto* counts : {&t.fired, &t.actions, &t.suppressed}) {
    for (const auto& [key, n] : *counts) out += key + "=" + std::to_string(n) + " ";
    out += "| ";
  }
  for (const auto& [tag, description] : t.tag_descriptions) out += tag + ":" + description + " ";
  return out;
}

// For each of `rounds` fresh state directories: kills `qm run --state` at
// random moments (up to `kills` times, each within the first half of the
// time one whole durable run takes) until a run completes, then compares its outputs with an
// uninterrupted in-memory run's.
void KillAndCompare(const Case& c, const fs::path& work, int rounds, int kills, uint32_t seed,
                    const std::string& commit_every) {
  ASSERT_EQ(Qm(Concat({"run", c.rules.string(), "--events", c.events.string(), "--out", (work / "a0").string(),
                       "--rejects", (work / "r0").string()},
                      c.args))
                .code,
            0);
  std::string expected_actions = Read(work / "a0"), expected_rejects = Read(work / "r0");
  std::vector<std::string> durable =
      Concat({"run", c.rules.string(), "--events", c.events.string(), "--out", (work / "a").string(), "--rejects",
              (work / "r").string(), "--state", (work / "state").string(), "--commit-every", commit_every},
             c.args);
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Qm(durable).code, 0);
  auto whole = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  // What the rules did, as the state keeps it for `qm report`: a killed and
  // resumed run counts each step once, like one run.
  std::string expected_tallies = TalliesOf(work / "state");
  std::mt19937 rng(seed);
  int landed = 0;
  for (int round = 0; round < rounds; ++round) {
    fs::remove_all(work / "state");
    bool done = false;
    for (int k = 0; k < kills && !done; ++k) {
      // Odd rounds alternate the engines from one restart to the next.
      std::vector<std::string> args = Concat(durable, {"--engine", round % 2 == 1 && k % 2 == 0 ? "interp" : "jit"});
      Exit e = Qm(args, std::chrono::microseconds(rng() % (whole.count() / 2) + whole.count() / 20));
      if (e.killed) {
        ++landed;
      } else {
        ASSERT_EQ(e.code, 0) << e.err;
        done = true;
      }
    }
    if (!done) {
      Exit e = Qm(durable);
      ASSERT_EQ(e.code, 0) << e.err;
    }
    ASSERT_TRUE(Read(work / "a") == expected_actions) << "actions differ in round " << round << ": " << c.rules;
    ASSERT_TRUE(Read(work / "r") == expected_rejects) << "rejects differ in round " << round << ": " << c.rules;
    ASSERT_EQ(TalliesOf(work / "state"), expected_tallies) << "tallies differ in round " << round << ": " << c.rules;
  }
  std::printf("%s: %d kills in %d rounds, one run %.3f s\n", c.events.string().c_str(), landed, rounds,
              static_cast<double>(whole.count()) / 1e6);
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoll(v) : fallback;
}

TEST(DurableState, KilledExamplesFinishAsOneRun) {
  int rounds = static_cast<int>(EnvInt("QM_KILL_ROUNDS", 6));
  uint32_t seed = 1;
  for (const char* dir : {"rules-examples/journey-cascade", "rules-examples/churn", "rules-examples/push-once",
                          "rules-examples/repurchase-reminder", "tests/run/a32_a33_timer_order",
                          "tests/run/d1_d2_d3_clock_and_calendar", "tests/run/d10_e22_count_distinct",
                          "tests/run/d4_d5_d6_e6_caps_quiet_placeholders", "tests/run/d7_unless_where",
                          "tests/run/d9_e8_lateness", "tests/run/d13_e18_e19_segments", "rules-examples/sop-caps", "rules-examples/late-feeds"}) {
    fs::path work = TempDir("kill_example");
    KillAndCompare(Example(dir), work, rounds, 2, seed++, "1");
    fs::remove_all(work);
  }
}

// The 1M-event stream takes seconds, so kills land mid-run, between and
// during commits.
TEST(DurableState, KilledLargeStreamFinishesAsOneRun) {
  fs::path work = TempDir("kill_large");
  int64_t events = EnvInt("QM_KILL_EVENTS", 1000000);
  WriteStream(work / "events.jsonl", events, 20000, 7);
  // Some customers' events come a day out of order: --lateness holds lines
  // across commits (D9), and the rest are still rejected as late.
  Case c{fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm", work / "events.jsonl",
         {"--until", "2026-01-01T00:00:00Z", "--lateness", "2h"}};
  KillAndCompare(c, work, static_cast<int>(EnvInt("QM_KILL_LARGE_ROUNDS", 1)), 8, 11, "20000");
  fs::remove_all(work);
}

// A run split over threads commits every thread's states and held lines in
// one batch: killed at any moment, the rerun writes what one thread writes. kill.qm
// without the parts that keep a run on one thread (segments, identity).
TEST(DurableState, KilledThreadedRunFinishesAsOneRun) {
  fs::path work = TempDir("kill_threads");
  std::string rules = Read(fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm");
  rules = rules.substr(0, rules.find("# v0.2 part 2"));
  ASSERT_EQ(rules.find("segment"), std::string::npos);
  {
    std::ofstream(work / "rules.qm", std::ios::binary) << rules;
  }
  WriteStream(work / "events.jsonl", EnvInt("QM_KILL_THREAD_EVENTS", 300000), 20000, 13);
  // Some lines a day out of order: --lateness holds lines across commits (D9).
  std::vector<std::string> until = {"--lateness", "2h", "--until", "2026-01-01T00:00:00Z"};
  Case c{work / "rules.qm", work / "events.jsonl", Concat({"--threads", "2"}, until)};
  KillAndCompare(c, work, 1, 8, 17, "20000");
  // The uninterrupted run KillAndCompare compared with ran on two threads too: one thread writes the same.
  ASSERT_EQ(Qm(Concat({"run", c.rules.string(), "--events", c.events.string(), "--out", (work / "one").string(),
                       "--rejects", (work / "one_rejects").string(), "--threads", "1"},
                      until))
                .code,
            0);
  EXPECT_TRUE(Read(work / "one") == Read(work / "a0"));
  EXPECT_TRUE(Read(work / "one_rejects") == Read(work / "r0"));
  fs::remove_all(work);
}

// Input appended after a run is picked up by the next; `--until` only on
// the last run, as a nightly batch would.
TEST(DurableState, AppendedInputContinues) {
  int cases = 0;
  const auto pending = qm::testing_internal::PendingConformance();
  for (const fs::path& root : {fs::path(QM_SHARED_DIR) / "conformance", fs::path(QM_SOURCE_DIR) / "rules-examples",
                               fs::path(QM_SOURCE_DIR) / "tests" / "run"}) {
    for (const auto& entry : fs::directory_iterator(root)) {
      if (!fs::exists(entry.path() / "rules.qm")) continue;
      if (root.filename() == "conformance" && pending.count(entry.path().filename().string())) continue;
      Case c{entry.path() / "rules.qm", entry.path() / "events.jsonl", {}};
      if (fs::exists(entry.path() / "args")) c.args = Words(Read(entry.path() / "args"));
      // D9: every run releases what --lateness holds when its input ends, so
      // input cut in pieces is not one input (the kill tests cover --lateness).
      if (std::find(c.args.begin(), c.args.end(), "--lateness") != c.args.end()) continue;
      std::vector<std::string> without_until;
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (c.args[i] == "--until") ++i;
        else without_until.push_back(c.args[i]);
      }
      fs::path work = TempDir("append");
      ASSERT_EQ(Qm(Concat({"run", c.rules.string(), "--events", c.events.string(), "--out", (work / "a0").string(),
                           "--rejects", (work / "r0").string()},
                          c.args))
                    .code,
                0);
      std::string all = Read(c.events);
      std::vector<size_t> cuts{0};
      for (size_t i = 0; i < all.size(); ++i)
        if (all[i] == '\n') cuts.push_back(i + 1);
      cuts.push_back(all.size());
      for (size_t piece = 1; piece <= 3; ++piece) {
        size_t end = piece == 3 ? all.size() : cuts[cuts.size() * piece / 3];
        Write(work / "events.jsonl", all.substr(0, end));
        // The middle piece runs on the interpreter: a state continues across engines.
        Exit e = Qm(Concat({"run", c.rules.string(), "--events", (work / "events.jsonl").string(), "--out",
                            (work / "a").string(), "--rejects", (work / "r").string(), "--state",
                            (work / "state").string(), "--commit-every", "3", "--engine",
                            piece == 2 ? "interp" : "jit"},
                           piece == 3 ? c.args : without_until));
        ASSERT_EQ(e.code, 0) << entry.path() << e.err;
      }
      EXPECT_TRUE(Read(work / "a") == Read(work / "a0")) << entry.path();
      EXPECT_TRUE(Read(work / "r") == Read(work / "r0")) << entry.path();
      fs::remove_all(work);
      ++cases;
    }
  }
  EXPECT_GE(cases, 40);
}

// A compatible change that moves every index (a new enum member, field, tag,
// event type, aggregate and rule, each declared first) continues exactly:
// states are remapped by name, so a run that switches to the new rules half
// way writes what the old rules write in one run (the new rule never fires).
TEST(DurableState, RemappedStateContinuesExactly) {
  fs::path work = TempDir("remap");
  WriteStream(work / "all.jsonl", 50000, 2000, 3);
  std::string all = Read(work / "all.jsonl");
  size_t half = all.find('\n', all.size() / 2) + 1;
  std::string old_rules = Read(fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm");
  std::string new_rules = old_rules;
  auto insert_before = [&](const std::string& at, const std::string& text) {
    size_t pos = new_rules.find(at);
    ASSERT_NE(pos, std::string::npos) << at;
    new_rules.insert(pos, text);
  };
  insert_before("enum 阶段", "event 签到 { days: int }\n");
  insert_before("新客, 活跃, 沉睡", "潜在, ");
  insert_before("  stage: 阶段", "  city: text\n");
  insert_before("tag 流失风险", "tag 签到达人 \"签到很多\"\n");
  insert_before("rule 下单活跃", "rule 签到: when 签到 and sum(签到.days) > 1000 then tag 签到达人, push 签到礼\n");
  Write(work / "old.qm", old_rules);
  Write(work / "new.qm", new_rules);
  std::vector<std::string> until = {"--until", "2026-01-01T00:00:00Z"};
  ASSERT_EQ(Qm(Concat({"run", (work / "old.qm").string(), "--events", (work / "all.jsonl").string(), "--out",
                       (work / "a0").string(), "--rejects", (work / "r0").string()},
                      until))
                .code,
            0);
  Write(work / "events.jsonl", all.substr(0, half));
  std::vector<std::string> run = {"--events", (work / "events.jsonl").string(), "--out", (work / "a").string(),
                                  "--rejects", (work / "r").string(), "--state", (work / "st").string()};
  ASSERT_EQ(Qm(Concat({"run", (work / "old.qm").string()}, run)).code, 0);
  Write(work / "events.jsonl", all);
  Exit e = Qm(Concat(Concat({"run", (work / "new.qm").string()}, run), until));
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.err.find("qm: note: new aggregates start empty and count events from now on: `sum(签到.days)`"),
            std::string::npos)
      << e.err;
  EXPECT_TRUE(Read(work / "a") == Read(work / "a0"));
  EXPECT_TRUE(Read(work / "r") == Read(work / "r0"));
  fs::remove_all(work);
}

// A last line without '\n' is processed; a later run accepts a '\n' that
// completes it, and refuses text that would continue it.
TEST(DurableState, UnterminatedLastLine) {
  fs::path work = TempDir("unterminated");
  fs::path rules = fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm";
  std::string first = "{\"type\":\"order\",\"customer\":\"c1\",\"ts\":1704067200,\"amount\":1}";
  std::string second = "{\"type\":\"order\",\"customer\":\"c2\",\"ts\":1704067300,\"amount\":2}\n";
  std::vector<std::string> run = {"run", rules.string(), "--events", (work / "e").string(), "--out",
                                  (work / "a").string(), "--rejects", (work / "r").string(), "--state",
                                  (work / "state").string()};
  Write(work / "e", first);
  ASSERT_EQ(Qm(run).code, 0);
  Write(work / "e", first + "\n" + second);
  ASSERT_EQ(Qm(run).code, 0);
  Write(work / "whole", first + "\n" + second);
  ASSERT_EQ(Qm({"run", rules.string(), "--events", (work / "whole").string(), "--out", (work / "a0").string(),
                "--rejects", (work / "r0").string()})
                .code,
            0);
  EXPECT_EQ(Read(work / "a"), Read(work / "a0"));

  fs::remove_all(work / "state");
  Write(work / "e", first);
  ASSERT_EQ(Qm(run).code, 0);
  Write(work / "e", first + "0}\n");
  Exit e = Qm(run);
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: events `" + (work / "e").string() +
                       "` continue line 1, which ended the input when the state read it and was processed as "
                       "complete (state `" + (work / "state").string() + "`)\n");
}

// D11, D12 with --state: `qm state show` finds a person by any of its ids
// and lists the ids merged into it and the keys that name it; `stats` counts
// the merged ids; `forget` by an alias forgets the whole person.
TEST(DurableState, PersonsByAnyId) {
  fs::path work = TempDir("persons");
  fs::path example = fs::path(QM_SOURCE_DIR) / "tests/run/d11_d12_e10_e13_e15_e17_identity";
  fs::path st = work / "st";
  ASSERT_EQ(Qm({"run", (example / "rules.qm").string(), "--events", (example / "events.jsonl").string(), "--out",
                (work / "a").string(), "--rejects", (work / "r").string(), "--state", st.string()})
                .code,
            0);
  EXPECT_EQ(Qm({"state", "show", st.string(), "--customer", "b1", "--tz", "+08:00"}, {}, (work / "show").string()).code, 0);
  std::string show = Read(work / "show");
  EXPECT_EQ(show.rfind("{\"customer\":\"yz_1\",\"aliases\":[\"wx_1\",\"tm_9\",\"c1\",\"b1\"],"
                       "\"identity\":{\"phone\":[\"13800000001\"],\"unionid\":[\"U1\",\"U3\"]},", 0),
            0u)
      << show;
  EXPECT_NE(show.find("\"积分\":22"), std::string::npos) << show;
  EXPECT_EQ(Qm({"state", "stats", st.string(), "--format", "json"}, {}, (work / "stats").string()).code, 0);
  EXPECT_EQ(Read(work / "stats").rfind("{\"customers\":2,\"merged\":4,", 0), 0u) << Read(work / "stats");
  Exit forget = Qm({"state", "forget", st.string(), "--customer", "tm_9"});
  EXPECT_EQ(forget.code, 0) << forget.err;
  for (const char* id : {"yz_1", "wx_1", "tm_9", "c1", "b1"}) EXPECT_EQ(Qm({"state", "show", st.string(), "--customer", id}).code, 1) << id;
  EXPECT_EQ(Qm({"state", "show", st.string(), "--customer", "e1"}).code, 0);
  fs::remove_all(work);
}

// D13 with --state: a rerun continues each segment's schedule from its last
// refresh, on the new instants when `every` or `at` changed (docs/state.md),
// and `renamed tag` carries a segment's last refresh over to its new name.
TEST(DurableState, SegmentSchedulesContinue) {
  fs::path work = TempDir("segment_schedules");
  fs::path example = fs::path(QM_SOURCE_DIR) / "tests/run/d13_e18_e19_segments";
  std::string rules = Read(example / "rules.qm");
  std::vector<std::string> lines;
  std::istringstream in(Read(example / "events.jsonl"));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto first = [&](size_t n) {
    std::string text;
    for (size_t i = 0; i < n; ++i) text += lines[i] + "\n";
    return text;
  };
  auto run = [&](const std::string& rules_text, size_t n) {
    Write(work / "rules.qm", rules_text);
    Write(work / "e", first(n));
    Exit e = Qm({"run", (work / "rules.qm").string(), "--events", (work / "e").string(), "--out",
                 (work / "a").string(), "--rejects", (work / "r").string(), "--state", (work / "state").string()});
    EXPECT_EQ(e.code, 0) << e.err;
    EXPECT_EQ(Qm({"state", "stats", (work / "state").string(), "--format", "json"}, {}, (work / "stats").string()).code, 0);
    return Read(work / "stats");
  };
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  // Five lines: no refresh yet, the first is due at 2024-01-02T02:00 (+08:00).
  std::string stats = run(rules, 5);
  EXPECT_NE(stats.find("\"大客户\":{\"members\":0,\"ranked\":0,\"threshold\":null,\"last_refresh\":null,"
                       "\"next_refresh\":\"2024-01-02T02:00:00+08:00\"}"),
            std::string::npos)
      << stats;
  // Refreshed at 05:00 from now on: the first 05:00 at or after 02:00.
  std::string at5 = replace(rules, "every 1d at 02:00\nsegment 积分低", "every 1d at 05:00\nsegment 积分低");
  stats = run(at5, 5);
  EXPECT_NE(stats.find("\"next_refresh\":\"2024-01-02T05:00:00+08:00\"}"), std::string::npos) << stats;
  // The ninth line passes 05:00: refreshed there (the sixth passed 02:00,
  // where 积分低 was refreshed; e is known then, and ranked with no orders).
  stats = run(at5, 9);
  EXPECT_NE(stats.find("\"大客户\":{\"members\":2,\"ranked\":5,\"threshold\":\"100.00\","
                       "\"last_refresh\":\"2024-01-02T05:00:00+08:00\","
                       "\"next_refresh\":\"2024-01-03T05:00:00+08:00\"}"),
            std::string::npos)
      << stats;
  // Renamed and weekly at 03:00: the first such instant after the last
  // refresh (2024-01-01 is a Monday); members and the last refresh carry over.
  std::string weekly = replace(at5, "segment 大客户 \"消费最高的 25%\" top 25% by sum(order.amount) every 1d at 05:00",
                               "renamed tag 大客户 -> 超级\nsegment 超级 \"消费最高的 25%\" top 25% by sum(order.amount) every 7d at 03:00");
  weekly = replace(replace(weekly, "tagged 大客户", "tagged 超级"), "untagged 大客户", "untagged 超级");
  weekly = replace(weekly, "has 大客户", "has 超级");
  stats = run(weekly, 9);
  EXPECT_NE(stats.find("\"超级\":{\"members\":2,\"ranked\":5,\"threshold\":\"100.00\","
                       "\"last_refresh\":\"2024-01-02T05:00:00+08:00\","
                       "\"next_refresh\":\"2024-01-08T03:00:00+08:00\"}"),
            std::string::npos)
      << stats;
  EXPECT_NE(stats.find("\"tags\":{\"超级\":2,\"积分低\":2,\"关怀\":2}"), std::string::npos) << stats;
  fs::remove_all(work);
}

// D14, E20: the rename example (rules-examples/rename-running) continued
// from its old rules: tags, fields, enum values, push history and pending
// `after`s carry over under the new names on both engines; the same rules
// without their `renamed` lines are refused (E0501) and leave the state as it
// was; on a state that never held the old names the renames do nothing.
TEST(DurableState, RenamesCarryStateOverToTheNewNames) {
  const fs::path example = fs::path(QM_SOURCE_DIR) / "rules-examples" / "rename-running";
  for (const char* engine : {"jit", "interp"}) {
    fs::path work = TempDir(std::string("rename_") + engine);
    auto run = [&](const fs::path& rules, const fs::path& events) {
      return Qm({"run", rules.string(), "--events", events.string(), "--out", (work / "a").string(), "--rejects",
                 (work / "r").string(), "--state", (work / "state").string(), "--engine", engine});
    };
    ASSERT_EQ(run(example / "rules_before.qm", example / "events_before.jsonl").code, 0);

    std::string renamed = Read(example / "rules.qm"), without;
    for (size_t at = 0, end; at < renamed.size(); at = end + 1) {
      end = renamed.find('\n', at);
      if (renamed.compare(at, 8, "renamed ") != 0) without += renamed.substr(at, end - at + 1);
    }
    Write(work / "without.qm", without);
    std::string before = Read(work / "a");
    Exit refused = run(work / "without.qm", example / "events.jsonl");
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("error[E0501]: tag `买过` is kept in state"), std::string::npos) << refused.err;
    EXPECT_EQ(Read(work / "a"), before);

    Exit resumed = run(example / "rules.qm", example / "events.jsonl");
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_NE(resumed.err.find("qm: note: renamed in state as the rules declare: tag `买过` -> `已购`, field `points` -> "
                               "`积分`, member `等级.金卡` -> `等级.黄金`, target `老会员群` -> `VIP群`"),
              std::string::npos)
        << resumed.err;
    EXPECT_EQ(Read(work / "a"), Read(example / "expected_resumed.jsonl"));

    fs::remove_all(work / "state");
    Write(work / "first.jsonl", Read(example / "events_before.jsonl"));
    ASSERT_EQ(run(example / "rules.qm", work / "first.jsonl").code, 0);
    Exit again = run(example / "rules.qm", example / "events.jsonl");
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(again.err.find("renamed in state"), std::string::npos) << again.err;
    EXPECT_EQ(Read(work / "a"), Read(example / "expected.jsonl"));
    fs::remove_all(work);
  }
}

// ---------------------------------------------------------------- refusals

class Refusal : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = TempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    rules_ = work_ / "rules.qm";
    Write(rules_, Read(fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm"));
    Write(work_ / "events.jsonl",
          "{\"type\":\"order\",\"customer\":\"c1\",\"ts\":1704067200,\"amount\":1}\n"
          "{\"type\":\"visit\",\"customer\":\"c2\",\"ts\":1704067300,\"page\":\"p\"}\n");
    state_ = (work_ / "state").string();
    Exit first = Run();
    ASSERT_EQ(first.code, 0) << first.err;
  }
  void TearDown() override { fs::remove_all(work_); }

  Exit Run(const std::vector<std::string>& extra = {}) {
    return Qm(Concat({"run", rules_.string(), "--events", (work_ / "events.jsonl").string(), "--out",
                      (work_ / "a").string(), "--rejects", (work_ / "r").string(), "--state", state_},
                     extra));
  }
  // Rewrites the rules with `from` replaced by `to`.
  void Edit(const std::string& from, const std::string& to) {
    std::string text = Read(rules_);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    Write(rules_, text.replace(at, from.size(), to));
  }
  void Put(const std::string& key, const std::string& value) {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), state_, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
    delete db;
  }

  fs::path work_, rules_;
  std::string state_;
};

TEST_F(Refusal, RemovedAndRetypedFieldsRemovedMembersAndTags) {
  Edit("  visits: int\n", "  visits: money\n");
  Edit("  spent: money\n", "");
  Edit("rule 下单活跃: when order then set stage 活跃, untag 流失风险, add spent order.amount, set last_order ts\n",
       "rule 下单活跃: when order then set stage 活跃, untag 流失风险, set last_order ts\n");
  Edit("enum 阶段 { 新客, 活跃, 沉睡 }", "enum 阶段 { 新客, 活跃 }");
  Edit("rule 流失: when no order for 60d and stage = 活跃 then set stage 沉睡,", "rule 流失: when no order for 60d and stage = 活跃 then");
  Edit("tag 常客 \"下单 5 次以上\"\n", "");
  Edit("rule 常客: when order and count(order) >= 5 then tag 常客\n", "");
  Exit e = Run({"--lang", "en"});
  EXPECT_EQ(e.code, 1);
  std::string r = rules_.string();
  EXPECT_EQ(e.err,
            r + ":4:6: error[E0501]: enum `阶段` no longer has member `沉睡`, which state `" + state_ +
                "` may hold\n"
                "  |\n"
                "4 | enum 阶段 { 新客, 活跃 }\n"
                "  |      ^^^^\n"
                "  = help: declare it as before, or give --state a new directory\n"
                "qm: error[E0501]: profile field `spent` (money) is kept in state `" + state_ +
                "` but is no longer declared\n"
                "  = help: declare it as before, or give --state a new directory\n" +
                r + ":9:3: error[E0501]: profile field `visits` is `int` in state `" + state_ +
                "`, but is now declared `money`\n"
                "  |\n"
                "9 |   visits: money\n"
                "  |   ^^^^^^\n"
                "  = help: declare it as before, or give --state a new directory\n"
                "qm: error[E0501]: tag `常客` is kept in state `" + state_ +
                "` but is no longer declared\n"
                "  = help: declare it as before, or give --state a new directory\n"
                "qm: these rules cannot continue the state in `" + state_ + "`: 4 incompatible changes\n");
  // Nothing was written: the state and outputs are as the first run left them.
  Write(rules_, Read(fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm"));
  EXPECT_EQ(Run().code, 0);
}

TEST_F(Refusal, IncompatibleChangeInChinese) {
  Edit("  visits: int\n", "  visits: text\n");
  Edit("add visits 1,", "");
  Exit e = Run({"--lang", "zh"});
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("error[E0501]: 档案字段 `visits` 在状态 `" + state_ + "` 中是 `int`，现在却声明为 `text`\n"),
            std::string::npos)
      << e.err;
}

TEST_F(Refusal, CompatibleChangesAreAcceptedAndTold) {
  Edit("  last_order: time\n", "  last_order: time\n  city: text\n");
  Edit("enum 阶段 { 新客, 活跃, 沉睡 }", "enum 阶段 { 新客, 活跃, 沉睡, 回流 }");
  Write(rules_, Read(rules_) + "rule 大单: when order and max(order.amount) >= 300 then tag 高价值\n"
                               "rule 久未访问: when no visit for 90d then push 想你了\n");
  Exit e = Run();
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.err.find("qm: note: new aggregates start empty and count events from now on: `max(order.amount)`\n"),
            std::string::npos)
      << e.err;
  EXPECT_NE(e.err.find("qm: note: new `no` rules are armed from each customer's latest event they watch: `久未访问`\n"),
            std::string::npos)
      << e.err;
  // c2 (a visit at 2024-01-01T00:01:40Z) has the new field unset and the new
  // `no visit for 90d` rule armed from that visit, after `no order for 60d`
  // (armed at the first event, A35).
  Exit show = Qm({"state", "show", state_, "--customer", "c2", "--tz", "Z"}, {}, (work_ / "show").string());
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(Read(work_ / "show"),
            "{\"customer\":\"c2\",\"clock\":\"2024-01-01T00:01:40+00:00\",\"profile\":{\"stage\":\"新客\","
            "\"spent\":null,\"visits\":null,\"last_order\":null,\"city\":null,\"积分\":0},\"tags\":[],\"aggregates\":{"
            "\"count(distinct visit.page within this week)\":{\"count\":1}},"
            "\"last_event\":{\"visit\":\"2024-01-01T00:01:40+00:00\"},\"pushed\":{},\"timers\":[{\"due\":"
            "\"2024-03-01T00:01:40+00:00\",\"rule\":\"流失\",\"when\":\"no order for 60d\"},{\"due\":"
            "\"2024-03-31T00:01:40+00:00\",\"rule\":\"久未访问\",\"when\":\"no visit for 90d\"}]}\n");
}

TEST_F(Refusal, AnotherRuleSet) {
  Write(rules_, "event signup { channel: text }\nrule 欢迎: when signup then push 欢迎语\n");
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: state directory `" + state_ +
                       "` belongs to another rule set (rules.qm): it shares no event, profile field or tag with "
                       "these rules\n");
}

TEST_F(Refusal, NewerFormat) {
  Put("m:version", "9");
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: state directory `" + state_ +
                       "` was written by a newer qm (state format 9; this qm reads format 8)\n");
}

std::string Get(const std::string& dir, const std::string& key) {
  rocksdb::DB* db = nullptr;
  rocksdb::Options options;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(options, dir, &db).ok());
  std::string value;
  if (db != nullptr) db->Get(rocksdb::ReadOptions(), key, &value);
  delete db;
  return value;
}

// Formats 1 (v0.1), 2 (before the rule zone, D1), 3 (before hosts'
// positions), 4 (before segments, D13), 5 (before identity, D11), 6
// (before merged windows, E16) and 7 (before tallies) are read and rewritten as format 8;
// format 1 from a development build before the release (a longer
// checkpoint) is refused as older, not called corrupt.
TEST_F(Refusal, OlderFormats) {
  // Older formats hold no segments: these rules declare none.
  std::string rules = Read(rules_);
  size_t segments = rules.find("\n# v0.2 part 2");
  ASSERT_NE(segments, std::string::npos);
  Write(rules_, rules.substr(0, segments + 1));
  fs::remove_all(state_);
  ASSERT_EQ(Run().code, 0);
  EXPECT_EQ(Get(state_, "m:version"), "8");
  // Format 8's checkpoint ends with the tallies (`qm report`); format 7's,
  // the same checkpoint without them.
  std::optional<qm::state::Checkpoint> decoded = qm::state_internal::DecodeCheckpoint(Get(state_, "m:checkpoint"), 8);
  ASSERT_TRUE(decoded);
  ASSERT_FALSE(decoded->tallies.fired.empty());
  decoded->tallies = {};
  std::string checkpoint = qm::state_internal::EncodeCheckpoint(*decoded);
  ASSERT_EQ(checkpoint.substr(checkpoint.size() - 4), std::string(4, '\0'));  // four empty lists
  checkpoint.resize(checkpoint.size() - 4);
  Put("m:checkpoint", checkpoint);
  Put("m:version", "7");
  std::string at_seven = Read(work_ / "a");
  Exit seven = Run();
  EXPECT_EQ(seven.code, 0) << seven.err;
  EXPECT_EQ(Read(work_ / "a"), at_seven);
  EXPECT_EQ(Get(state_, "m:version"), "8");
  EXPECT_EQ(Get(state_, "m:checkpoint").substr(0, checkpoint.size()), checkpoint);
  Put("m:checkpoint", checkpoint);
  // Format 7's customer records end with the person's order, aliases and
  // keys (format 6: here 1, none, none) and the merged windows (none);
  // format 5's end before them all, and are read as persons kept before
  // identity (order 0).
  std::string record = Get(state_, "c:c1");
  ASSERT_EQ(record.substr(record.size() - 4), std::string("\x01\0\0\0", 4));
  Put("m:version", "5");
  Put("c:c1", record.substr(0, record.size() - 4));
  std::string before = Read(work_ / "a");
  Exit five = Run();
  EXPECT_EQ(five.code, 0) << five.err;
  EXPECT_EQ(Read(work_ / "a"), before);
  EXPECT_EQ(Get(state_, "m:version"), "8");
  Put("c:c1", record);
  std::string schema = Get(state_, "m:schema");
  // Format 5's checkpoint ends with "no host position" and "no segments";
  // the older ones end before both.
  ASSERT_EQ(checkpoint.substr(checkpoint.size() - 2), std::string("\0\0", 2));
  const std::string older = checkpoint.substr(0, checkpoint.size() - 2);
  Put("m:version", "4");
  Put("m:checkpoint", older);
  std::string released = Read(work_ / "a");
  Exit four = Run();
  EXPECT_EQ(four.code, 0) << four.err;
  EXPECT_EQ(Read(work_ / "a"), released);
  EXPECT_EQ(Get(state_, "m:version"), "8");
  EXPECT_EQ(Get(state_, "m:checkpoint").substr(0, checkpoint.size()), checkpoint);

  Put("m:version", "2");
  Put("m:checkpoint", older);
  Put("m:schema", schema.substr(0, schema.size() - 2));  // format 2 ends before the zone (+08:00: 2 bytes)
  Exit two = Run();
  EXPECT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(Read(work_ / "a"), released);
  EXPECT_EQ(Get(state_, "m:version"), "8");
  EXPECT_EQ(Get(state_, "m:schema"), schema);

  Put("m:version", "1");
  Put("m:checkpoint", older);
  Exit e = Run();
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(Read(work_ / "a"), released);
  EXPECT_EQ(Get(state_, "m:version"), "8");

  Put("m:version", "1");
  Put("m:checkpoint", older + std::string("\x08\x01", 2));  // two more fields
  Exit old = Run();
  EXPECT_EQ(old.code, 1);
  EXPECT_EQ(old.err, "qm: state directory `" + state_ + "` was written by a development build of qm before v0.1 " +
                         "(state format 1 with an older checkpoint); it cannot be continued: give --state a new " +
                         "directory and run from the start\n");
}

TEST_F(Refusal, CorruptRecord) {
  Put("c:c1", "\x01\x02");
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: state directory `" + state_ + "` is corrupt: the record of customer \"c1\" cannot be read\n");
}

TEST_F(Refusal, CorruptDatabase) {
  for (const auto& entry : fs::directory_iterator(state_))
    if (entry.path().filename().string().rfind("MANIFEST", 0) == 0) Write(entry.path(), "not a manifest");
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err.rfind("qm: state directory `" + state_ + "` is corrupt: ", 0), 0u) << e.err;
}

TEST_F(Refusal, NotAStateDirectory) {
  fs::path other = work_ / "other";
  fs::create_directories(other);
  Write(other / "notes.txt", "mine");
  state_ = other.string();
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: `" + state_ + "` is not a qm state directory: it holds other files (`notes.txt`)\n");
  EXPECT_EQ(Read(other / "notes.txt"), "mine");
}

TEST_F(Refusal, OtherInput) {
  Write(work_ / "events.jsonl", "{\"type\":\"order\",\"customer\":\"c9\",\"ts\":1704067200,\"amount\":1}\n"
                                "{\"type\":\"visit\",\"customer\":\"c2\",\"ts\":1704067300,\"page\":\"p\"}\n"
                                "{\"type\":\"visit\",\"customer\":\"c2\",\"ts\":1704067400,\"page\":\"p\"}\n");
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: events `" + (work_ / "events.jsonl").string() +
                       "` are not the input the state was built from: the first 120 bytes differ (state `" + state_ +
                       "`)\n");
}

TEST_F(Refusal, ShorterInput) {
  Write(work_ / "events.jsonl", "{}\n");
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: events `" + (work_ / "events.jsonl").string() +
                       "` hold fewer bytes than the state has read from them (120): this is not the input the state "
                       "was built from (state `" + state_ + "`)\n");
}

TEST_F(Refusal, CutOutput) {
  std::string actions = Read(work_ / "a");
  Write(work_ / "a", actions.substr(0, 10));
  Exit e = Run();
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: `" + (work_ / "a").string() + "` has 10 bytes, but the state in `" + state_ + "` has written " +
                       std::to_string(actions.size()) +
                       " to it: it was cut or replaced since; restore it, or give --state a new directory\n");
}

TEST_F(Refusal, OtherTimeZone) {
  Exit e = Run({"--tz", "Z"});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: the state in `" + state_ + "` was written with --tz +08:00; give the same --tz to continue it\n");
}

// D9: the held lines belong to the --lateness they were held under.
TEST_F(Refusal, OtherLateness) {
  Exit e = Run({"--lateness", "1h"});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: the state in `" + state_ + "` was written with --lateness 0s; give the same --lateness to continue it\n");
}

TEST_F(Refusal, InUse) {
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), state_, &db).ok());
  Exit e = Run();
  delete db;
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: state directory `" + state_ + "` is in use by another qm process\n");
}

TEST_F(Refusal, NeedsOutputFiles) {
  Exit e = Qm({"run", rules_.string(), "--events", (work_ / "events.jsonl").string(), "--state", state_});
  EXPECT_EQ(e.code, 2);
  EXPECT_EQ(e.err.rfind("qm: --state needs --out and --rejects, two files: a resumed run continues them where the "
                        "state left off\n",
                        0),
            0u);
  e = Qm({"run", rules_.string(), "--events", (work_ / "events.jsonl").string(), "--state", state_, "--out",
          "/dev/null", "--rejects", (work_ / "r").string()});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: `/dev/null` is not a regular file: a durable run cuts its outputs back to the last commit when "
                   "it resumes\n");
}

TEST_F(Refusal, MissingEventsCreateNoStateDirectory) {
  std::string fresh = (work_ / "fresh").string();
  Exit e = Qm({"run", rules_.string(), "--events", (work_ / "missing.jsonl").string(), "--out",
               (work_ / "a").string(), "--rejects", (work_ / "r").string(), "--state", fresh});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: cannot open events `" + (work_ / "missing.jsonl").string() + "`: No such file or directory\n");
  EXPECT_FALSE(fs::exists(fresh));
}

// A live stream (a pipe that goes quiet) is committed when it has been idle
// for --commit-ms, so its actions are on disk before more input comes.
TEST_F(Refusal, IdlePipeIsCommitted) {
  fs::path fifo = work_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const char* name : {"state", "a", "r"}) fs::remove_all(work_ / name);
  std::string command = std::string(QM_BINARY) + " run " + rules_.string() + " --events - --out " +
                        (work_ / "a").string() + " --rejects " + (work_ / "r").string() + " --state " + state_ +
                        " --commit-ms 50 < " + fifo.string() + " 2>/dev/null";
  FILE* running = popen(command.c_str(), "r");
  FILE* feed = std::fopen(fifo.c_str(), "w");
  ASSERT_NE(feed, nullptr);
  std::fputs("{\"type\":\"order\",\"customer\":\"c1\",\"ts\":1704067200,\"amount\":1}\n", feed);
  std::fflush(feed);
  bool seen = false;  // the first order's actions, while the pipe is still open
  for (int i = 0; i < 600 && !seen; ++i) {
    seen = Read(work_ / "a").find("\"customer\":\"c1\"") != std::string::npos;
    if (!seen) usleep(50000);
  }
  EXPECT_TRUE(seen);
  std::fclose(feed);
  EXPECT_EQ(pclose(running), 0);
}

// `--events -`: a rerun reads the committed bytes again, checks them and
// continues; the pipe may carry more events than last time.
TEST_F(Refusal, StandardInputResumes) {
  std::string events = Read(work_ / "events.jsonl");
  std::string more = "{\"type\":\"order\",\"customer\":\"c2\",\"ts\":1704067400,\"amount\":5}\n";
  Write(work_ / "more.jsonl", events + more);
  std::string command = "cat " + (work_ / "more.jsonl").string() + " | " + QM_BINARY + " run " + rules_.string() +
                        " --events - --out " + (work_ / "a").string() + " --rejects " + (work_ / "r").string() +
                        " --state " + state_ + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  ASSERT_EQ(Qm({"run", rules_.string(), "--events", (work_ / "more.jsonl").string(), "--out",
                (work_ / "a0").string(), "--rejects", (work_ / "r0").string()})
                .code,
            0);
  EXPECT_EQ(Read(work_ / "a"), Read(work_ / "a0"));
  Write(work_ / "other.jsonl", more + events);
  command = "cat " + (work_ / "other.jsonl").string() + " | " + QM_BINARY + " run " + rules_.string() +
            " --events - --out " + (work_ / "a").string() + " --rejects " + (work_ / "r").string() + " --state " +
            state_ + " 2>/dev/null";
  EXPECT_NE(std::system(command.c_str()), 0);
}

}  // namespace

namespace {

// `qm state show` and `qm state stats` on tests/state/show: the expected
// outputs are files beside the events (QM_UPDATE_GOLDEN=1 rewrites them).
TEST(StateCommands, ShowAndStatsGolden) {
  fs::path dir = fs::path(QM_SOURCE_DIR) / "tests/state/show";
  fs::path work = TempDir("show");
  ASSERT_EQ(Qm({"run", (fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm").string(), "--events",
                (dir / "events.jsonl").string(), "--out", (work / "a").string(), "--rejects", (work / "r").string(),
                "--state", (work / "st").string()})
                .code,
            0);
  fs::current_path(work);  // so that outputs name the directory `st`
  struct Golden {
    std::vector<std::string> args;
    const char* file;
  };
  for (const Golden& g : {Golden{{"state", "show", "st"}, "expected_show.jsonl"},
                          Golden{{"state", "show", "st", "--customer", "客户4", "--tz", "Z"}, "expected_show_customer.jsonl"},
                          Golden{{"state", "stats", "st"}, "expected_stats.txt"},
                          Golden{{"state", "stats", "st", "--format", "json"}, "expected_stats.json"}}) {
    Exit e = Qm(g.args, {}, (work / "out").string());
    EXPECT_EQ(e.code, 0) << e.err;
    if (std::getenv("QM_UPDATE_GOLDEN") != nullptr) Write(dir / g.file, Read(work / "out"));
    EXPECT_EQ(Read(work / "out"), Read(dir / g.file)) << g.file;
  }
  fs::remove_all(work);
}

TEST(StateCommands, Refusals) {
  fs::path work = TempDir("state_refusals");
  Exit e = Qm({"state", "show", (work / "missing").string()});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: no state directory `" + (work / "missing").string() + "`\n");
  fs::create_directories(work / "empty");
  e = Qm({"state", "stats", (work / "empty").string()});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "qm: `" + (work / "empty").string() + "` is not a qm state directory: it has no database\n");
  e = Qm({"state", "list"});
  EXPECT_EQ(e.code, 2);
  e = Qm({"state", "show", (work / "empty").string(), "--format", "json"});
  EXPECT_EQ(e.code, 2);
  e = Qm({"state", "stats", (work / "empty").string(), "--customer", "c1"});
  EXPECT_EQ(e.code, 2);
  fs::remove_all(work);
}

}  // namespace

namespace {

// Damaged customer records (bytes flipped, cut, extended) are refused as
// corrupt or read as some consistent state; neither the store nor the reader
// trusts them (the ASan build runs this too).
TEST(DurableState, DamagedRecordsAreRefusedNotTrusted) {
  fs::path work = TempDir("damaged");
  fs::path rules = fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm";
  ASSERT_EQ(Qm({"run", rules.string(), "--events", (fs::path(QM_SOURCE_DIR) / "tests/state/show/events.jsonl").string(),
                "--out", (work / "a").string(), "--rejects", (work / "r").string(), "--state", (work / "st").string()})
                .code,
            0);
  qm::Compiled compiled = qm::Compile({rules.string()});
  ASSERT_TRUE(compiled.program);
  const qm::ir::Program& program = compiled.program->ir();
  std::string dir = (work / "st").string();
  std::map<std::string, std::string> records;
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, &db).ok());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("c:"); it->Valid() && it->key().starts_with("c:"); it->Next())
      records[it->key().ToString()] = it->value().ToString();
    it.reset();
    delete db;
  }
  ASSERT_EQ(records.size(), 4u);
  std::mt19937 rng(5);
  int refused = 0, read = 0;
  for (int round = 0; round < 200; ++round) {
    auto victim = std::next(records.begin(), static_cast<long>(rng() % records.size()));
    std::string bytes = victim->second;
    switch (rng() % 3) {
      case 0:
        for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips)
          bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
        break;
      case 1: bytes.resize(rng() % bytes.size()); break;
      default: bytes += std::string(1 + rng() % 8, static_cast<char>(rng())); break;
    }
    {
      rocksdb::DB* db = nullptr;
      ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir, &db).ok());
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), victim->first, bytes).ok());
      delete db;
    }
    qm::Error error;
    auto reader = qm::state::StateReader::Open(dir, &error);
    ASSERT_TRUE(reader) << error.Message(qm::Lang::kEn);
    auto read_error = reader->ForEach([](const std::string&, const qm::state::CustomerState&) {});
    reader.reset();
    auto opened = qm::state::DurableStore::Open(dir, program);
    EXPECT_EQ(opened.store == nullptr, read_error.has_value());
    if (read_error) {
      ++refused;
      std::string expected = "state directory `" + dir + "` is corrupt: the record of customer \"" +
                             victim->first.substr(2) + "\" cannot be read";
      EXPECT_EQ(read_error->Message(qm::Lang::kEn), expected);
      ASSERT_TRUE(opened.error);
      EXPECT_EQ(opened.error->Message(qm::Lang::kEn), expected);
    } else {
      ++read;
    }
    opened.store.reset();
    rocksdb::DB* db = nullptr;  // restore the record for the next round
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), victim->first, victim->second).ok());
    delete db;
  }
  EXPECT_GT(refused, 100);
  std::printf("damaged records: %d refused, %d read as consistent states\n", refused, read);
  fs::remove_all(work);
}

}  // namespace

namespace {

// The in-memory customer table: ids kept in the slot (up to 19 bytes) and
// outside it, across growth, found again and absent ones not found; each
// state in its own memory, erased ones' reused.
TEST(MemoryStore, FindsWhatWasCreatedAcrossGrowth) {
  qm::Compiled compiled = qm::Compile({(fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm").string()});
  ASSERT_TRUE(compiled.program);
  const qm::ir::Program& program = compiled.program->ir();
  auto store = qm::state::MakeMemoryStore(program);
  std::vector<std::string> ids;
  for (int i = 0; i < 20000; ++i) {
    std::string id = "客" + std::to_string(i);
    id.resize(static_cast<size_t>(i % 41), 'x');  // 0 to 40 bytes: both sides of the inline limit
    if (i % 41 > 8) id += std::to_string(i);
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // Each state's own block holds a mark of its customer: records that
  // overlapped (across the store's blocks of memory) would overwrite marks.
  auto mark = [&](size_t k, qm::state::CustomerState& s) {
    ASSERT_FALSE(s.last_event.empty());
    for (int64_t& t : s.last_event) t = static_cast<int64_t>(k);
  };
  for (size_t k = 0; k < ids.size(); ++k) {
    ASSERT_EQ(store->Find(ids[k]), nullptr) << ids[k];
    qm::state::CustomerState& s = store->Create(ids[k]);
    EXPECT_EQ(*s.id, ids[k]);
    mark(k, s);
  }
  EXPECT_EQ(store->size(), ids.size());
  // Erased customers' places are reused by new ones.
  for (size_t k = 0; k < ids.size(); k += 7) ASSERT_TRUE(store->Erase(ids[k]));
  for (size_t k = 0; k < ids.size(); k += 7) {
    ids[k] += "·new";
    mark(k, store->Create(ids[k]));
  }
  EXPECT_EQ(store->size(), ids.size());
  for (size_t k = 0; k < ids.size(); ++k) {
    qm::state::CustomerState* s = store->Find(ids[k]);
    ASSERT_NE(s, nullptr) << ids[k];
    EXPECT_EQ(*s->id, ids[k]);
    for (int64_t t : s->last_event) EXPECT_EQ(t, static_cast<int64_t>(k)) << ids[k];
    EXPECT_EQ(store->Find(ids[k] + "!"), nullptr);
  }
}

}  // namespace

namespace {

// A commit of states split over threads (runtime/shard): each part encodes
// its own and the commit writes them merged in id order. Every state of
// every part is written once, whatever its id: ids that share their first
// sixteen bytes (the order is decided past them), differ only by trailing
// NULs, are empty, long or not UTF-8; and a second commit writes only what
// changed since, the rest kept as the first commit wrote it.
TEST(DurableState, CommitOfSplitStatesWritesEachOnce) {
  qm::Compiled compiled = qm::Compile({(fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm").string()});
  ASSERT_TRUE(compiled.program);
  const qm::ir::Program& program = compiled.program->ir();
  const fs::path dir = TempDir("split_commit");
  std::vector<std::string> ids = {"", std::string(1, '\0'), std::string("c1\0", 3), "c1", "c10", "\xff\xfe",
                                  std::string(16, 'p') + "b", std::string(16, 'p') + "a", std::string(16, 'p'),
                                  std::string(15, 'p') + std::string(1, '\0') + "z"};
  // 9,000 ids: the first commit encodes each part on a thread of its own, the
  // second (a fifth of them) each part in place.
  for (int i = 0; i < 9000; ++i) ids.push_back((i % 3 == 0 ? "客户-二〇二六-" : "c") + std::to_string(i * 7919 % 9001));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto read_back = [&] {
    qm::Error error;
    auto reader = qm::state::StateReader::Open(dir.string(), &error);
    EXPECT_TRUE(reader) << error.Message(qm::Lang::kEn);
    std::vector<std::pair<std::string, int64_t>> clocks;
    if (reader) reader->ForEach([&](const std::string& id, const qm::state::CustomerState& s) { clocks.emplace_back(id, s.clock); });
    return clocks;
  };
  std::vector<std::pair<std::string, int64_t>> expected;
  for (int round = 0; round < 2; ++round) {
    auto opened = qm::state::DurableStore::Open(dir.string(), program);
    ASSERT_TRUE(opened.store) << opened.error->Message(qm::Lang::kEn);
    ASSERT_FALSE(opened.store->BeginWriting());
    std::vector<qm::state::Store*> parts =
        opened.store->Split(3, [](const std::string& id) { return qm::StableHash32(id) % 3; });
    expected.clear();
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string& id = ids[i];
      qm::state::Store& part = *parts[qm::StableHash32(id) % 3];
      qm::state::CustomerState* s = part.Find(id);
      if (s == nullptr) s = &part.Create(id);
      if (round == 0 || i % 5 == 0) {  // the second round changes a fifth
        s->clock = 1000 * static_cast<int64_t>(i) + round;
        part.Touch(*s);
      }
      expected.emplace_back(id, s->clock);
    }
    qm::state::Checkpoint checkpoint;
    checkpoint.input_lines = round + 1;
    ASSERT_FALSE(opened.store->Commit(checkpoint));
  }
  EXPECT_EQ(read_back(), expected);
  fs::remove_all(dir);
}

}  // namespace
