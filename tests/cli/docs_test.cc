// The docs stay true: every ```qm block of docs/language.md checks without
// errors, and docs/diagnostics.md documents every diagnostic code.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/driver/driver.h"
#include "gtest/gtest.h"

namespace qm {
namespace {

std::string Read(const std::string& rel) {
  std::ifstream in(std::filesystem::path(QM_SOURCE_DIR) / rel, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Docs, EveryLanguageExampleChecks) {
  std::string doc = Read("docs/language.md");
  int blocks = 0;
  for (size_t at = doc.find("\n```qm\n"); at != std::string::npos; at = doc.find("\n```qm\n", at)) {
    size_t begin = at + 7;
    size_t end = doc.find("```", begin);
    ASSERT_NE(end, std::string::npos);
    auto c = driver::CompileText("language.md#" + std::to_string(++blocks), doc.substr(begin, end - begin));
    std::string rendered;
    for (const Diagnostic& d : c->diags.all()) rendered += RenderText(d, Lang::kEn);
    EXPECT_FALSE(c->diags.has_errors()) << rendered;
    at = end + 3;
  }
  EXPECT_GE(blocks, 4);
}

TEST(Docs, EveryDiagnosticCodeIsDocumented) {
  std::string doc = Read("docs/diagnostics.md");
  for (const DiagInfo& info : AllDiagKinds()) {
    EXPECT_NE(doc.find("## " + std::string(info.code)), std::string::npos) << info.code << " " << info.name;
  }
}

}  // namespace
}  // namespace qm
