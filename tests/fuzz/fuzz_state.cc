// libFuzzer target: crafted state records (the value of `c:<id>` in a state
// directory). The property: a record is refused as a load would refuse it,
// or both engines continue from it and write identical bytes (issue 9,
// class 6: an extreme aggregate count once crashed the JIT alone).
//
// Seeds are real records: with QM_FUZZ_SEEDS=DIR, initialization writes the
// records of customers built by a short event stream into DIR.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/sink/sink.h"
#include "runtime/state/internal/codec.h"
#include "tests/fuzz/fuzz_rules.h"

namespace {

using qm::state::CustomerState;

// A step or two on every kind of state, then every timer.
constexpr const char* kLines[] = {
    R"({"type":"e","customer":"c1","ts":"2024-03-01T10:00:00Z","i":1,"m":150,"n":2.5,"t":"x","g":"S","at":"2024-03-01T09:00:00Z","d":60})",
    R"({"type":"e","customer":"c1","ts":"2024-03-01T10:30:00Z","i":2,"m":"99.99","n":-1,"t":"y","g":"B"})",
    R"({"type":"e","customer":"c2","ts":"2024-03-02T00:00:00Z","m":300})",
};

struct Fixture {
  qm::fuzz::Rules rules;
  std::unique_ptr<qm::ir::Evaluator> interp = rules.compiled.program->MakeEvaluator(qm::EngineKind::kInterpreter, nullptr);
  std::unique_ptr<qm::ir::Evaluator> jit;
  Fixture() {
    std::string error;
    jit = rules.compiled.program->MakeEvaluator(qm::EngineKind::kJit, &error);
    if (!jit) {
      std::fprintf(stderr, "fuzz_state: the JIT failed: %s\n", error.c_str());
      std::abort();
    }
  }

  // Continues from `state` as customer c1 on one engine: the outputs.
  std::string Run(const CustomerState& state, qm::ir::Evaluator& evaluator) {
    auto store = qm::state::MakeMemoryStore(*rules.program);
    CustomerState& c1 = store->Create("c1");
    const std::string* id = c1.id;
    c1 = state;
    c1.id = id;
    qm::sink::StringSink sink;
    qm::engine::Engine engine(*rules.program, evaluator, *store, sink);
    engine.Resume();
    int64_t line = 0;
    for (const char* l : kLines) engine.ProcessLine(l, ++line);
    engine.FireUntil(253402300799999);  // 9999-12-30T23:59:59.999Z
    return sink.actions + "--\n" + sink.rejects;
  }
};

Fixture& Get() {
  static Fixture fixture;
  return fixture;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* seeds = std::getenv("QM_FUZZ_SEEDS");
  if (seeds == nullptr) return 0;
  Fixture& f = Get();
  auto store = qm::state::MakeMemoryStore(*f.rules.program);
  qm::sink::StringSink sink;
  qm::engine::Engine engine(*f.rules.program, *f.interp, *store, sink);
  int64_t line = 0;
  for (const char* l : kLines) engine.ProcessLine(l, ++line);
  int n = 0;
  store->ForEach([&](CustomerState& s) {
    std::ofstream(std::filesystem::path(seeds) / ("seed" + std::to_string(n++)), std::ios::binary)
        << qm::state_internal::EncodeRecord(s);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = Get();
  CustomerState state = qm::state::NewCustomer(*f.rules.program);
  if (!qm::state_internal::DecodeRecord(std::string_view(reinterpret_cast<const char*>(data), size),
                                        *f.rules.program, state))
    return 0;  // refused, as a run would refuse it
  if (f.Run(state, *f.interp) != f.Run(state, *f.jit)) {
    std::fprintf(stderr, "fuzz_state: the engines differ on an accepted record\n");
    std::abort();
  }
  return 0;
}
