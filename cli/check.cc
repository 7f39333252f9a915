// `qm check`: type-check rule files for people (text) and CI (JSON Lines).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "compiler/driver/driver.h"

namespace qm::cli {

int CheckCommand(const std::vector<std::string>& args, Lang lang) {
  std::vector<std::string> files;
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
      lang = v == "zh" ? Lang::kZh : Lang::kEn;
    } else if (a == "-h" || a == "--help") {
      return Usage("");
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("unknown option `" + a + "` for check");
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return Usage("check needs at least one rule file");

  auto compilation = driver::CompileFiles(files);
  const Diagnostics& diags = compilation->diags;
  std::string out;
  for (const Diagnostic& d : diags.all()) {
    out += json ? RenderJson(d, lang) + "\n" : RenderText(d, lang);
  }
  if (json) {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    std::fwrite(out.data(), 1, out.size(), stderr);
    size_t rules = compilation->program ? compilation->program->rules.size() : 0;
    if (lang == Lang::kZh) {
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

}  // namespace qm::cli
