// The usage text every subcommand points to on a usage error.
#include <cstdio>
#include <string>

#include "cli/commands.h"

namespace qm::cli {
namespace {

const char kUsage[] =
    "usage: qm <command> [options]\n"
    "\n"
    "commands:\n"
    "  check RULES.qm... [--format text|json] [--lang zh|en]\n"
    "      type-check rule files; exit 0 when there is no error, 1 when there is one\n"
    "  run RULES.qm... --events EVENTS.jsonl|- [--out ACTIONS.jsonl] [--rejects REJECTS.jsonl]\n"
    "      [--engine jit|interp] [--tz +08:00] [--until TIME] [--lang zh|en]\n"
    "      [--state DIR [--commit-every LINES] [--commit-ms MS]]\n"
    "      run the rules over an event stream; actions to stdout, rejects to stderr by default;\n"
    "      with --state, customers' state persists in DIR and a rerun continues exactly where the\n"
    "      last commit (every 1000000 lines or 1000 ms by default) left off\n"
    "  run RULES.qm... --dump-ir\n"
    "      print the LLVM IR the JIT generates for the rules\n"
    "  state show DIR [--customer ID] [--tz +08:00] [--lang zh|en]\n"
    "      the customers a state directory keeps, one JSON object per line\n"
    "  state stats DIR [--format text|json] [--lang zh|en]\n"
    "      customers, pending timers, customers per tag and per value of each enum field\n"
    "  version\n"
    "      print the version\n";

}  // namespace

int Usage(const std::string& message) {
  if (message.empty()) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "qm: %s\n\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

int Usage(const Error& error, qianmian::Language lang) {
  return Usage(error.Message(lang == qianmian::Language::kChinese ? Lang::kZh : Lang::kEn));
}

}  // namespace qm::cli
