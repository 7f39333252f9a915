// libFuzzer target: any bytes as a rule file through parse and check. The
// property is "no crash, no hang, no sanitizer report"; diagnostics are fine.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/driver/driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto compilation = qm::driver::CompileText("fuzz.qm", std::move(text));
  for (const qm::Diagnostic& d : compilation->diags.all()) {
    (void)qm::RenderText(d, qm::Lang::kEn);
    (void)qm::RenderJson(d, qm::Lang::kZh);
  }
  return 0;
}
