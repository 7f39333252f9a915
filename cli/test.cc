// `qm test`: runs rule tests (.qmtest files and example folders, see
// docs/tooling.md) on one or both engines and reports them as text, JSON
// Lines or JUnit XML.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/table.h"
#include "cli/line_diff.h"
#include "cli/rule_tests.h"
#include "compiler/value/value.h"

namespace qm::cli {
namespace fs = std::filesystem;
namespace {

// Every test under `path`, in path order: a file is a test file; a folder
// is an example folder, or is searched for `.qmtest` files and examples.
// Symbolic links to folders are not followed inside the search, so a link
// loop cannot send it round forever.
void Collect(const fs::path& path, Lang lang, std::vector<TestFile>& out) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    out.push_back(ReadTestFile(path.string(), lang));
    return;
  }
  std::vector<fs::path> entries;
  for (const fs::directory_entry& e : fs::directory_iterator(path, ec))
    if ((e.is_directory() && !e.is_symlink()) || e.path().extension() == ".qmtest") entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  if (IsExampleFolder(path.string())) {  // the example, then the test files beside it
    out.push_back(ReadExampleFolder(path.string(), lang));
    for (const fs::path& e : entries)
      if (e.extension() == ".qmtest" && !fs::is_directory(e, ec)) out.push_back(ReadTestFile(e.string(), lang));
    return;
  }
  for (const fs::path& e : entries) Collect(e, lang, out);
}

struct Outcome {
  const TestCase* test = nullptr;
  const TestFile* file = nullptr;  // set instead of test for a file that cannot be read
  std::vector<Failure> failures;
  double seconds = 0;
  bool passed() const { return file == nullptr && failures.empty(); }
};

struct CoverageReport {
  std::vector<std::string> rules;
  std::vector<qianmian::Coverage::Item> items;
  size_t covered() const {
    return static_cast<size_t>(std::count_if(items.begin(), items.end(), [](const auto& i) { return i.covered; }));
  }
  std::string Percent() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", items.empty() ? 100.0 : 100.0 * static_cast<double>(covered()) / static_cast<double>(items.size()));
    return buf;
  }
  std::string Files() const {
    std::string out;
    for (const std::string& r : rules) out += (out.empty() ? "" : " ") + r;
    return out;
  }
};

std::string Label(const Outcome& o) {
  if (o.file != nullptr) return o.file->path;
  std::string where = o.test->line > 0 ? o.test->file + ":" + std::to_string(o.test->line) : o.test->file;
  return o.test->line > 0 ? where + "  " + o.test->name : where;
}

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}


void PrintText(const std::vector<Outcome>& outcomes, const std::vector<CoverageReport>& reports, Lang lang) {
  const std::string pass = Error::Of<ErrorKind::kTestPassed>().Message(lang),
                    fail = Error::Of<ErrorKind::kTestFailed>().Message(lang);
  int passed = 0;
  for (const Outcome& o : outcomes) {
    passed += o.passed();
    std::printf("%s  %s\n", (o.passed() ? pass : fail).c_str(), Label(o).c_str());
    if (o.file != nullptr) std::printf("      %s\n", o.file->error->c_str());
    for (const Failure& f : o.failures) {
      std::printf("      %s\n", f.message.c_str());
      for (const std::string& line : SplitLines(f.detail)) std::printf("        %s\n", line.c_str());
    }
  }
  std::string summary = Error::Of<ErrorKind::kTestSummary>({std::to_string(outcomes.size()), std::to_string(passed),
                                                             std::to_string(outcomes.size() - passed)})
                            .Message(lang);
  std::printf("\n%s\n", summary.c_str());
  for (const CoverageReport& r : reports) {
    std::printf("\n%s\n", Error::Of<ErrorKind::kCoverSummary>({r.Files(), r.Percent(), std::to_string(r.covered()),
                                                                 std::to_string(r.items.size())})
                               .Message(lang)
                               .c_str());
    std::string rule = "\x01";
    for (const qianmian::Coverage::Item& i : r.items) {
      if (i.covered) continue;
      if (i.rule != rule) {
        rule = i.rule;
        std::printf("  %s\n", (rule.empty() ? Error::Of<ErrorKind::kCoverDeclarations>() : Error::Of<ErrorKind::kCoverRule>({rule})).Message(lang).c_str());
      }
      std::printf("      %s\n", i.what.c_str());
    }
  }
}

