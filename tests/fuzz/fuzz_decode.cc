// libFuzzer target: any bytes as event lines through the decoder and the
// engine (interpreter), against a rule file that uses every value type.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/driver/driver.h"
#include "compiler/interp/interp.h"
#include "runtime/sink/sink.h"

namespace {

struct Fixture {
  Fixture() {
    auto c = qm::driver::CompileText("fuzz.qm", R"(
enum 等级 { S, A, B }
event e { i: int, m: money, n: number, b: bool, t: text, g: 等级, at: time, d: duration }
profile {
  total: money
  n: number
  seen: time
}
tag 高 "high"
rule 一: when e and m > 100 and count(e within 1h) >= 2 then add total e.m, tag 高, push 券 every 1h
rule 二: when e and t contains "x" or g in (S, A) then add profile.n e.n, set seen at
rule 三: when no e for 1h and has 高 then untag 高, after 1h notify 客服 "回访" unless e
rule 四: when tagged 高 and avg(e.m within 1d) > 99.995 then set total 1
)");
    program = std::make_unique<qm::ir::Program>(qm::ir::Lower(std::move(*c->program)));
    compilation = std::move(c);
  }
  std::unique_ptr<qm::driver::Compilation> compilation;
  std::unique_ptr<qm::ir::Program> program;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  auto evaluator = qm::interp::MakeInterpreter(*fixture.program);
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
