// The event decoder alone, on lines of the reference stream held in memory
// (peers20.qm's schema; bench/reference_stream.sh makes the stream):
//  - BM_Decode: Decoder::Decode, every check of A38 and every field typed;
//  - BM_ReadJson: the strict JSON reader under it, without the typing.
// Both report ns per line; the stream is QM_BENCH_STREAM, or
// /tmp/qm-bench/stream-1000000.jsonl, of which the first 200,000 lines.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/program/program.h"
#include "runtime/event/decode.h"
#include "runtime/event/internal/json.h"

namespace {

using namespace qm;

const Program& Peers() {
  static std::shared_ptr<const Program> peers = [] {
    std::ifstream in(QM_SHARED_DIR "/bench/peers20.qm");
    std::stringstream s;
    s << in.rdbuf();
    Compiled compiled = CompileText("peers20.qm", s.str());
    if (!compiled.program) {
      std::fprintf(stderr, "peers20.qm does not check\n");
      std::exit(1);
    }
    return compiled.program;
  }();
  return *peers;
}

const std::vector<std::string>& Lines() {
  static std::vector<std::string> lines = [] {
    const char* path = std::getenv("QM_BENCH_STREAM");
    std::ifstream in(path != nullptr ? path : "/tmp/qm-bench/stream-1000000.jsonl");
    std::vector<std::string> out;
    for (std::string line; out.size() < 200'000 && std::getline(in, line);) out.push_back(line);
    if (out.empty()) {
      std::fprintf(stderr, "no stream: run bench/compare.sh once, or set QM_BENCH_STREAM\n");
      std::exit(1);
    }
    return out;
  }();
  return lines;
}

void BM_Decode(benchmark::State& state) {
  event::Decoder decoder(Peers().ir());
  event::Event event;
  event::Reject reject;
  const std::vector<std::string>& lines = Lines();
  int64_t accepted = 0;
  for (auto _ : state)
    for (const std::string& line : lines) accepted += decoder.Decode(line, event, reject);
  if (accepted != static_cast<int64_t>(state.iterations() * lines.size())) state.SkipWithError("a line was rejected");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines.size()));
  state.counters["ns_per_line"] = benchmark::Counter(static_cast<double>(state.iterations() * lines.size()),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_ReadJson(benchmark::State& state) {
  std::vector<event_internal::Member> members;
  const std::vector<std::string>& lines = Lines();
  for (auto _ : state) {
    for (const std::string& line : lines) {
      size_t count = 0;
      bool is_object = false;
      benchmark::DoNotOptimize(event_internal::JsonReader(line).ReadTop(is_object, members, count));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines.size()));
  state.counters["ns_per_line"] = benchmark::Counter(static_cast<double>(state.iterations() * lines.size()),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ReadJson)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
