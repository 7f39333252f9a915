// qm: the command line. `qm check` validates rule files for people and CI.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

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
    "  state show DIR [--customer ID] [--tz +08:00]\n"
    "      the customers a state directory keeps, one JSON object per line\n"
    "  state stats DIR [--format text|json]\n"
    "      customers, pending timers, customers per tag and per value of each enum field\n"
    "  version\n"
    "      print the version\n";

qm::Lang DefaultLang() {
  const char* lang = std::getenv("LANG");
  return lang != nullptr && std::strncmp(lang, "zh", 2) == 0 ? qm::Lang::kZh : qm::Lang::kEn;
}

}  // namespace

namespace qm::cli {

int Usage(const std::string& message) {
  if (message.empty()) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "qm: %s\n\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

}  // namespace qm::cli

namespace {

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
  // Past `ulimit -f`, a write fails with EFBIG and qm says which file, instead
  // of dying silently of SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  using namespace qm::cli;
  if (args.empty()) return Usage("no command given");
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "check") return CheckCommand(args, DefaultLang());
  if (command == "run") return RunCommand(args, DefaultLang());
  if (command == "state") return StateCommand(args);
  if (command == "version" || command == "--version") {
    std::puts("qm 0.1.0");
    return kExitOk;
  }
  if (command == "-h" || command == "--help" || command == "help") return Usage("");
  return Usage("unknown command `" + command + "`");
}
