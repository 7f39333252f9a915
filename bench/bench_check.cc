// Front-end throughput: parse + check of generated rule files, against a
// baseline measured in the same run (scanning the same bytes for line ends),
// so the ratio survives noisy machines.
//   bench_check                       run the benchmarks
//   bench_check --write N FILE        write the N-rule file, for `time qm check FILE`
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>

#include "bench/rule_gen.h"
#include "compiler/driver/driver.h"

namespace {

const std::string& RulesOf(int n) {
  static std::map<int, std::string> cache;
  auto [it, fresh] = cache.try_emplace(n);
  if (fresh) it->second = qm::bench::GenerateRules(n);
  return it->second;
}

void BM_ScanLines(benchmark::State& state) {
  const std::string& text = RulesOf(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    size_t lines = 0;
    for (const char* p = text.data(); (p = static_cast<const char*>(std::memchr(p, '\n', text.data() + text.size() - p)));
         ++p)
      ++lines;
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}

void BM_ParseAndCheck(benchmark::State& state) {
  const std::string& text = RulesOf(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto c = qm::driver::CompileText("bench.qm", text);
    if (!c->program) state.SkipWithError("generated rules did not check clean");
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.counters["rules"] = static_cast<double>(state.range(0));
}

BENCHMARK(BM_ScanLines)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseAndCheck)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--write") == 0) {
    std::ofstream(argv[3], std::ios::binary) << qm::bench::GenerateRules(std::atoi(argv[2]));
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
