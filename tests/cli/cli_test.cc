// `qm` as CI sees it: exit codes, JSON diagnostics and robustness on junk.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code;
  std::string out;
};

Result Qm(const std::string& args) {
  std::string cmd = std::string(QM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  Result r{-1, ""};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

fs::path Temp(const std::string& name, const std::string& content) {
  fs::path dir = fs::temp_directory_path() / "qm_cli_test";
  fs::create_directories(dir);
  fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

TEST(Cli, ExamplesCheckClean) {
  int seen = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(QM_SOURCE_DIR) / "rules-examples")) {
    if (e.path().extension() != ".qm") continue;
    Result r = Qm("check " + e.path().string());
    EXPECT_EQ(r.exit_code, 0) << e.path() << "\n" << r.out;
    ++seen;
  }
  EXPECT_GE(seen, 4);
}

TEST(Cli, FailGoldensExitOne) {
  for (const auto& e : fs::recursive_directory_iterator(fs::path(QM_SOURCE_DIR) / "tests" / "check")) {
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".qm" || name.rfind("fail_", 0) != 0) continue;
    Result r = Qm("check " + e.path().string() + " --lang en");
    EXPECT_EQ(r.exit_code, 1) << e.path();
    EXPECT_NE(r.out.find(": error[E"), std::string::npos) << r.out;
  }
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(Qm("").exit_code, 2);
  EXPECT_EQ(Qm("frobnicate").exit_code, 2);
  EXPECT_EQ(Qm("check").exit_code, 2);
  EXPECT_EQ(Qm("check x.qm --format xml").exit_code, 2);
  EXPECT_EQ(Qm("check x.qm --lang fr").exit_code, 2);
  EXPECT_EQ(Qm("check x.qm --bogus").exit_code, 2);
}

TEST(Cli, CheckMissingFileIsError) {
  Result r = Qm("check /nonexistent/rules.qm --format json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\"code\":\"E0010\""), std::string::npos) << r.out;
}

TEST(Cli, JsonFormatIsOneObjectPerDiagnostic) {
  fs::path p = Temp("json.qm", "event order\nwhen ordr then push x\nwhen order then push y\n");
  Result r = Qm("check " + p.string() + " --format json --lang en");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "{\"file\":\"" + p.string() + "\",\"line\":2,\"column\":6,\"end_line\":2,\"end_column\":10,"
            "\"severity\":\"error\",\"code\":\"E0101\",\"message\":\"unknown event type `ordr`\","
            "\"help\":\"did you mean `order`?\"}\n");
}

TEST(Cli, LangFollowsLangVariable) {
  fs::path p = Temp("lang.qm", "event order\nwhen ordr then push x\n");
  EXPECT_NE(Qm("check " + p.string()).out.find("unknown event type"), std::string::npos);
  Result zh = Qm("check " + p.string() + " --lang zh");
  EXPECT_NE(zh.out.find("未声明的事件类型"), std::string::npos) << zh.out;
  std::string cmd = "env LANG=zh_CN.UTF-8 " + std::string(QM_BINARY) + " check " + p.string() + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  EXPECT_NE(out.find("未声明的事件类型"), std::string::npos) << out;
}

