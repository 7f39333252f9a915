// `qm report`, opened in a real browser: Debian's headless Chromium renders
// each page, the test reads the DOM it built (sections, numbers), requires a
// page with no console message, no script and nothing fetched, and saves a
// screenshot as an artifact (build/artifacts/).
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;
};

Result Sh(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  Result r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path Work(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("qm_report_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A state directory of `rules` over `events` (with the example's own args).
fs::path StateOf(const fs::path& work, const fs::path& rules, const fs::path& events, const std::string& args = "") {
  fs::path state = work / "state";
  Result r = Sh(std::string(QM_BINARY) + " run " + Quote(rules.string()) + " --events " + Quote(events.string()) +
                " --state " + Quote(state.string()) + " --out " + Quote((work / "a").string()) + " --rejects " +
                Quote((work / "r").string()) + " " + args + " 2>&1");
  EXPECT_EQ(r.code, 0) << r.out;
  return state;
}

// Chromium as a test drives it: headless, no sandbox (tests run as root), no
// network of its own, a fresh profile.
std::string Chromium(const fs::path& work, const std::string& what) {
  return "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
         "--disable-component-update --disable-sync --hide-scrollbars --enable-logging=stderr --v=0 --user-data-dir=" +
         Quote((work / "profile").string()) + " " + what;
}

struct Rendered {
  std::string dom;    // the DOM after loading, serialized
  std::string log;    // Chromium's standard error
};

Rendered Render(const fs::path& work, const fs::path& html) {
  Rendered r;
  Result dump = Sh("cd " + Quote(work.string()) + " && timeout 120 " + Chromium(work, "--dump-dom file://" + html.string()) +
                   " 2> " + Quote((work / "chromium.log").string()));
  EXPECT_EQ(dump.code, 0) << ReadFile(work / "chromium.log");
  r.dom = dump.out;
  r.log = ReadFile(work / "chromium.log");
  return r;
}

void Screenshot(const fs::path& work, const fs::path& html, const std::string& name) {
  fs::path artifacts = fs::path(QM_BUILD_DIR) / "artifacts";
  fs::create_directories(artifacts);
  Result shot = Sh("cd " + Quote(work.string()) + " && timeout 120 " +
                   Chromium(work, "--window-size=1100,1800 --screenshot=" + Quote((artifacts / name).string()) +
                                      " file://" + html.string()) +
                   " 2>&1");
  EXPECT_EQ(shot.code, 0) << shot.out;
  EXPECT_GT(fs::file_size(artifacts / name), 20000u) << "a blank screenshot?";
}

// Whatever a page holds, it stands alone and is quiet in the console.
void ExpectSelfContainedAndQuiet(const std::string& html, const Rendered& r) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(r.log.find("CONSOLE"), std::string::npos) << r.log;
  EXPECT_EQ(r.log.find("Uncaught"), std::string::npos) << r.log;
}

TEST(Report, InChineseInABrowser) {
  fs::path work = Work("zh");
  fs::path show = fs::path(QM_SOURCE_DIR) / "tests/state/show";
  fs::path state = StateOf(work, fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm", show / "events.jsonl");
  fs::path html = work / "report.html";
  Result r = Sh(std::string(QM_BINARY) + " report --state " + Quote(state.string()) + " -o " + Quote(html.string()) +
                " --lang zh 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  std::string page = ReadFile(html);
  Rendered rendered = Render(work, html);
  ExpectSelfContainedAndQuiet(page, rendered);
  const std::string& dom = rendered.dom;
  for (const char* section : {"id=\"tags\"", "id=\"funnels\"", "id=\"segments\"", "id=\"rules\"", "id=\"actions\""})
    EXPECT_NE(dom.find(section), std::string::npos) << section;
  EXPECT_NE(dom.find("<h1>客户分层报告</h1>"), std::string::npos);
  // The numbers of tests/state/show (the golden `qm state stats` says the same).
  EXPECT_NE(dom.find("<div class=\"card\" id=\"customers\"><div class=\"value\">4</div>"), std::string::npos);
  EXPECT_TRUE(std::regex_search(dom, std::regex("data-tag=\"流失风险\">[\\s\\S]*?60 天未下单[\\s\\S]*?2</td><td class=\"num\">50.0%")));
  // 常客 covers no customer: flagged for review; 大客户 is a segment.
  EXPECT_TRUE(std::regex_search(dom, std::regex("<tr class=\"review\" data-tag=\"常客\"><td>常客<span class=\"badge\">建议复查")));
  EXPECT_TRUE(std::regex_search(dom, std::regex("data-tag=\"大客户\"><td>大客户<span class=\"badge segment\">分群")));
  EXPECT_NE(dom.find("建议复查的标签：1 个。"), std::string::npos);
  // The stage funnel in declaration order, with conversion to the next step.
  EXPECT_TRUE(std::regex_search(dom, std::regex("新客[\\s\\S]*?1</td>[\\s\\S]*?下一步：100.0%[\\s\\S]*?活跃[\\s\\S]*?沉睡[\\s\\S]*?2</td>")));
  EXPECT_TRUE(std::regex_search(dom, std::regex("data-segment=\"大客户\">[\\s\\S]*?1050.50")));
  EXPECT_TRUE(std::regex_search(dom, std::regex("data-rule=\"下单活跃\">[\\s\\S]*?<td class=\"num\">6</td>")));
  EXPECT_TRUE(std::regex_search(dom, std::regex("data-key=\"set\">[\\s\\S]*?<td class=\"num\">13</td>")));
  Screenshot(work, html, "report_zh.png");
  fs::remove_all(work);
}

// Every bundled example's state makes a page that renders, in English, with
// its own tags and stage fields; suppressed pushes appear by reason.
TEST(Report, EveryExampleInEnglish) {
  int rendered_pages = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(QM_SOURCE_DIR) / "rules-examples")) {
    fs::path dir = entry.path();
    if (!fs::exists(dir / "rules.qm")) continue;
    fs::path work = Work("example_" + dir.filename().string());
    std::string args = fs::exists(dir / "args") ? ReadFile(dir / "args") : "";
    args.erase(std::remove(args.begin(), args.end(), '\n'), args.end());
    fs::path state = StateOf(work, dir / "rules.qm", dir / "events.jsonl", args);
    fs::path html = work / "report.html";
    Result r = Sh(std::string(QM_BINARY) + " report --state " + Quote(state.string()) + " -o " + Quote(html.string()) +
                  " --lang en 2>&1");
    ASSERT_EQ(r.code, 0) << dir << r.out;
    std::string page = ReadFile(html);
    Rendered rendered = Render(work, html);
    ExpectSelfContainedAndQuiet(page, rendered);
    EXPECT_NE(rendered.dom.find("<h1>Customer report</h1>"), std::string::npos) << dir;
    EXPECT_NE(rendered.dom.find("id=\"tags\""), std::string::npos) << dir;
    if (dir.filename() == "sop-caps") {
      EXPECT_TRUE(std::regex_search(rendered.dom, std::regex("data-key=\"cap\"><td>cap: a frequency cap was full</td>[\\s\\S]*?2</td>")))
          << rendered.dom;
    }
    if (dir.filename() == "super-users") {
      EXPECT_NE(rendered.dom.find("id=\"segments\""), std::string::npos);
      Screenshot(work, html, "report_en_super_users.png");
    }
    ++rendered_pages;
    fs::remove_all(work);
  }
  EXPECT_GE(rendered_pages, 20);
}

// The reference workload (../shared/bench: its generator and peers20.qm, at
// 300,000 events of 30,000 customers): profile fields, stages, tags of real
// proportions.
TEST(Report, TheReferenceWorkload) {
  fs::path work = Work("reference");
  fs::path bench = fs::path(QM_SHARED_DIR) / "bench";
  Result gen = Sh("python3 " + Quote((bench / "gen_events.py").string()) + " --events 300000 --customers 30000 --out-dir " +
                  Quote((work / "gen").string()) + " > /dev/null && python3 " + Quote((bench / "to_qm_stream.py").string()) +
                  " " + Quote((work / "gen/customers.jsonl").string()) + " " + Quote((work / "gen/events.jsonl").string()) +
                  " " + Quote((work / "stream.jsonl").string()) + " 2>&1");
  ASSERT_EQ(gen.code, 0) << gen.out;
  fs::path state = StateOf(work, bench / "peers20.qm", work / "stream.jsonl");
  fs::path html = work / "report.html";
  Result r = Sh(std::string(QM_BINARY) + " report --state " + Quote(state.string()) + " -o " + Quote(html.string()) +
                " --lang zh 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  Rendered rendered = Render(work, html);
  ExpectSelfContainedAndQuiet(ReadFile(html), rendered);
  const std::string& dom = rendered.dom;
  EXPECT_NE(dom.find("<div class=\"card\" id=\"customers\"><div class=\"value\">30,000</div>"), std::string::npos);
  for (const char* tag : {"高意向", "沉睡风险", "KOC"}) EXPECT_NE(dom.find(std::string("data-tag=\"") + tag + "\""), std::string::npos) << tag;
  EXPECT_NE(dom.find("data-field=\"stage\""), std::string::npos);
  EXPECT_TRUE(std::regex_search(dom, std::regex("data-key=\"push\">[\\s\\S]*?<td class=\"num\">[1-9][0-9,]*</td>")));
  // The RFM grid over sum(order.amount): every customer is in one cell, or among those without an order.
  ASSERT_NE(dom.find("id=\"rfm\""), std::string::npos);
  EXPECT_NE(dom.find("<code>sum(order.amount)</code>"), std::string::npos);
  int64_t in_cells = 0;
  std::regex cell("data-f=\"[0-9]\" style=\"[^\"]*\"><div class=\"n\">([0-9,]+)</div>");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), cell); it != std::sregex_iterator(); ++it) {
    std::string n = (*it)[1];
    n.erase(std::remove(n.begin(), n.end(), ','), n.end());
    in_cells += std::stoll(n);
  }
  std::smatch without;
  ASSERT_TRUE(std::regex_search(dom, without, std::regex("没有购买记录的客户：([0-9,]+) 位")));
  std::string n = without[1];
  n.erase(std::remove(n.begin(), n.end(), ','), n.end());
  EXPECT_GT(in_cells, 0);
  EXPECT_EQ(in_cells + std::stoll(n), 30000);
  Screenshot(work, html, "report_zh_reference.png");
  fs::remove_all(work);
}

TEST(Report, UsageAndBadDirectories) {
  auto code = [](const std::string& args) { return Sh(std::string(QM_BINARY) + " report " + args + " 2>&1").code; };
  EXPECT_EQ(code(""), 2);
  EXPECT_EQ(code("--state"), 2);
  EXPECT_EQ(code("--state x --review-below 200%"), 2);
  EXPECT_EQ(code("--state x extra"), 2);
  EXPECT_EQ(code("--state /nonexistent/qm-state"), 1);
  fs::path work = Work("unwritable");
  fs::path state = StateOf(work, fs::path(QM_SOURCE_DIR) / "tests/state/kill.qm",
                           fs::path(QM_SOURCE_DIR) / "tests/state/show/events.jsonl");
  EXPECT_EQ(code("--state " + state.string() + " -o /nonexistent/dir/report.html"), 1);
  // To standard output by default, and a threshold that flags more tags.
  Result r = Sh(std::string(QM_BINARY) + " report --state " + Quote(state.string()) + " --review-below 30% --lang en");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("3 tags to review."), std::string::npos);
  fs::remove_all(work);
}

}  // namespace
