// The rule author's workbench as users meet it: `qm test`'s reports (text
// in both languages, JSON Lines, JUnit XML read back with libxml2), its exit
// codes, and the line diff under its reports.
// QM_UPDATE_GOLDEN=1 rewrites the golden reports from the current output.
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli/line_diff.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code;
  std::string out;
};

// Runs qm from the source directory, so that paths in reports are relative.
Result Qm(const std::string& args, bool with_stderr = true) {
  std::string cmd = std::string("cd ") + QM_SOURCE_DIR + " && " + QM_BINARY + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  Result r{-1, ""};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Times vary from run to run; the golden files hold them as 0.
std::string WithoutTimes(const std::string& s) {
  return std::regex_replace(s, std::regex(R"(time="[0-9.]+")"), R"(time="0")");
}

void ExpectGolden(const std::string& args, const std::string& golden) {
  Result r = Qm(args);
  std::string actual = "exit " + std::to_string(r.exit_code) + "\n" + WithoutTimes(r.out);
  fs::path path = fs::path(QM_SOURCE_DIR) / "tests/workbench/golden" / golden;
  if (std::getenv("QM_UPDATE_GOLDEN") != nullptr) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  EXPECT_EQ(ReadFile(path), actual) << "qm " << args << "\nrerun with QM_UPDATE_GOLDEN=1 to accept the new output";
}

TEST(QmTest, FailureReportsInBothLanguages) {
  ExpectGolden("test tests/workbench/test/failing.qmtest --lang en --engine both", "test_failing.en.txt");
  ExpectGolden("test tests/workbench/test/failing.qmtest --lang zh --engine both", "test_failing.zh.txt");
  ExpectGolden("test tests/workbench/test/failing.qmtest --format json", "test_failing.json");
  ExpectGolden("test tests/workbench/test/failing.qmtest --format junit", "test_failing.junit.xml");
}

TEST(QmTest, BrokenTestFilesSayWhereAndWhy) {
  ExpectGolden("test tests/workbench/test/broken --lang en", "test_broken.en.txt");
  ExpectGolden("test tests/workbench/test/broken --lang zh", "test_broken.zh.txt");
}

TEST(QmTest, ExamplesAndTheirTestFilesPassOnBothEngines) {
  Result r = Qm("test rules-examples --engine both");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Each example folder is one case, and its .qmtest files add theirs.
  for (const auto& e : fs::directory_iterator(fs::path(QM_SOURCE_DIR) / "rules-examples"))
    EXPECT_NE(r.out.find("PASS  rules-examples/" + e.path().filename().string() + "\n"), std::string::npos) << e.path();
  EXPECT_NE(r.out.find(" passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("grades.qmtest:4"), std::string::npos) << r.out;
}

TEST(QmTest, ExitCodes) {
  EXPECT_EQ(Qm("test rules-examples/grades").exit_code, 0);
  EXPECT_EQ(Qm("test tests/workbench/test/failing.qmtest").exit_code, 1);
  EXPECT_EQ(Qm("test tests/workbench/test/broken/no_cases.qmtest").exit_code, 1);
  EXPECT_EQ(Qm("test rules-examples/grades --format xml").exit_code, 2);
  EXPECT_EQ(Qm("test rules-examples/grades --engine both2").exit_code, 2);
  EXPECT_EQ(Qm("test rules-examples/grades --coverag").exit_code, 2);
  Result none = Qm("test tests/check/ok");  // rule files, but no test in them
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("no tests in tests/check/ok"), std::string::npos) << none.out;
}

// An example whose expected lines are wrong fails, on either engine, with
// the difference shown: the example runner cannot pass vacuously.
TEST(QmTest, AnExampleWithAWrongExpectationFails) {
  fs::path dir = fs::temp_directory_path() / "qm_workbench_test" / "grades";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path src = fs::path(QM_SOURCE_DIR) / "rules-examples" / "grades";
  for (const char* f : {"rules.qm", "events.jsonl", "expected_rejects.jsonl"}) fs::copy_file(src / f, dir / f);
  std::string expected = ReadFile(src / "expected.jsonl");
  expected.replace(expected.find("\"S\""), 3, "\"A\"");
  std::ofstream(dir / "expected.jsonl", std::ios::binary) << expected;
  for (const char* engine : {"jit", "interp"}) {
    Result r = Qm("test " + dir.string() + " --engine " + engine);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("- {\"ts\":\"2024-05-20T12:00:00+08:00\",\"customer\":\"u3\",\"rule\":\"多次购买\",\"action\":\"set\",\"field\":\"grade\",\"from\":\"A\",\"to\":\"A\"}"),
              std::string::npos)
        << r.out;
  }
}

// The JUnit report has the shape CI systems read (the Ant JUnit schema that
// Jenkins, GitLab and GitHub reporters accept): <testsuites> of <testsuite
// name tests failures errors time> of <testcase name classname time>, each
// with at most one <failure message> or <error message>; counts add up.
TEST(QmTest, JunitReportParsesWithTheShapeCiReads) {
  Result r = Qm("test tests/workbench/test/failing.qmtest tests/workbench/test/broken rules-examples/grades --format junit",
                false);
  ASSERT_EQ(r.exit_code, 1);
  xmlDocPtr doc = xmlReadMemory(r.out.data(), static_cast<int>(r.out.size()), "report.xml", "UTF-8", XML_PARSE_NONET);
  ASSERT_NE(doc, nullptr) << r.out;
  auto attr = [](xmlNodePtr n, const char* name) -> std::string {
    xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
    std::string s = v ? reinterpret_cast<char*>(v) : "<missing>";
    xmlFree(v);
    return s;
  };
  auto is = [](xmlNodePtr n, const char* name) {
    return n->type == XML_ELEMENT_NODE && std::string(reinterpret_cast<const char*>(n->name)) == name;
  };
  auto number = [](const std::string& s) { return std::stod(s); };
  xmlNodePtr root = xmlDocGetRootElement(doc);
  ASSERT_TRUE(is(root, "testsuites"));
  int suites = 0, cases = 0, failures = 0, errors = 0;
  for (xmlNodePtr suite = root->children; suite; suite = suite->next) {
    if (suite->type != XML_ELEMENT_NODE) continue;
    ASSERT_TRUE(is(suite, "testsuite"));
    ++suites;
    EXPECT_NE(attr(suite, "name"), "<missing>");
    number(attr(suite, "time"));
    int suite_cases = 0, suite_failures = 0, suite_errors = 0;
    for (xmlNodePtr tc = suite->children; tc; tc = tc->next) {
      if (tc->type != XML_ELEMENT_NODE) continue;
      ASSERT_TRUE(is(tc, "testcase"));
      ++suite_cases;
      EXPECT_NE(attr(tc, "name"), "<missing>");
      EXPECT_NE(attr(tc, "classname"), "<missing>");
      number(attr(tc, "time"));
      int outcomes = 0;
      for (xmlNodePtr o = tc->children; o; o = o->next) {
        if (o->type != XML_ELEMENT_NODE) continue;
        ++outcomes;
        ASSERT_TRUE(is(o, "failure") || is(o, "error"));
        EXPECT_NE(attr(o, "message"), "<missing>");
        (is(o, "failure") ? suite_failures : suite_errors)++;
      }
      EXPECT_LE(outcomes, 1);
    }
    EXPECT_EQ(number(attr(suite, "tests")), suite_cases);
    EXPECT_EQ(number(attr(suite, "failures")), suite_failures);
    EXPECT_EQ(number(attr(suite, "errors")), suite_errors);
    cases += suite_cases, failures += suite_failures, errors += suite_errors;
  }
  EXPECT_EQ(number(attr(root, "tests")), cases);
  EXPECT_EQ(number(attr(root, "failures")), failures);
  EXPECT_EQ(number(attr(root, "errors")), errors);
  EXPECT_EQ(errors, 9);     // the broken files
  EXPECT_EQ(failures, 7);   // failing.qmtest
  EXPECT_EQ(cases, 7 + 9 + 4);
  EXPECT_GE(suites, 11);
  xmlFreeDoc(doc);
}

TEST(LineDiff, IsAShortestEditScript) {
  using qm::cli::DiffLines;
  auto ops = [](const std::vector<qm::cli::DiffLine>& d) {
    std::string s;
    for (const auto& l : d) s += std::string(1, l.op) + l.text + ";";
    return s;
  };
  EXPECT_EQ(ops(DiffLines({"a", "b", "c"}, {"a", "b", "c"})), " a; b; c;");
  EXPECT_EQ(ops(DiffLines({"a", "b", "c"}, {"a", "x", "c"})), " a;-b;+x; c;");
  EXPECT_EQ(ops(DiffLines({"a", "b", "c", "d"}, {"b", "c", "d", "e"})), "-a; b; c; d;+e;");
  EXPECT_EQ(ops(DiffLines({}, {"a"})), "+a;");
  EXPECT_EQ(ops(DiffLines({"a"}, {})), "-a;");
  // Past the work limit the middle is replaced whole: still a valid script.
  EXPECT_EQ(ops(DiffLines({"s", "a", "b", "e"}, {"s", "b", "a", "e"}, 4)), " s;-a;-b;+b;+a; e;");
  // Whatever the inputs, applying the script gives `after` and undoing it `before`.
  std::vector<std::string> before = {"1", "2", "3", "4", "5", "6", "7"}, after = {"0", "2", "4", "3", "5", "7", "8"};
  std::vector<std::string> rebuilt_before, rebuilt_after;
  size_t changes = 0;
  for (const auto& l : DiffLines(before, after)) {
    if (l.op != '+') rebuilt_before.push_back(l.text);
    if (l.op != '-') rebuilt_after.push_back(l.text);
    changes += l.op != ' ';
  }
  EXPECT_EQ(rebuilt_before, before);
  EXPECT_EQ(rebuilt_after, after);
  EXPECT_EQ(changes, 6u);  // LCS 2,4,5,7 (or 2,3,5,7): 3 removed, 3 added
}

TEST(LineDiff, RendersChangesWithContext) {
  std::vector<std::string> before, after;
  for (int i = 0; i < 20; ++i) before.push_back(std::to_string(i));
  after = before;
  after[10] = "ten";
  std::string shown = qm::cli::RenderDiff(qm::cli::DiffLines(before, after), "", 2);
  EXPECT_EQ(shown, "  8\n  9\n- 10\n+ ten\n  11\n  12\n");
}

}  // namespace

