// Golden tests of `qm check`: every tests/check/**/*.qm carries, after its
// code, the diagnostics it must produce in English and in Chinese:
//
//   // ---- expected en
//   // names/fail_x.qm:3:7: error[E0101]: unknown event type `ordr`
//   ...
//
// The file name says whether errors are expected (`fail_` prefix). Run with
// QM_UPDATE_GOLDEN=1 to rewrite the expectations from the current output.
// Files whose name starts with `_` are helpers (import targets), not tests.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "compiler/driver/driver.h"
#include "gtest/gtest.h"
#include "tests/support/files.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(QM_SOURCE_DIR) / "tests" / "check";
constexpr std::string_view kMarker = "// ---- expected ";

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(kRoot)) {
    if (entry.path().extension() != ".qm" || entry.path().filename().string()[0] == '_') continue;
    files.push_back(fs::relative(entry.path(), kRoot).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadAll(const fs::path& p) { return testing_internal::Read(p); }

std::string Commented(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += line.empty() ? "//\n" : "// " + line + "\n";
  return out;
}

struct CheckRun {
  std::string en, zh;
  std::set<DiagKind> kinds;
  bool errors = false;
};

// Compiles the golden file from its directory so names print relative to tests/check.
CheckRun Compile(const std::string& rel) {
  fs::path old = fs::current_path();
  fs::current_path(kRoot);
  auto c = driver::CompileFiles({rel});
  fs::current_path(old);
  CheckRun run;
  for (const Diagnostic& d : c->diags.all()) {
    run.en += RenderText(d, Lang::kEn);
    run.zh += RenderText(d, Lang::kZh);
    run.kinds.insert(d.kind);
  }
  run.errors = c->diags.has_errors();
  return run;
}

std::string Expectations(const CheckRun& run) {
  return std::string(kMarker) + "en\n" + Commented(run.en) + std::string(kMarker) + "zh\n" + Commented(run.zh);
}

class CheckGolden : public testing::TestWithParam<std::string> {};

TEST_P(CheckGolden, MatchesExpectedDiagnostics) {
  const std::string rel = GetParam();
  fs::path path = kRoot / rel;
  std::string text = ReadAll(path);
  size_t at = text.find(kMarker);
  std::string code = at == std::string::npos ? text : text.substr(0, at);
  std::string expected = at == std::string::npos ? "" : text.substr(at);
  CheckRun run = Compile(rel);
  std::string actual = Expectations(run);
  if (std::getenv("QM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << code << actual;
    return;
  }
  EXPECT_EQ(expected, actual) << "rerun with QM_UPDATE_GOLDEN=1 to accept the new output";
  bool fail_name = fs::path(rel).filename().string().rfind("fail_", 0) == 0;
  EXPECT_EQ(fail_name, run.errors) << "a golden file is named fail_ exactly when it has errors";
}

INSTANTIATE_TEST_SUITE_P(Check, CheckGolden, testing::ValuesIn(GoldenFiles()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name;
                           for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

// Kinds that no rule file can produce; each is covered by the named test.
const std::set<DiagKind> kCoveredElsewhere = {
    DiagKind::kCannotReadFile,  // cli_test: CheckMissingFileIsError
    DiagKind::kFileTooLarge,    // hostile_test: Bounds.RuleFileTooLarge (a 16 MiB file is no golden)
    // A rule set against a state directory: tests/state/state_test.cc, Refusal.*
    DiagKind::kStateFieldRemoved, DiagKind::kStateFieldRetyped, DiagKind::kStateMemberRemoved,
    DiagKind::kStateTagRemoved,
};

TEST(CheckGoldenCoverage, EveryDiagnosticKindHasAGoldenTest) {
  std::set<DiagKind> seen;
  for (const std::string& rel : GoldenFiles()) {
    CheckRun run = Compile(rel);
    seen.insert(run.kinds.begin(), run.kinds.end());
  }
  const auto& kinds = AllDiagKinds();
  for (size_t i = 0; i < kinds.size(); ++i) {
    DiagKind kind = static_cast<DiagKind>(i);
    if (kCoveredElsewhere.count(kind)) continue;
    EXPECT_TRUE(seen.count(kind)) << "no golden test under tests/check produces " << kinds[i].name << " ("
                                  << kinds[i].code << ")";
  }
}

}  // namespace
}  // namespace qm
