#include "cli/flags.h"

#include <cerrno>
#include <cstdlib>

namespace qm::cli {

std::optional<Error> SplitFlags(const std::vector<std::string>& args, const std::set<std::string_view>& with_value,
                                      const std::set<std::string_view>& switches, const std::string& command,
                                      Flags& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    size_t eq = a.find('=');
    std::string name = a.substr(0, eq);
    if (with_value.count(name)) {
      if (eq != std::string::npos) out.values[name] = a.substr(eq + 1);
      else if (i + 1 < args.size()) out.values[name] = args[++i];
      else return Error::Of<ErrorKind::kNeedsValue>({name});
    } else if (switches.count(name) && eq == std::string::npos) {
      out.switches.insert(name);
    } else {
      return Error::Of<ErrorKind::kUnknownOption>({a, command});
    }
  }
  return std::nullopt;
}

qianmian::Language LangOfArgs(const std::vector<std::string>& args, qianmian::Language fallback) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::optional<qianmian::Language> chosen;
    if (args[i] == "--lang" && i + 1 < args.size()) chosen = ParseLang(args[i + 1]);
    else if (args[i].rfind("--lang=", 0) == 0) chosen = ParseLang(args[i].substr(7));
    if (chosen) fallback = *chosen;
  }
  return fallback;
}

std::vector<std::string> AllowedCodes(const Flags& flags) {
  std::vector<std::string> codes;
  const std::string* v = flags.Get("--allow");
  if (v == nullptr) return codes;
  std::string code;
  for (char c : *v + ",") {
    if (c == ',' || c == ' ') {
      if (!code.empty()) codes.push_back(code);
      code.clear();
    } else {
      code += c;
    }
  }
  return codes;
}

std::optional<qianmian::Language> ParseLang(const std::string& value) {
  if (value == "zh") return qianmian::Language::kChinese;
  if (value == "en") return qianmian::Language::kEnglish;
  return std::nullopt;
}

std::optional<int64_t> WholeNumber(const std::string& text, int64_t low, int64_t high) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || n < low || n > high) return std::nullopt;
  return n;
}

}  // namespace qm::cli