namespace {

TEST(QmDiff, ReportsARuleChangeInBothLanguages) {
  const std::string files = "diff tests/workbench/diff/old.qm tests/workbench/diff/new.qm --events tests/workbench/diff/events.jsonl";
  ExpectGolden(files + " --lang en", "diff.en.txt");
  ExpectGolden(files + " --lang zh", "diff.zh.txt");
  ExpectGolden(files + " --format json --engine interp", "diff.json");
}

// A rule set against itself changes nothing, on either engine, with timers
// and lateness in play.
TEST(QmDiff, ARuleSetAgainstItselfChangesNothing) {
  for (const char* engine : {"jit", "interp"}) {
    Result r = Qm(std::string("diff rules-examples/late-feeds/rules.qm rules-examples/late-feeds/rules.qm --events "
                              "rules-examples/late-feeds/events.jsonl --lateness 2h --format json --engine ") + engine);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("\"changes\":[],"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"customers_changed\":0,"), std::string::npos) << r.out;
  }
}

TEST(QmDiff, UsageAndInputErrors) {
  EXPECT_EQ(Qm("diff tests/workbench/diff/old.qm --events tests/workbench/diff/events.jsonl").exit_code, 2);
  EXPECT_EQ(Qm("diff tests/workbench/diff/old.qm tests/workbench/diff/new.qm").exit_code, 2);
  EXPECT_EQ(Qm("diff tests/workbench/diff/old.qm tests/workbench/diff/new.qm --events x --format xml").exit_code, 2);
  Result missing = Qm("diff tests/workbench/diff/old.qm tests/workbench/diff/new.qm --events /nonexistent/e.jsonl");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("cannot open events `/nonexistent/e.jsonl`"), std::string::npos) << missing.out;
  EXPECT_EQ(Qm("diff tests/check/syntax/fail_too_many.qm tests/workbench/diff/new.qm --events tests/workbench/diff/events.jsonl").exit_code, 1);
}