// A45: `run` with errors in the rules prints them and exits 1 without reading events.
TEST(Cli, RunWithRuleErrorsReadsNoEvents) {
  fs::path rules = Temp("bad_run.qm", "event order\nwhen ordr then push x\n");
  fs::path out = fs::temp_directory_path() / "qm_cli_test" / "bad_run.out";
  fs::remove(out);
  Result r = Qm("run " + rules.string() + " --events /nonexistent/events.jsonl --out " + out.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("E0101"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("cannot open events"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

// Failures of a run speak the language of its diagnostics: --lang zh.
TEST(Cli, RunFailuresInBothLanguages) {
  fs::path rules = Temp("lang_run.qm", "event order\nwhen order then push x\n");
  Result en = Qm("run " + rules.string() + " --events /nonexistent/events.jsonl");
  EXPECT_EQ(en.exit_code, 1);
  EXPECT_NE(en.out.find("qm: cannot open events `/nonexistent/events.jsonl`: No such file or directory"),
            std::string::npos) << en.out;
  Result zh = Qm("run " + rules.string() + " --events /nonexistent/events.jsonl --lang zh");
  EXPECT_EQ(zh.exit_code, 1);
  EXPECT_NE(zh.out.find("qm: 无法打开事件 `/nonexistent/events.jsonl`：No such file or directory"), std::string::npos)
      << zh.out;
  Result usage = Qm("run " + rules.string() + " --events - --tz 8 --lang zh");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.out.find("--tz 需要"), std::string::npos) << usage.out;
  Result unknown = Qm("check --lang zh --bogus " + rules.string());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("qm: check 没有选项 `--bogus`"), std::string::npos) << unknown.out;
  Result state = Qm("state show /nonexistent/state --lang zh");
  EXPECT_EQ(state.exit_code, 1);
  EXPECT_NE(state.out.find("qm: 没有状态目录 `/nonexistent/state`"), std::string::npos) << state.out;
  EXPECT_NE(Qm("state show /nonexistent/state").out.find("qm: no state directory `/nonexistent/state`"),
            std::string::npos);
}

// B8: a bad --until is a usage error before any event is read, and --out stays unwritten.
TEST(Cli, RunUsageErrors) {
  fs::path rules = Temp("ok_run.qm", "event order\nwhen order then push x\n");
  fs::path out = fs::temp_directory_path() / "qm_cli_test" / "until.out";
  fs::remove(out);
  EXPECT_EQ(Qm("run " + rules.string() + " --events - --until yesterday --out " + out.string()).exit_code, 2);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(Qm("run " + rules.string() + " --events - --tz Asia/Shanghai").exit_code, 2);
  // E3: --lateness takes a duration literal, compound parts included.
  Result lateness = Qm("run " + rules.string() + " --events - --lateness 12h1d --out " + out.string());
  EXPECT_EQ(lateness.exit_code, 2);
  EXPECT_NE(lateness.out.find("--lateness takes a duration such as `2h` or `1d12h`, not `12h1d`"), std::string::npos)
      << lateness.out;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(Qm("run " + rules.string() + " --events - --lateness -1h").exit_code, 2);
  fs::path empty = Temp("empty.jsonl", "");
  EXPECT_EQ(Qm("run " + rules.string() + " --events " + empty.string() + " --lateness 1d12h").exit_code, 0);
  EXPECT_EQ(Qm("run " + rules.string()).exit_code, 2);
  EXPECT_EQ(Qm("run --events -").exit_code, 2);
}

TEST(Cli, DumpIrShowsOneFunctionPerEventType) {
  fs::path rules = Temp("ir.qm", "event order { amount: money }\nevent view\nwhen order and amount > 5 then push x\nwhen view then push y\n");
  Result r = Qm("run " + rules.string() + " --dump-ir");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("define i32 @qm_event_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("define i32 @qm_event_1"), std::string::npos) << r.out;
}

// Inputs the fuzzers once crashed on stay fixed.
TEST(Cli, FuzzRegressionsDoNotCrash) {
  for (const auto& e : fs::directory_iterator(fs::path(QM_SOURCE_DIR) / "tests" / "fuzz" / "regressions")) {
    Result r = Qm("check " + e.path().string());
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << e.path() << " exit " << r.exit_code;
  }
}

// Never a crash or a hang: random bytes, invalid UTF-8, a 10 MB file, deep nesting.
TEST(Cli, SurvivesHostileInput) {
  std::mt19937 rng(42);
  std::string garbage;
  for (int i = 0; i < 100'000; ++i) garbage += static_cast<char>(rng() & 0xFF);
  std::string big;
  while (big.size() < 10'000'000) big += "rule r" + std::to_string(big.size()) + ": when order and x > 1 then tag y\n";
  std::string deep = "event order\nwhen order and " + std::string(10000, '(') + "x = 1" + std::string(10000, ')') + " then push p\n";
  std::string tokens_soup;
  const char* words[] = {"when", "then", "(", ")", "and", "or", "not", "count", "where", "within", "7d",
                         "order", ",", "=", "\"s\"", "rule", ":", "tag", "enum", "{", "}", "（", "1.5"};
  for (int i = 0; i < 200'000; ++i) tokens_soup += std::string(words[rng() % 23]) + " ";
  int i = 0;
  for (const std::string& content : {garbage, big, deep, tokens_soup, std::string("\xff\xfe"), std::string()}) {
    fs::path p = Temp("hostile" + std::to_string(i++) + ".qm", content);
    Result r = Qm("check " + p.string() + " --format json");
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << p << " exit " << r.exit_code;
  }
}

}  // namespace

namespace {

// Every subcommand reads its options one way: `--name value` or `--name=value`.
TEST(Cli, OptionsTakeTheirValueEitherWay) {
  fs::path rules = Temp("flags.qm", "event order { amount: money }\nrule r: when order then push x\n");
  fs::path events = Temp("flags.jsonl", "{\"type\":\"order\",\"customer\":\"c1\",\"ts\":0}\n");
  fs::path dir = fs::temp_directory_path() / "qm_cli_test";
  Result spaced = Qm("run " + rules.string() + " --events " + events.string() + " --tz Z --out " +
                     (dir / "spaced.out").string());
  Result joined = Qm("run " + rules.string() + " --events=" + events.string() + " --tz=Z --out=" +
                     (dir / "joined.out").string());
  EXPECT_EQ(spaced.exit_code, 0) << spaced.out;
  EXPECT_EQ(joined.exit_code, 0) << joined.out;
  std::ifstream a(dir / "spaced.out"), b(dir / "joined.out");
  std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(sa, "{\"ts\":\"1970-01-01T00:00:00+00:00\",\"customer\":\"c1\",\"rule\":\"r\",\"action\":\"push\",\"target\":\"x\"}\n");
  EXPECT_EQ(sa, sb);
  EXPECT_EQ(Qm("check " + rules.string() + " --lang=zh --format=json").exit_code, 0);
  EXPECT_EQ(Qm("run " + rules.string() + " --events").out.find("--events needs a value") != std::string::npos, true);
  EXPECT_EQ(Qm("state show --format=json").exit_code, 2);
  EXPECT_EQ(Qm("run " + rules.string() + " --dump-ir=yes").exit_code, 2);
}

}  // namespace