void PrintJson(const std::vector<Outcome>& outcomes, const std::vector<CoverageReport>& reports) {
  int passed = 0;
  for (const Outcome& o : outcomes) {
    passed += o.passed();
    std::string line = "{\"file\":" + Json(o.file ? o.file->path : o.test->file);
    if (o.file != nullptr) {
      line += ",\"status\":\"error\",\"message\":" + Json(*o.file->error) + "}";
    } else {
      line += ",\"line\":" + std::to_string(o.test->line) + ",\"case\":" + Json(o.test->name) +
              ",\"status\":" + (o.passed() ? "\"pass\"" : "\"fail\"") + ",\"failures\":[";
      for (size_t i = 0; i < o.failures.size(); ++i)
        line += std::string(i ? "," : "") + "{\"message\":" + Json(o.failures[i].message) +
                ",\"detail\":" + Json(o.failures[i].detail) + "}";
      line += "]}";
    }
    std::puts(line.c_str());
  }
  for (const CoverageReport& r : reports) {
    std::string line = "{\"coverage\":{\"rules\":[";
    for (size_t i = 0; i < r.rules.size(); ++i) line += std::string(i ? "," : "") + Json(r.rules[i]);
    line += "],\"percent\":" + r.Percent() + ",\"covered\":" + std::to_string(r.covered()) +
            ",\"total\":" + std::to_string(r.items.size()) + ",\"missing\":[";
    bool first = true;
    for (const qianmian::Coverage::Item& i : r.items) {
      if (i.covered) continue;
      line += std::string(first ? "" : ",") + "{\"rule\":" + (i.rule.empty() ? std::string("null") : Json(i.rule)) +
              ",\"what\":" + Json(i.what) + "}";
      first = false;
    }
    std::puts((line + "]}}").c_str());
  }
  std::printf("{\"cases\":%zu,\"passed\":%d,\"failed\":%zu}\n", outcomes.size(), passed, outcomes.size() - passed);
}

// JUnit XML as CI systems read it: one <testsuite> per test file or
// example, one <testcase> per case, <failure> with the report's text,
// <error> for a test file that cannot be read.
void PrintJunit(const std::vector<Outcome>& outcomes) {
  std::map<std::string, std::vector<const Outcome*>> suites;
  std::vector<std::string> order;
  for (const Outcome& o : outcomes) {
    std::string name = o.file ? o.file->path : o.test->file;
    if (!suites.count(name)) order.push_back(name);
    suites[name].push_back(&o);
  }
  int failures = 0, errors = 0;
  double total = 0;
  for (const Outcome& o : outcomes) {
    failures += o.file == nullptr && !o.failures.empty();
    errors += o.file != nullptr;
    total += o.seconds;
  }
  std::printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  std::printf("<testsuites name=\"qm test\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">\n",
              outcomes.size(), failures, errors, total);
  for (const std::string& name : order) {
    int f = 0, e = 0;
    double t = 0;
    for (const Outcome* o : suites[name]) {
      f += o->file == nullptr && !o->failures.empty();
      e += o->file != nullptr;
      t += o->seconds;
    }
    std::printf("  <testsuite name=\"%s\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"0\" time=\"%.3f\">\n",
                Markup(name).c_str(), suites[name].size(), f, e, t);
    for (const Outcome* o : suites[name]) {
      std::string case_name = o->file ? fs::path(name).filename().string() : o->test->name;
      std::printf("    <testcase name=\"%s\" classname=\"%s\" file=\"%s\"", Markup(case_name).c_str(), Markup(name).c_str(),
                  Markup(name).c_str());
      if (o->test != nullptr && o->test->line > 0) std::printf(" line=\"%d\"", o->test->line);
      std::printf(" time=\"%.3f\"", o->seconds);
      if (o->passed()) {
        std::printf("/>\n");
        continue;
      }
      std::printf(">\n");
      if (o->file != nullptr) {
        std::printf("      <error message=\"%s\"/>\n", Markup(*o->file->error).c_str());
      } else {
        std::string text;
        for (const Failure& fl : o->failures) text += fl.message + "\n" + fl.detail;
        std::printf("      <failure message=\"%s\" type=\"failure\">%s</failure>\n",
                    Markup(o->failures[0].message).c_str(), Markup(text).c_str());
      }
      std::printf("    </testcase>\n");
    }
    std::printf("  </testsuite>\n");
  }
  std::printf("</testsuites>\n");
}

}  // namespace

