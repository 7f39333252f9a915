// One way to read a subcommand's command line: `--name value` and
// `--name=value` for options that take a value, `--name` for switches, and
// everything else in order as positional arguments.
#ifndef QM_CLI_FLAGS_H_
#define QM_CLI_FLAGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diag.h"
#include "qianmian/qianmian.hpp"

namespace qm::cli {

struct Flags {
  std::map<std::string, std::string> values;  // option -> value; given twice, the last wins
  std::set<std::string> switches;             // the switches given
  std::vector<std::string> positional;

  const std::string* Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
};

// Splits `args` of subcommand `command` (for messages) into `out`. Returns
// the usage error for an unknown option or an option without its value.
std::optional<Error> SplitFlags(const std::vector<std::string>& args, const std::set<std::string_view>& with_value,
                                      const std::set<std::string_view>& switches, const std::string& command,
                                      Flags& out);

// `--lang zh|en`; nullopt for anything else.
std::optional<qianmian::Language> ParseLang(const std::string& value);
// The language `--lang` chooses in `args`, else `fallback`: read before the
// flags, so that every message of the command, a bad flag's too, is in it.
qianmian::Language LangOfArgs(const std::vector<std::string>& args, qianmian::Language fallback);
// `text` as a whole number from `low` to `high`; nullopt otherwise.
std::optional<int64_t> WholeNumber(const std::string& text, int64_t low, int64_t high);
// `--allow W0004,W0009`: the warning codes to leave out.
std::vector<std::string> AllowedCodes(const Flags& flags);
// The language of messages for a public API language.
inline Lang LangOf(qianmian::Language language) {
  return language == qianmian::Language::kChinese ? Lang::kZh : Lang::kEn;
}

}  // namespace qm::cli

#endif  // QM_CLI_FLAGS_H_
