// `qm check`: type-check rule files for people (text) and CI (JSON Lines).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"

namespace qm::cli {

int CheckCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  lang = LangOfArgs(args, lang);
  Flags flags;
  if (auto usage = SplitFlags(args, {"--format", "--lang", "--allow"}, {}, "check", flags)) return Usage(*usage, lang);
  if (const std::string* v = flags.Get("--lang")) {  // first: the other messages follow it
    std::optional<qianmian::Language> chosen = ParseLang(*v);
    if (!chosen) return Usage(Error::Of<ErrorKind::kLangTakes>(), lang);
    lang = *chosen;
  }
  bool json = false;
  if (const std::string* v = flags.Get("--format")) {
    if (*v != "text" && *v != "json") return Usage(Error::Of<ErrorKind::kFormatTakes>(), lang);
    json = *v == "json";
  }
  const std::vector<std::string>& files = flags.positional;
  if (files.empty()) return Usage(Error::Of<ErrorKind::kNeedsRuleFile>({"check"}), lang);

  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles(files, lang, AllowedCodes(flags));
  std::string out;
  for (const qianmian::Diagnostic& d : rules.diagnostics()) out += json ? d.json + "\n" : d.rendered;
  if (json) {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    std::fwrite(out.data(), 1, out.size(), stderr);
    int errors = rules.error_count(), warnings = rules.warning_count();
    size_t count = rules.rule_count();
    if (lang == qianmian::Language::kChinese) {
      std::fprintf(stderr, "%s：%d 个错误，%d 个警告", errors > 0 ? "未通过" : "通过", errors, warnings);
      if (errors == 0) std::fprintf(stderr, "，%zu 条规则", count);
    } else {
      std::fprintf(stderr, "%s: %d error%s, %d warning%s", errors > 0 ? "failed" : "ok", errors,
                   errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
      if (errors == 0) std::fprintf(stderr, ", %zu rule%s", count, count == 1 ? "" : "s");
    }
    std::fputc('\n', stderr);
  }
  return rules.ok() ? kExitOk : kExitErrors;
}

}  // namespace qm::cli
