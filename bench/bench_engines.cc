// The JIT against the interpreter, measured in the same run:
//  - BM_Match/<engine>_<event>: evaluation only, all rules an event of that type triggers
//    (peers20.qm, ../shared/bench), against a fixed snapshot;
//  - BM_Compile/<rules>: check + lower + JIT of generated rule sets (1,000: target < 300 ms);
//  - BM_MatchFew/<engine>/<total rules>: the cost of an event whose type triggers 5 rules
//    while the rule set grows (should stay flat).
#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "bench/rule_gen.h"
#include "compiler/program/program.h"

namespace {

using namespace qm;

// A snapshot with every read answered from arrays: what both engines see.
class FixedView final : public ir::StepView {
 public:
  explicit FixedView(const check::Program& p, int32_t event) {
    for (const auto& f : p.events[event].fields) event_.push_back(Sample(f.type, p));
    for (const auto& f : p.profile) profile_.push_back(Sample(f.type, p));
    for (const Value& v : profile_) stored_.push_back(Stored::Of(v));
    for (size_t a = 0; a < p.aggregates.size(); ++a) aggregates_.push_back(Value::Int(static_cast<int64_t>(a % 5)));
  }
  Value EventField(int32_t f) const override { return event_[f]; }
  const Value* EventFields() const override { return event_.data(); }
  Value ProfileField(int32_t f) const override { return profile_[f]; }
  const Stored* ProfileFields() const override { return stored_.data(); }
  bool HasTag(int32_t t) const override { return t % 2 == 0; }
  Value Aggregate(int32_t a) const override { return aggregates_[a]; }
  Value Since(int32_t) const override { return Value::Duration(15LL * 86'400'000); }
  Value SinceField(int32_t) const override { return Value::Duration(3'600'000); }
  int64_t Now() const override { return 1'700'000'000'000; }
  std::string_view Customer() const override { return "c1"; }

 private:
  static Value Sample(const check::Type& t, const check::Program& p) {
    switch (t.kind) {
      case check::TypeKind::kInt: return Value::Int(25);
      case check::TypeKind::kMoney: return Value::Money(59900);
      case check::TypeKind::kNumber: return Value::Number(0.5);
      case check::TypeKind::kBool: return Value::Bool(true);
      case check::TypeKind::kText: return Value::Text("小程序");
      case check::TypeKind::kEnum: return Value::Enum(static_cast<int64_t>(p.enums[t.enum_id].members.size()) - 1);
      default: return Value::Time(1'700'000'000'000);
    }
  }
  std::vector<Value> event_, profile_, aggregates_;
  std::vector<Stored> stored_;
};

using Loaded = std::shared_ptr<const Program>;

Loaded Load(const std::string& name, std::string text) {
  Compiled compiled = CompileText(name, std::move(text));
  if (!compiled.program) {
    std::fprintf(stderr, "%s does not check\n", name.c_str());
    std::exit(1);
  }
  return compiled.program;
}

const Program& Peers() {
  static Loaded peers = [] {
    std::ifstream in(QM_SHARED_DIR "/bench/peers20.qm");
    std::stringstream s;
    s << in.rdbuf();
    return Load("peers20.qm", s.str());
  }();
  return *peers;
}

std::unique_ptr<ir::Evaluator> Make(const Program& program, bool jit) {
  std::string error;
  auto e = program.MakeEvaluator(jit ? EngineKind::kJit : EngineKind::kInterpreter, &error);
  if (!e) {
    std::fprintf(stderr, "JIT: %s\n", error.c_str());
    std::exit(1);
  }
  return e;
}

void Match(benchmark::State& state, const Program& program, int32_t event, bool jit) {
  auto evaluator = Make(program, jit);
  const ir::Program& p = program.ir();
  FixedView view(p.checked, event);
  std::vector<int32_t> matched;
  const auto& rules = p.rules_by_event[event];  // for the counter
  for (auto _ : state) {
    matched.clear();
    evaluator->MatchEvent(event, view, matched);
    benchmark::DoNotOptimize(matched.data());
  }
  state.counters["rules"] = static_cast<double>(rules.size());
  state.counters["matched"] = static_cast<double>(matched.size());
}

// BM_Match/<engine>_<event>: every event type of peers20, the two engines in
// turn. Registered from main: the rule set cannot be compiled during static
// initialization.
void RegisterMatches() {
  const check::Program& p = Peers().ir().checked;
  for (size_t e = 0; e < p.events.size(); ++e) {
    for (bool jit : {false, true}) {
      std::string name = std::string("BM_Match/") + (jit ? "jit_" : "interp_") + p.events[e].name;
      benchmark::RegisterBenchmark(name.c_str(), [e, jit](benchmark::State& state) {
        Match(state, Peers(), static_cast<int32_t>(e), jit);
      });
    }
  }
}

void BM_Compile(benchmark::State& state) {
  std::string text = bench::GenerateRules(static_cast<int>(state.range(0)), 7);
  uint32_t salt = 0;
  double check_ms = 0, codegen_ms = 0, optimize_ms = 0, jit_ms = 0;
  for (auto _ : state) {
    // A fresh rule makes every iteration miss the compile cache.
    ++salt;
    auto start = std::chrono::steady_clock::now();
    Loaded l = Load("gen.qm", text + "rule salt" + std::to_string(salt) + ": when ev0 and amount >= " +
                                  std::to_string(salt) + " then add score0 1\n");
    check_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::string error;
    jit::CompileStats stats;
    auto e = l->MakeEvaluator(EngineKind::kJit, &error, &stats);
    benchmark::DoNotOptimize(e.get());
    codegen_ms += stats.codegen_ms, optimize_ms += stats.optimize_ms, jit_ms += stats.jit_ms;
  }
  // Where the time goes: parse + check + lower, then the JIT's three phases.
  double n = static_cast<double>(state.iterations());
  state.counters["check_ms"] = check_ms / n;
  state.counters["codegen_ms"] = codegen_ms / n;
  state.counters["optimize_ms"] = optimize_ms / n;
  state.counters["jit_ms"] = jit_ms / n;
}
BENCHMARK(BM_Compile)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(3);

// A rule set of `total` rules where event ev0 triggers exactly 5 of them.
std::string FewMatching(int total) {
  std::string text = bench::GenerateRules(0, 3);
  for (int r = 0; r < total; ++r) {
    int event = r < 5 ? 0 : 1 + r % 19;
    text += "rule g" + std::to_string(r) + ": when ev" + std::to_string(event) + " and amount >= " +
            std::to_string(r % 500) + " and score" + std::to_string(r % 10) + " < " + std::to_string(r % 97) +
            " then add score" + std::to_string(r % 10) + " 1\n";
  }
  return text;
}

void BM_MatchFew(benchmark::State& state, bool jit) {
  static std::map<int, Loaded> sets;
  int total = static_cast<int>(state.range(0));
  if (!sets.count(total)) sets.emplace(total, Load("few.qm", FewMatching(total)));
  Match(state, *sets[total], 0, jit);
}
BENCHMARK_CAPTURE(BM_MatchFew, interp, false)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_MatchFew, jit, true)->Arg(100)->Arg(1000)->Arg(10000);

}  // namespace

int main(int argc, char** argv) {
  RegisterMatches();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
