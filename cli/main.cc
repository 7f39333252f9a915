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
#include "cli/flags.h"

namespace {

qianmian::Language DefaultLang() {
  const char* lang = std::getenv("LANG");
  return lang != nullptr && std::strncmp(lang, "zh", 2) == 0 ? qianmian::Language::kChinese
                                                             : qianmian::Language::kEnglish;
}

}  // namespace


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
  if (args.empty()) return Usage(qm::Error::Of<qm::ErrorKind::kNoCommand>(), DefaultLang());
  std::string command = args[0];
  args.erase(args.begin());
  if (IsHelpRequest(args)) return CommandHelp(command, LangOfArgs(args, DefaultLang()));
  if (command == "check") return CheckCommand(args, DefaultLang());
  if (command == "run") return RunCommand(args, DefaultLang());
  if (command == "test") return TestCommand(args, DefaultLang());
  if (command == "diff") return DiffCommand(args, DefaultLang());
  if (command == "fmt") return FmtCommand(args, DefaultLang());
  if (command == "explain") return ExplainCommand(args, DefaultLang());
  if (command == "state") return StateCommand(args, DefaultLang());
  if (command == "version" || command == "--version") {
    std::printf("qm %s\n", qianmian::Version());
    return kExitOk;
  }
  if (command == "-h" || command == "--help" || command == "help")
    return args.empty() ? Usage("", DefaultLang()) : CommandHelp(args[0], DefaultLang());
  return Usage(qm::Error::Of<qm::ErrorKind::kUnknownCommand>({command}), DefaultLang());
}
