// Rule tests (`qm test`, docs/tooling.md): cases read from `.qmtest` files
// and from example folders (rules.qm + events.jsonl + expected.jsonl), run
// through the public API, and what each expected but did not get.
#ifndef QM_CLI_RULE_TESTS_H_
#define QM_CLI_RULE_TESTS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compiler/diag/diag.h"
#include "qianmian/qianmian.hpp"

namespace qm::cli {

// What a case expects of one customer at the end.
struct CustomerExpectation {
  int line = 0;
  std::string customer;
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;  // nullopt: unset
  std::optional<std::vector<std::string>> tags;  // exactly these
  std::vector<std::string> has_tags, lacks_tags;
};

struct TestCase {
  std::string file;  // the .qmtest file, or the example folder
  int line = 0;      // of `case`; 0 for an example folder
  std::string name;
  std::vector<std::string> rules;  // paths
  std::vector<std::string> events;  // input lines
  std::string until, lateness, tz = "+08:00";
  std::optional<std::vector<std::string>> actions;  // exactly these lines, in order
  std::vector<std::string> rejects;                 // exactly these (none when not given)
  std::vector<std::string> has, lacks;              // partial lines: these members match
  std::vector<CustomerExpectation> customers;
  std::vector<CustomerExpectation> given;  // starting profiles and tags, before the events
};

// Reads a `.qmtest` file, or an example folder. A problem with the file
// itself (unreadable, a bad line) is an error with its line.
struct TestFile {
  std::string path;
  std::vector<TestCase> cases;
  std::optional<std::string> error;  // in the requested language
};
TestFile ReadTestFile(const std::string& path, Lang lang);
// The same for `text` read from `path` (files it names are read beside it).
TestFile ParseTestFile(const std::string& path, std::string_view text, Lang lang);
TestFile ReadExampleFolder(const std::string& dir, Lang lang);
// Whether `dir` is an example folder.
bool IsExampleFolder(const std::string& dir);

// Why a case failed, one entry per unmet expectation, each a message and
// optionally the diff or lines that show it.
struct Failure {
  std::string message;
  std::string detail;  // lines, each ending in '\n'; may be empty
};

struct CaseResult {
  std::vector<Failure> failures;  // empty: passed
  double seconds = 0;
};

// Runs `test` on `engine`; `rules` is the compiled rule set of test.rules.
// With `coverage` (of `rules`), the run reports what it exercised to it.
CaseResult RunCase(const TestCase& test, const qianmian::RuleSet& rules, qianmian::Engine engine, Lang lang,
                   qianmian::Coverage* coverage = nullptr);

}  // namespace qm::cli

#endif  // QM_CLI_RULE_TESTS_H_
