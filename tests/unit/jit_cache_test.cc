// The JIT's compiled-code cache (docs/embedding.md, "Threads"): code
// outlives its evaluators, the cache is bounded, and a rule set already
// compiled never waits behind another's compile.
#include <atomic>
#include <chrono>
#include <thread>

#include "compiler/jit/jit.h"
#include "gtest/gtest.h"
#include "tests/support/engines.h"

namespace {

using qm::testing_internal::CompileOrExplain;

std::shared_ptr<const qm::Program> Rules(const std::string& target, int rules = 1) {
  std::string text = "event order { amount: money }\n";
  for (int r = 0; r < rules; ++r)
    text += "when order and amount >= " + std::to_string(r) + " and amount < " + std::to_string(r * 7 + 3) +
            " then push " + target + std::to_string(r) + "\n";
  std::string why;
  auto program = CompileOrExplain("r.qm", text, why);
  EXPECT_NE(program, nullptr) << why;
  return program;
}

bool CacheHit(const qm::Program& program) {
  qm::jit::CompileStats stats;
  std::string error;
  EXPECT_NE(qm::jit::MakeJit(program.ir(), &error, &stats), nullptr) << error;
  return stats.cache_hit;
}

TEST(JitCache, CodeOutlivesItsEvaluators) {
  auto program = Rules("outlives");
  CacheHit(*program);  // compiled (or found) and its evaluator dropped at once
  EXPECT_TRUE(CacheHit(*program));
  auto same = Rules("outlives");  // an equal rule set compiled again: the same fingerprint
  EXPECT_TRUE(CacheHit(*same));
}

TEST(JitCache, KeepsTheSixteenMostRecentlyUsed) {
  auto first = Rules("first");
  CacheHit(*first);
  for (int i = 0; i < 16; ++i) CacheHit(*Rules("other" + std::to_string(i)));
  EXPECT_FALSE(CacheHit(*first));  // pushed out by sixteen others
  auto recent = Rules("recent");
  CacheHit(*recent);
  for (int i = 0; i < 15; ++i) CacheHit(*Rules("more" + std::to_string(i)));
  EXPECT_TRUE(CacheHit(*recent));
}

// With one lock over every compile, the cached rule set could only be had
// after the large compile ended.
TEST(JitCache, ACachedRuleSetDoesNotWaitBehindACompile) {
  auto small = Rules("small");
  CacheHit(*small);
  auto large = Rules("large", 6000);
  std::atomic<bool> large_started{false}, large_done{false};
  std::thread compiling([&] {
    large_started = true;
    qm::jit::CompileStats stats;
    std::string error;
    EXPECT_NE(qm::jit::MakeJit(large->ir(), &error, &stats), nullptr) << error;
    EXPECT_FALSE(stats.cache_hit);
    std::printf("large compile: %.0f ms\n", stats.codegen_ms + stats.optimize_ms + stats.jit_ms);
    large_done = true;
  });
  while (!large_started) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // well into the compile
  EXPECT_TRUE(CacheHit(*small));
  bool small_first = !large_done;
  compiling.join();
  EXPECT_TRUE(small_first) << "the cached rule set waited for the large compile";
}

}  // namespace
