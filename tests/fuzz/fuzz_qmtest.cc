// libFuzzer target: any bytes as a `.qmtest` file (`qm test`'s input, docs/
// tooling.md). The property is "no crash, no hang, no sanitizer report": a
// bad file is a message with its line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cli/rule_tests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Files the input names are looked up in a directory that does not exist.
  qm::cli::TestFile file = qm::cli::ParseTestFile("/nonexistent/fuzz.qmtest", text, qm::Lang::kZh);
  (void)file;
  return 0;
}
