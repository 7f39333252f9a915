// libFuzzer target: any bytes as event lines through the decoder and the
// engine (interpreter), against a rule file that uses every value type.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_rules.h"
#include "runtime/sink/sink.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static qm::fuzz::Rules fixture;
  auto evaluator = fixture.compiled.program->MakeEvaluator(qm::EngineKind::kInterpreter, nullptr);
  auto store = qm::state::MakeMemoryStore(*fixture.program);
  qm::sink::StringSink sink;
  qm::engine::Engine engine(*fixture.program, *evaluator, *store, sink);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  int64_t line = 0;
  for (size_t start = 0; start <= input.size();) {
    size_t nl = input.find('\n', start);
    if (nl == std::string_view::npos) nl = input.size();
    engine.ProcessLine(input.substr(start, nl - start), ++line);
    start = nl + 1;
  }
  engine.FireUntil(253402300799999);
  return 0;
}
