// The `qm` subcommands. Each returns the process exit code: 0 success,
// 1 errors in the input (rules, files), 2 usage errors.
#ifndef QM_CLI_COMMANDS_H_
#define QM_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "compiler/diag/diag.h"
#include "qianmian/qianmian.hpp"

namespace qm::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitErrors = 1;
inline constexpr int kExitUsage = 2;

// Prints `message` and the usage text to stderr; returns kExitUsage. An
// empty message prints the usage text to stdout (`qm help`): exit 0.
int Usage(const std::string& message, qianmian::Language lang);
int Usage(const Error& error, qianmian::Language lang);
// Whether `args` ask for help (`--help`, `-h`).
bool IsHelpRequest(const std::vector<std::string>& args);
// `qm COMMAND --help`: the command's synopsis and options; exit 0.
int CommandHelp(const std::string& command, qianmian::Language lang);
int CheckCommand(const std::vector<std::string>& args, qianmian::Language lang);
int RunCommand(const std::vector<std::string>& args, qianmian::Language lang);
int TestCommand(const std::vector<std::string>& args, qianmian::Language lang);
int DiffCommand(const std::vector<std::string>& args, qianmian::Language lang);
int FmtCommand(const std::vector<std::string>& args, qianmian::Language lang);
int ExplainCommand(const std::vector<std::string>& args, qianmian::Language lang);
int StateCommand(const std::vector<std::string>& args, qianmian::Language lang);
int ReportCommand(const std::vector<std::string>& args, qianmian::Language lang);
int TagsCommand(const std::vector<std::string>& args, qianmian::Language lang);
int LspCommand(const std::vector<std::string>& args, qianmian::Language lang);
int PublishCommand(const std::vector<std::string>& args, qianmian::Language lang);
int WorkerCommand(const std::vector<std::string>& args, qianmian::Language lang);

}  // namespace qm::cli

#endif  // QM_CLI_COMMANDS_H_
