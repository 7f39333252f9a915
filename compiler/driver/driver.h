// Driver: rule file paths -> loaded sources (imports resolved and spliced,
// A9) -> parsed files -> the checked Program. What `qm check`, `qm run` and
// the embedding API call.
#ifndef QM_COMPILER_DRIVER_DRIVER_H_
#define QM_COMPILER_DRIVER_DRIVER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/check/check.h"
#include "compiler/diag/diag.h"

namespace qm::driver {

// Everything one compilation made. Sources and files own what diagnostics
// and the Program point into, so keep the Compilation alive while using them.
struct Compilation {
  std::vector<std::unique_ptr<Source>> sources;
  std::vector<std::unique_ptr<ast::RuleFile>> files;
  Diagnostics diags;
  std::optional<check::Program> program;  // present iff there is no error
  check::Index index;                     // names and their uses, also with errors
};

// Texts that win over the files on disk (an editor's unsaved buffers), by
// canonical absolute path.
using OpenDocuments = std::map<std::string, std::string>;

// The canonical absolute form of `path`, as OpenDocuments keys it.
std::string CanonicalPath(const std::string& path);

// Rule files larger than this are refused (E0012): a rule set of 10,000 rules
// is about 3 MB.
inline constexpr int64_t kMaxRuleFileBytes = 16 << 20;

// Loads `paths` in order, following imports depth-first; every problem,
// including unreadable files, is a diagnostic. Warnings with a code in
// `allow` (`--allow W0004`) are dropped, and so are those a `# qm: allow
// CODE` comment silences for its declaration or rule (docs/diagnostics.md).
std::unique_ptr<Compilation> CompileFiles(const std::vector<std::string>& paths,
                                          const std::vector<std::string>& allow = {},
                                          const OpenDocuments* open = nullptr);

// Compiles in-memory text as a file called `display_name` (imports are
// resolved relative to the working directory).
std::unique_ptr<Compilation> CompileText(const std::string& display_name, std::string text);

// `qm fmt`: one rule file read as CompileFiles reads it (imports are not
// followed) and laid out canonically (format::Format). Nullopt when it cannot
// be read or has syntax errors; the diagnostics are in `c`.
std::optional<std::string> FormatFile(const std::string& path, Compilation& c);
std::optional<std::string> FormatText(const std::string& display_name, std::string text, Compilation& c);

}  // namespace qm::driver

#endif  // QM_COMPILER_DRIVER_DRIVER_H_
