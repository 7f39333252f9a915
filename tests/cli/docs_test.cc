// The docs stay true: every ```qm block of docs/language.md checks without
// errors, and docs/diagnostics.md documents every diagnostic code.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "compiler/driver/driver.h"
#include "gtest/gtest.h"
#include "tests/support/files.h"

namespace qm {
namespace {

std::string Read(const std::string& rel) { return testing_internal::Read(std::filesystem::path(QM_SOURCE_DIR) / rel); }

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

namespace qm {
namespace {

// Every numbered item of SEMANTICS.md (A1-A47, B1-B10, C1-C6, D1-D15, E1-E23) is cited by at
// least one test: a test file, a golden case or a case folder names it.
TEST(Docs, EverySemanticsItemIsCitedByATest) {
  std::string corpus;
  for (const auto& e : std::filesystem::recursive_directory_iterator(std::filesystem::path(QM_SOURCE_DIR) / "tests")) {
    std::string name = e.path().filename().string();
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    corpus += " " + name + " ";
    // This file names every item; it cites none.
    if (e.path().filename() == "docs_test.cc") continue;
    if (e.is_regular_file() && (e.path().extension() == ".cc" || e.path().extension() == ".qm"))
      corpus += Read(std::filesystem::relative(e.path(), QM_SOURCE_DIR).string());
  }
  auto cited = [&](const std::string& id) {
    for (size_t at = corpus.find(id); at != std::string::npos; at = corpus.find(id, at + 1)) {
      bool left = at == 0 || !std::isalnum(static_cast<unsigned char>(corpus[at - 1]));
      bool right = at + id.size() >= corpus.size() || !std::isdigit(static_cast<unsigned char>(corpus[at + id.size()]));
      if (left && right) return true;
    }
    return false;
  };
  for (auto [letter, last] : {std::pair{'A', 47}, {'B', 10}, {'C', 6}, {'D', 15}, {'E', 23}}) {
    for (int i = 1; i <= last; ++i) {
      std::string id = letter + std::to_string(i);
      EXPECT_TRUE(cited(id)) << id << " of SEMANTICS.md is not cited by any test";
    }
  }
}

}  // namespace
}  // namespace qm
