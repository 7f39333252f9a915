// `qm check`: type-check rule files for people (text) and CI (JSON Lines).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "compiler/driver/driver.h"

namespace qm::cli {

int CheckCommand(const std::vector<std::string>& args, Lang lang) {
  Flags flags;
  if (auto usage = SplitFlags(args, {"--format", "--lang"}, {"-h", "--help"}, "check", flags)) return Usage(*usage);
  if (flags.switches.size() > 0) return Usage("");
  bool json = false;
  if (const std::string* v = flags.Get("--format")) {
    if (*v != "text" && *v != "json") return Usage("--format takes `text` or `json`");
    json = *v == "json";
  }
  if (const std::string* v = flags.Get("--lang")) {
    std::optional<Lang> chosen = ParseLang(*v);
    if (!chosen) return Usage("--lang takes `zh` or `en`");
    lang = *chosen;
  }
  const std::vector<std::string>& files = flags.positional;
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