TEST(Help, EveryCommandHasHelpInBothLanguages) {
  for (const char* command : {"check", "run", "test", "explain", "diff", "fmt", "state", "tags", "lsp", "version"}) {
    Result en = Qm(std::string(command) + " --help --lang en");
    EXPECT_EQ(en.exit_code, 0) << command;
    EXPECT_EQ(en.out.rfind(std::string("usage: qm ") + command, 0), 0u) << en.out;
    Result zh = Qm(std::string(command) + " -h --lang zh");
    EXPECT_EQ(zh.exit_code, 0) << command;
    EXPECT_EQ(zh.out.rfind(std::string("用法：qm ") + command, 0), 0u) << zh.out;
  }
  Result usage = Qm("frobnicate");
  EXPECT_EQ(usage.exit_code, 2);
  Result zh = Qm("run --lang zh --bogus");
  EXPECT_EQ(zh.exit_code, 2);
  EXPECT_NE(zh.out.find("用法：qm <命令>"), std::string::npos) << zh.out;
}

}  // namespace

namespace {

TEST(QmFmt, PrintsChecksAndRewrites) {
  ExpectGolden("fmt tests/workbench/fmt/messy.qm", "fmt_messy.txt");
  ExpectGolden("fmt --check tests/workbench/fmt/messy.qm rules-examples/grades/rules.qm", "fmt_check.txt");
  ExpectGolden("fmt tests/workbench/fmt/broken.qm --lang en", "fmt_broken.en.txt");
  ExpectGolden("fmt tests/workbench/fmt/broken.qm --lang zh", "fmt_broken.zh.txt");

  fs::path dir = fs::temp_directory_path() / "qm_workbench_fmt";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(fs::path(QM_SOURCE_DIR) / "tests/workbench/fmt/messy.qm", dir / "messy.qm");
  Result w = Qm("fmt -w " + (dir / "messy.qm").string());
  EXPECT_EQ(w.exit_code, 0) << w.out;
  EXPECT_EQ(w.out, "");
  EXPECT_EQ(Qm("fmt --check " + (dir / "messy.qm").string()).exit_code, 0);
  EXPECT_EQ("exit 0\n" + ReadFile(dir / "messy.qm"),
            ReadFile(fs::path(QM_SOURCE_DIR) / "tests/workbench/golden/fmt_messy.txt"));
  EXPECT_FALSE(fs::exists(dir / ".messy.qm.qmfmt"));
  // Full-width punctuation kept the original from running; the formatted file runs.
  EXPECT_EQ(Qm("run tests/workbench/fmt/messy.qm --events tests/workbench/diff/events.jsonl").exit_code, 1);
  Result after = Qm("run " + (dir / "messy.qm").string() + " --events tests/workbench/diff/events.jsonl", false);
  EXPECT_EQ(after.exit_code, 0);
  EXPECT_EQ(std::count(after.out.begin(), after.out.end(), '\n'), 3) << after.out;
}

TEST(QmFmt, UsageErrors) {
  EXPECT_EQ(Qm("fmt").exit_code, 2);
  EXPECT_EQ(Qm("fmt -w --check tests/workbench/fmt/messy.qm").exit_code, 2);
  EXPECT_EQ(Qm("fmt -w -").exit_code, 2);
  Result missing = Qm("fmt /nonexistent/x.qm");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("E0010"), std::string::npos) << missing.out;
  Result stdin_fmt = Qm("fmt - < tests/workbench/fmt/messy.qm");
  EXPECT_EQ(stdin_fmt.exit_code, 0);
  EXPECT_EQ("exit 0\n" + stdin_fmt.out, ReadFile(fs::path(QM_SOURCE_DIR) / "tests/workbench/golden/fmt_messy.txt"));
}

}  // namespace

