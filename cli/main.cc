// qm: the command line. `qm check` validates rule files for people and CI.
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

int main(int argc, char** argv) {
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
  if (command == "lsp") return LspCommand(args, DefaultLang());
  if (command == "tags") return TagsCommand(args, DefaultLang());
  if (command == "report") return ReportCommand(args, DefaultLang());
  if (command == "publish") return PublishCommand(args, DefaultLang());
  if (command == "worker") return WorkerCommand(args, DefaultLang());
  if (command == "version" || command == "--version") {
    std::printf("qm %s\n", qianmian::Version());
    return kExitOk;
  }
  if (command == "-h" || command == "--help" || command == "help")
    return args.empty() ? Usage("", DefaultLang()) : CommandHelp(args[0], DefaultLang());
  return Usage(qm::Error::Of<qm::ErrorKind::kUnknownCommand>({command}), DefaultLang());
}
