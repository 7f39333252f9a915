// qm: the command line. `qm check` validates rule files for people and CI.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "compiler/driver/driver.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitErrors = 1;
constexpr int kExitUsage = 2;

const char kUsage[] =
    "usage: qm <command> [options]\n"
    "\n"
    "commands:\n"
    "  check RULES.qm... [--format text|json] [--lang zh|en]\n"
    "      type-check rule files; exit 0 when there is no error, 1 when there is one\n"
    "  version\n"
    "      print the version\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "qm: %s\n\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

qm::Lang DefaultLang() {
  const char* lang = std::getenv("LANG");
  return lang != nullptr && std::strncmp(lang, "zh", 2) == 0 ? qm::Lang::kZh : qm::Lang::kEn;
}

int Check(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  qm::Lang lang = DefaultLang();
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) return nullptr;
      (void)flag;
      return &args[++i];
    };
    if (a == "--format") {
      const std::string* v = value("--format");
      if (v == nullptr || (*v != "text" && *v != "json")) return Usage("--format takes `text` or `json`");
      json = *v == "json";
    } else if (a.rfind("--format=", 0) == 0) {
      std::string v = a.substr(9);
      if (v != "text" && v != "json") return Usage("--format takes `text` or `json`");
      json = v == "json";
    } else if (a == "--lang" || a.rfind("--lang=", 0) == 0) {
      std::string v;
      if (a == "--lang") {
        const std::string* p = value("--lang");
        if (p == nullptr) return Usage("--lang takes `zh` or `en`");
        v = *p;
      } else {
        v = a.substr(7);
      }
      if (v != "zh" && v != "en") return Usage("--lang takes `zh` or `en`");
      lang = v == "zh" ? qm::Lang::kZh : qm::Lang::kEn;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("unknown option `" + a + "` for check");
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return Usage("check needs at least one rule file");

  auto compilation = qm::driver::CompileFiles(files);
  const qm::Diagnostics& diags = compilation->diags;
  std::string out;
  for (const qm::Diagnostic& d : diags.all()) {
    out += json ? qm::RenderJson(d, lang) + "\n" : qm::RenderText(d, lang);
  }
  if (json) {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    std::fwrite(out.data(), 1, out.size(), stderr);
    size_t rules = compilation->program ? compilation->program->rules.size() : 0;
    if (lang == qm::Lang::kZh) {
      std::fprintf(stderr, "%s：%d 个错误，%d 个警告", diags.has_errors() ? "未通过" : "通过",
                   diags.error_count(), diags.warning_count());
      if (!diags.has_errors()) std::fprintf(stderr, "，%zu 条规则", rules);
    } else {
      std::fprintf(stderr, "%s: %d error%s, %d warning%s", diags.has_errors() ? "failed" : "ok",
                   diags.error_count(), diags.error_count() == 1 ? "" : "s", diags.warning_count(),
                   diags.warning_count() == 1 ? "" : "s");
      if (!diags.has_errors()) std::fprintf(stderr, ", %zu rule%s", rules, rules == 1 ? "" : "s");
    }
    std::fputc('\n', stderr);
  }
  return diags.has_errors() ? kExitErrors : kExitOk;
}

// Touching fresh memory costs about 20 µs per 4 KiB page on the machines we
// measure on; with glibc's transparent huge pages it is one fault per 2 MiB
// (a 10,000-rule check: 1.5 s -> 0.8 s, docs/performance.md). The tunable
// is only read at startup, so set it and exec ourselves once.
void UseHugePages(char** argv) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("QM_NO_HUGEPAGES") != nullptr ||
      (tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr)) {
    return;
  }
  std::string value = tunables != nullptr ? std::string(tunables) + ":glibc.malloc.hugetlb=1"
                                          : "glibc.malloc.hugetlb=1";
  setenv("GLIBC_TUNABLES", value.c_str(), 1);
  execv("/proc/self/exe", argv);  // on failure, run as we are
}

}  // namespace

int main(int argc, char** argv) {
  UseHugePages(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("no command given");
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "check") return Check(args);
  if (command == "version" || command == "--version") {
    std::puts("qm 0.1.0");
    return kExitOk;
  }
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  return Usage("unknown command `" + command + "`");
}
