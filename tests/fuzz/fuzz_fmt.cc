// libFuzzer target: any bytes as a rule file through `qm fmt`'s formatter.
// Beyond "no crash, no hang, no sanitizer report": whatever it formats,
// formatting again changes nothing and the tree is the one of the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compiler/format/format.h"
#include "compiler/parse/parse.h"

namespace {

std::string Tree(const std::string& text) {
  qm::Source source("fuzz.qm", text);
  qm::Diagnostics diags;
  return qm::ast::DebugString(qm::parse::Parse(source, diags));
}

std::optional<std::string> Fmt(const std::string& text) {
  qm::Source source("fuzz.qm", text);
  qm::Diagnostics diags;
  return qm::format::Format(source, diags);
}

void Fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "fuzz_fmt: %s\n--- formatted:\n%s\n", what, text.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::optional<std::string> once = Fmt(text);
  if (!once) return 0;
  std::optional<std::string> twice = Fmt(*once);
  if (!twice) Fail("the formatted text cannot be formatted", *once);
  if (*twice != *once) Fail("formatting is not idempotent", *once);
  if (Tree(*once) != Tree(text)) Fail("formatting changed the tree", *once);
  return 0;
}
