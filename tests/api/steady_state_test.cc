// A run in its steady state allocates nothing per event or timer step
// (docs/performance.md): a stream whose customers are all known, whose
// timers all fire at once and are armed again, costs no more allocations
// than the run that met them first, up to the queue's spare nodes growing
// once. Counted by replacing the global operator new in this binary.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "qianmian/qianmian.hpp"
#include "tests/support/files.h"

// Under AddressSanitizer, operator new is the sanitizer's: replacing it
// mixes its records with malloc's (an alloc-dealloc mismatch inside LLVM),
// and what it counts would not be the program's. The count is taken in the
// normal build.
#if defined(__SANITIZE_ADDRESS__)
#define QM_COUNTS_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QM_COUNTS_ALLOCATIONS 0
#endif
#endif
#ifndef QM_COUNTS_ALLOCATIONS
#define QM_COUNTS_ALLOCATIONS 1
#endif

namespace {

std::atomic<long long> g_allocations{0};

}  // namespace

#if QM_COUNTS_ALLOCATIONS
namespace {

void* Allocate(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) { return Allocate(n); }
void* operator new[](std::size_t n) { return Allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

namespace fs = std::filesystem;

constexpr int kCustomers = 3000;  // more timers fire at once than any fixed pool of spares holds

// Each customer visits twice, an hour apart (the second visit cancels the
// first's `after ... unless visit`); with `again`, twice more 30 days later,
// when every timer still pending fires first.
std::string Stream(bool again) {
  std::string lines;
  for (int round = 0; round < (again ? 2 : 1); ++round)
    for (int64_t later : {0, 3600})
      for (int c = 0; c < kCustomers; ++c)
        lines += "{\"ts\":" + std::to_string(1717171200 + round * 30 * 86400 + later + c) + ",\"customer\":\"c" +
                 std::to_string(c) + "\",\"type\":\"visit\",\"page\":\"home\"}\n";
  return lines;
}

long long Allocations(const qianmian::RuleSet& rules, const fs::path& events, qianmian::Engine engine, int threads) {
  qianmian::StreamOptions options;
  options.events = events.string();
  options.out = "/dev/null";
  options.rejects = "/dev/null";
  options.engine = engine;
  options.threads = threads;
  const long long before = g_allocations.load();
  qianmian::StreamResult result = qianmian::RunStream(rules, options);
  EXPECT_TRUE(result.ok()) << result.error;
  return g_allocations.load() - before;
}

// On both engines, what running `twice` allocates beyond running `once`
// (after a first run that pays the process's one-time allocations) is under
// 100: the second round's steps allocate nothing, up to vectors doubling.
void ExpectSecondRoundAllocatesNothing(const std::string& name, const std::string& rules_text, const std::string& once,
                                       const std::string& twice, int threads = 1) {
  const fs::path dir = qm::testing_internal::TempDir("qm_steady_state_test", name);
  qm::testing_internal::Write(dir / "once.jsonl", once);
  qm::testing_internal::Write(dir / "twice.jsonl", twice);
  qianmian::RuleSet rules = qianmian::RuleSet::FromText(name + ".qm", rules_text);
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    Allocations(rules, dir / "once.jsonl", engine, threads);
    const long long first = Allocations(rules, dir / "once.jsonl", engine, threads);
    const long long both = Allocations(rules, dir / "twice.jsonl", engine, threads);
    EXPECT_LT(both - first, 100) << "first pass " << first << ", both passes " << both;
  }
}

// The second round: 6,000 events, 12,000 timers fired (the first round's)
// and 3,000 cancelled. What it may allocate is vectors growing to the most
// timers that fired at once, the spares' among them: 54 on GCC 12 (one per
// doubling), against 26,013 when every node was new.
TEST(SteadyState, TimersFiredTogetherAndArmedAgainAllocateNothing) {
  if (!QM_COUNTS_ALLOCATIONS) GTEST_SKIP() << "allocations are counted in the build without AddressSanitizer";
  ExpectSecondRoundAllocatesNothing("timers", R"(
event visit { page: text }
tag 沉睡 "一天没来"
tag 关怀过 "来过两小时后"
rule 沉睡: when no visit for 1d then tag 沉睡
rule 回来: when visit and has 沉睡 then untag 沉睡
rule 关怀: when visit then after 2h tag 关怀过
rule 再来: when visit then after 1d untag 关怀过 unless visit
)", Stream(false), Stream(true));
}

// Pushes sent again a month later to groups whose keys pass 15 bytes
// (`p:高端会员专属群`, where a std::string allocates), under a cap whose
// window has let the first round's emissions go: a push that is sent adds
// nothing new to a history that already has its target. The second round
// sends 6,000 pushes; each once built its key (two allocations, sent and
// capped) before keys were built only to be kept.
TEST(SteadyState, PushesSentAgainAllocateNothing) {
  if (!QM_COUNTS_ALLOCATIONS) GTEST_SKIP() << "allocations are counted in the build without AddressSanitizer";
  ExpectSecondRoundAllocatesNothing("pushes", R"(
event visit { page: text }
cap push 3 per 7d
rule 欢迎: when visit then push 高端会员专属群 every 1d
rule 护理: when visit then push 敏感肌护理专题群 every 1d
)", Stream(false), Stream(true));
}

// Two threads reuse a batch's decoded events (16,384 lines) from batch to
// batch. The first round is all narrow `visit` lines, the second a month
// later all wide `order` lines: each reused event held only the narrow type
// before, and grew its field vectors for the wide one (two allocations per
// line of a batch) until events got room for the widest type at first use.
TEST(SteadyState, ReusedEventsOfTwoThreadsDoNotGrow) {
  if (!QM_COUNTS_ALLOCATIONS) GTEST_SKIP() << "allocations are counted in the build without AddressSanitizer";
  constexpr int kLines = 20000;  // more than a batch
  auto line = [](int i, int64_t ts, const char* rest) {
    return "{\"ts\":" + std::to_string(ts) + ",\"customer\":\"c" + std::to_string(i % kCustomers) + "\"," + rest + "}\n";
  };
  std::string once, again;
  for (int i = 0; i < kLines; ++i) once += line(i, 1717171200 + i, "\"type\":\"visit\",\"page\":\"home\"");
  for (int i = 0; i < kLines; ++i)
    again += line(i, 1717171200 + 30 * 86400 + i, "\"type\":\"order\",\"amount\":12.5,\"product\":\"面霜\",\"channel\":\"天猫\"");
  ExpectSecondRoundAllocatesNothing("events", R"(
event visit { page: text }
event order { amount: money, product: text, channel: text }
tag 来过 "来过"
rule 来过: when visit then tag 来过
)", once, once + again, /*threads=*/2);
}

}  // namespace