namespace {

TEST(QmExplain, SaysWhyInBothLanguages) {
  const std::string base =
      "explain tests/workbench/explain/rules.qm --events tests/workbench/explain/events.jsonl --customer 小雪";
  ExpectGolden(base + " --lang zh", "explain.zh.txt");
  ExpectGolden(base + " --lang en", "explain.en.txt");
  ExpectGolden(base + " --format json --engine interp", "explain.json");
  ExpectGolden(base + " --rule 大客 --at 2024-05-01T23:00:00+08:00 --lang zh", "explain_rule_at.zh.txt");
  ExpectGolden("explain rules-examples/sop-caps/rules.qm --events tests/workbench/explain/sop_events.jsonl --customer c1 "
               "--until 2024-06-05T00:00:00+08:00 --lang zh",
               "explain_caps_quiet.zh.txt");
  ExpectGolden(base + " --customer 没有这个人 --lang en", "explain_nobody.en.txt");
}

TEST(QmExplain, UsageErrors) {
  const std::string base = "explain tests/workbench/explain/rules.qm --events tests/workbench/explain/events.jsonl";
  EXPECT_EQ(Qm(base).exit_code, 2);  // no --customer
  EXPECT_EQ(Qm("explain tests/workbench/explain/rules.qm --customer a").exit_code, 2);
  EXPECT_EQ(Qm(base + " --customer a --rule 没有").exit_code, 2);
  EXPECT_EQ(Qm(base + " --customer a --at 明天").exit_code, 2);
  EXPECT_EQ(Qm(base + " --customer a --format xml").exit_code, 2);
  EXPECT_EQ(Qm("explain tests/workbench/explain/rules.qm --events /nonexistent --customer a").exit_code, 1);
  EXPECT_EQ(Qm("explain tests/workbench/fmt/broken.qm --events x --customer a").exit_code, 1);
}

}  // namespace