int TestCommand(const std::vector<std::string>& args, qianmian::Language language) {
  language = LangOfArgs(args, language);
  Flags flags;
  if (auto usage = SplitFlags(args, {"--format", "--engine", "--lang"}, {"--coverage"}, "test", flags))
    return Usage(*usage, language);
  if (const std::string* v = flags.Get("--lang")) {
    std::optional<qianmian::Language> chosen = ParseLang(*v);
    if (!chosen) return Usage(Error::Of<ErrorKind::kLangTakes>(), language);
    language = *chosen;
  }
  const Lang lang = LangOf(language);
  std::string format = "text";
  if (const std::string* v = flags.Get("--format")) {
    if (*v != "text" && *v != "json" && *v != "junit") return Usage(Error::Of<ErrorKind::kTestFormatTakes>(), language);
    format = *v;
  }
  std::vector<qianmian::Engine> engines = {qianmian::Engine::kJit};
  if (const std::string* v = flags.Get("--engine")) {
    if (*v == "interp") engines = {qianmian::Engine::kInterpreter};
    else if (*v == "both") engines = {qianmian::Engine::kJit, qianmian::Engine::kInterpreter};
    else if (*v != "jit") return Usage(Error::Of<ErrorKind::kTestEngineTakes>(), language);
  }
  std::vector<std::string> paths = flags.positional;
  if (paths.empty()) paths.push_back(".");

  std::vector<TestFile> files;
  for (const std::string& p : paths) {
    size_t before = files.size();
    Collect(p, lang, files);
    if (files.size() == before) {
      std::fprintf(stderr, "qm test: %s\n", Error::Of<ErrorKind::kTestNothingFound>({p}).Message(lang).c_str());
      return kExitErrors;
    }
  }

  const bool with_coverage = flags.switches.count("--coverage") > 0;
  std::map<std::vector<std::string>, qianmian::RuleSet> compiled;
  std::map<std::vector<std::string>, std::unique_ptr<qianmian::Coverage>> coverage;
  std::vector<std::vector<std::string>> rule_sets;  // in order of first use
  std::set<std::vector<std::string>> errors_shown;  // a rule set's errors are printed with its first case
  std::vector<Outcome> outcomes;
  for (const TestFile& file : files) {
    if (file.error) {
      outcomes.push_back({.file = &file});
      continue;
    }
    for (const TestCase& test : file.cases) {
      auto it = compiled.find(test.rules);
      if (it == compiled.end()) {
        it = compiled.emplace(test.rules, qianmian::RuleSet::FromFiles(test.rules, language)).first;
        rule_sets.push_back(test.rules);
        if (with_coverage && it->second.ok()) coverage[test.rules] = std::make_unique<qianmian::Coverage>(it->second);
      }
      qianmian::Coverage* covered = with_coverage && coverage.count(test.rules) ? coverage[test.rules].get() : nullptr;
      Outcome outcome{.test = &test};
      std::vector<std::vector<Failure>> per_engine;
      const bool show_errors = it->second.ok() || errors_shown.insert(test.rules).second;
      for (qianmian::Engine engine : engines) {
        CaseResult r = RunCase(test, it->second, engine, lang, covered);
        if (!show_errors)
          for (Failure& f : r.failures) f.detail.clear();
        outcome.seconds += r.seconds;
        per_engine.push_back(std::move(r.failures));
      }
      // Both engines failing alike is reported once; otherwise by engine.
      bool alike = true;
      for (const auto& f : per_engine)
        alike = alike && f.size() == per_engine[0].size() &&
                std::equal(f.begin(), f.end(), per_engine[0].begin(), [](const Failure& a, const Failure& b) {
                  return a.message == b.message && a.detail == b.detail;
                });
      for (size_t e = 0; e < per_engine.size(); ++e) {
        if (alike && e > 0) break;
        for (Failure& f : per_engine[e]) {
          if (!alike) f.message = std::string(engines[e] == qianmian::Engine::kJit ? "[jit] " : "[interp] ") + f.message;
          outcome.failures.push_back(std::move(f));
        }
      }
      outcomes.push_back(std::move(outcome));
    }
  }

  std::vector<CoverageReport> reports;
  for (const std::vector<std::string>& rules : rule_sets)
    if (coverage.count(rules)) reports.push_back({rules, coverage[rules]->Items(language)});
  if (format == "json") PrintJson(outcomes, reports);
  else if (format == "junit") PrintJunit(outcomes);
  else PrintText(outcomes, reports, lang);
  std::fflush(stdout);
  bool all = std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.passed(); });
  return all ? kExitOk : kExitErrors;
}

}  // namespace qm::cli
