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

long long Allocations(const qianmian::RuleSet& rules, const fs::path& events, qianmian::Engine engine) {
  qianmian::StreamOptions options;
  options.events = events.string();
  options.out = "/dev/null";
  options.rejects = "/dev/null";
  options.engine = engine;
  options.threads = 1;
  const long long before = g_allocations.load();
  qianmian::StreamResult result = qianmian::RunStream(rules, options);
  EXPECT_TRUE(result.ok()) << result.error;
  return g_allocations.load() - before;
}

TEST(SteadyState, TimersFiredTogetherAndArmedAgainAllocateNothing) {
  if (!QM_COUNTS_ALLOCATIONS) GTEST_SKIP() << "allocations are counted in the build without AddressSanitizer";
  const fs::path dir = qm::testing_internal::TempDir("qm_steady_state_test", "timers");
  const fs::path once = dir / "once.jsonl", twice = dir / "twice.jsonl";
  qm::testing_internal::Write(once, Stream(false));
  qm::testing_internal::Write(twice, Stream(true));
  qianmian::RuleSet rules = qianmian::RuleSet::FromText("steady.qm", R"(
event visit { page: text }
tag 沉睡 "一天没来"
tag 关怀过 "来过两小时后"
rule 沉睡: when no visit for 1d then tag 沉睡
rule 回来: when visit and has 沉睡 then untag 沉睡
rule 关怀: when visit then after 2h tag 关怀过
rule 再来: when visit then after 1d untag 关怀过 unless visit
)");
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    Allocations(rules, once, engine);  // the process's one-time allocations
    const long long first = Allocations(rules, once, engine);
    const long long both = Allocations(rules, twice, engine);
    // The second round: 6,000 events, 12,000 timers fired (the first
    // round's) and 3,000 cancelled. What it may allocate is vectors growing
    // to the most timers that fired at once, the spares' among them: 54 on
    // GCC 12 (one per doubling), against 26,013 when every node was new.
    EXPECT_LT(both - first, 100) << "first pass " << first << ", both passes " << both;
  }
}

// Pushes sent again a month later to groups whose keys pass 15 bytes
// (`p:高端会员专属群`, where a std::string allocates), under a cap whose
// window has let the first round's emissions go: a push that is sent
// adds nothing new to a history that already has its target.
TEST(SteadyState, PushesSentAgainAllocateNothing) {
  if (!QM_COUNTS_ALLOCATIONS) GTEST_SKIP() << "allocations are counted in the build without AddressSanitizer";
  const fs::path dir = qm::testing_internal::TempDir("qm_steady_state_test", "pushes");
  const fs::path once = dir / "once.jsonl", twice = dir / "twice.jsonl";
  qm::testing_internal::Write(once, Stream(false));
  qm::testing_internal::Write(twice, Stream(true));
  qianmian::RuleSet rules = qianmian::RuleSet::FromText("pushes.qm", R"(
event visit { page: text }
cap push 3 per 7d
rule 欢迎: when visit then push 高端会员专属群 every 1d
rule 护理: when visit then push 敏感肌护理专题群 every 1d
)");
  ASSERT_TRUE(rules.ok());
  for (qianmian::Engine engine : {qianmian::Engine::kJit, qianmian::Engine::kInterpreter}) {
    Allocations(rules, once, engine);
    const long long first = Allocations(rules, once, engine);
    const long long both = Allocations(rules, twice, engine);
    // The second round sends 6,000 pushes; each once built its key (two
    // allocations, sent and capped) before keys were built only to be kept.
    EXPECT_LT(both - first, 100) << "first pass " << first << ", both passes " << both;
  }
}

}  // namespace