namespace {

// Explaining from a state directory continues where the run left off, and
// reads the directory without writing it.
TEST(QmExplain, StartsFromAStateDirectoryWithoutWritingIt) {
  fs::path dir = fs::temp_directory_path() / "qm_workbench_explain_state";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string all = ReadFile(fs::path(QM_SOURCE_DIR) / "tests/workbench/explain/events.jsonl");
  size_t third = 0;
  for (int i = 0; i < 3; ++i) third = all.find('\n', third) + 1;
  std::ofstream(dir / "d1.jsonl", std::ios::binary) << all.substr(0, third);
  std::ofstream(dir / "d2.jsonl", std::ios::binary) << all.substr(third);
  const std::string rules = "tests/workbench/explain/rules.qm";
  Result run = Qm("run " + rules + " --events " + (dir / "d1.jsonl").string() + " --state " + (dir / "st").string() +
                  " --out " + (dir / "a").string() + " --rejects " + (dir / "r").string());
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto listing = [&] {
    std::string s;
    for (const auto& e : fs::directory_iterator(dir / "st"))
      s += e.path().filename().string() + " " + std::to_string(e.file_size()) + " " +
           std::to_string(fs::last_write_time(e.path()).time_since_epoch().count()) + "\n";
    return s;
  };
  std::string before = listing();
  Result r = Qm("explain " + rules + " --events " + (dir / "d2.jsonl").string() + " --state " + (dir / "st").string() +
                " --customer 小雪 --lang en");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(listing(), before);
  // The VIP tag, given on day 1, is in the state day 2 starts from; the
  // `after` scheduled on day 1 fires on day 2; the `no order` timer is pending.
  EXPECT_NE(r.out.find("rule 浏览: does not hold: the customer has tag VIP"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after 3d push 回访问卷 unless order (rule 回访) came due"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rule 沉睡 fires at 2024-06-01T10:00:00+08:00"), std::string::npos) << r.out;
  EXPECT_EQ(Qm("explain " + rules + " --events " + (dir / "d2.jsonl").string() + " --state " + (dir / "st").string() +
               " --customer 小雪 --tz Z").exit_code, 2);
  EXPECT_EQ(Qm("explain " + rules + " --events " + (dir / "d2.jsonl").string() + " --state " + (dir / "none").string() +
               " --customer 小雪").exit_code, 1);
}

}  // namespace

namespace {

TEST(QmTags, TheDictionaryWithCoverageInEveryFormat) {
  fs::path dir = fs::temp_directory_path() / "qm_workbench_tags";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string example = "rules-examples/product-interest/";
  Result run = Qm("run " + example + "rules.qm --events " + example + "events.jsonl --state " + (dir / "st").string() +
                  " --out " + (dir / "a").string() + " --rejects " + (dir / "r").string());
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ExpectGolden("tags " + example + "rules.qm --lang en", "tags_en.txt");
  ExpectGolden("tags " + example + "rules.qm --state " + (dir / "st").string() + " --lang zh", "tags_state_zh.txt");
  ExpectGolden("tags " + example + "rules.qm --state " + (dir / "st").string() + " --format csv", "tags_state.csv");
  // Segments are kept by the engine; the JSON names who reads them.
  ExpectGolden("tags rules-examples/super-users/rules.qm --format json", "tags_segments.jsonl");
  EXPECT_EQ(Qm("tags " + example + "rules.qm --format xml").exit_code, 2);
  EXPECT_EQ(Qm("tags").exit_code, 2);
  EXPECT_EQ(Qm("tags " + example + "rules.qm --state " + (dir / "none").string()).exit_code, 1);
  EXPECT_EQ(Qm("tags tests/workbench/fmt/broken.qm").exit_code, 1);
  fs::remove_all(dir);
}

TEST(QmTest, CoverageSaysWhatNoCaseExercised) {
  ExpectGolden("test tests/workbench/coverage --coverage --lang en", "coverage.en.txt");
  ExpectGolden("test tests/workbench/coverage --coverage --lang zh --engine both", "coverage.zh.txt");
  ExpectGolden("test tests/workbench/coverage --coverage --format json", "coverage.json");
  // The suite's own rule tests exercise every branch, timer and delayed action of their rules.
  Result full = Qm("test tests/rules --coverage --engine both");
  EXPECT_EQ(full.exit_code, 0) << full.out;
  EXPECT_NE(full.out.find("coverage of tests/rules/timers.qm: 100.0%"), std::string::npos) << full.out;
}

}  // namespace

namespace {

// diff and explain read events as `qm run` does: a device or a directory is
// refused at once, never read forever (docs/hostile-input.md).
TEST(Workbench, EventsThatAreNotAStreamAreRefused) {
  for (const char* events : {"/dev/zero", "tests"}) {
    Result d = Qm(std::string("diff tests/workbench/diff/old.qm tests/workbench/diff/new.qm --events ") + events);
    EXPECT_EQ(d.exit_code, 1) << d.out;
    EXPECT_NE(d.out.find("cannot read events"), std::string::npos) << d.out;
    Result e = Qm(std::string("explain tests/workbench/diff/old.qm --customer u1 --events ") + events + " --lang zh");
    EXPECT_EQ(e.exit_code, 1) << e.out;
    EXPECT_NE(e.out.find("无法读取事件"), std::string::npos) << e.out;
  }
}

}  // namespace

namespace {

TEST(QmTest, ALinkLoopInTheSearchEnds) {
  fs::path dir = fs::temp_directory_path() / "qm_workbench_loop";
  fs::remove_all(dir);
  fs::create_directories(dir / "a");
  fs::create_directory_symlink(dir, dir / "a" / "back");
  fs::copy_file(fs::path(QM_SOURCE_DIR) / "tests/workbench/coverage/rules.qm", dir / "a" / "rules.qm");
  fs::copy_file(fs::path(QM_SOURCE_DIR) / "tests/workbench/coverage/rules.qmtest", dir / "a" / "rules.qmtest");
  Result r = Qm("test " + dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 cases: 1 passed"), std::string::npos) << r.out;
}

}  // namespace
