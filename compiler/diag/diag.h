// Diagnostics: a registry of kinds with stable codes (kinds.def), values that
// carry a source location, and renderers for people (text) and tools (JSON).
// User mistakes are diagnostics; they never abort a stage.
#ifndef QM_COMPILER_DIAG_DIAG_H_
#define QM_COMPILER_DIAG_DIAG_H_

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/source/source.h"

namespace qm {

enum class Severity { kError, kWarning };
enum class Lang { kEn, kZh };

enum class DiagKind {
#define QM_DIAG(name, severity, code, en, zh) k##name,
#define QM_HELP(name, en, zh)
#include "compiler/diag/kinds.def"
#undef QM_DIAG
#undef QM_HELP
};

enum class HelpKind {
#define QM_DIAG(name, severity, code, en, zh)
#define QM_HELP(name, en, zh) k##name,
#include "compiler/diag/kinds.def"
#undef QM_DIAG
#undef QM_HELP
};

struct DiagInfo {
  std::string_view name;
  Severity severity;
  std::string_view code;
  std::string_view en;
  std::string_view zh;
};

// Every registered kind, in kinds.def order.
const std::vector<DiagInfo>& AllDiagKinds();
const DiagInfo& InfoOf(DiagKind kind);

struct Help {
  HelpKind kind;
  std::vector<std::string> args;
};

// One diagnostic. `source` is null for diagnostics about no file (an
// unreadable command-line path); it must outlive the diagnostic.
struct Diagnostic {
  DiagKind kind;
  const Source* source = nullptr;
  Span span;
  std::vector<std::string> args;
  std::optional<Help> help;

  Severity severity() const { return InfoOf(kind).severity; }
  std::string Message(Lang lang) const;
  std::string HelpText(Lang lang) const;
};

// Collects diagnostics in the order stages emit them. At most kMaxPerFile
// are kept per file (a 120 KB file of mistakes must not print gigabytes);
// the rest are counted, and SortBy adds to each such file one W0007, at the
// first diagnostic not kept, that says how many were not shown. Counts include every diagnostic.
class Diagnostics {
 public:
  static constexpr int kMaxPerFile = 50;

  // The returned reference may be to a scratch diagnostic that is not kept:
  // set its help, keep nothing else.
  Diagnostic& Add(DiagKind kind, const Source* source, Span span,
                  std::vector<std::string> args = {});
  const std::vector<Diagnostic>& all() const { return items_; }
  int error_count() const { return errors_; }
  int warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }
  // Orders by file (in the given order of sources) then position, stably.
  void SortBy(const std::vector<const Source*>& file_order);

 private:
  std::vector<Diagnostic> items_;
  struct Dropped {
    int count = 0;
    Span first;  // where the first diagnostic not kept was
  };
  std::unordered_map<const Source*, int> kept_;
  std::unordered_map<const Source*, Dropped> dropped_;
  Diagnostic scratch_;
  int errors_ = 0;
  int warnings_ = 0;
};

// `file:line:col: error[E0103]: message`, the source line, a caret underline
// measured in display columns (CJK is two wide), then `help:` if any.
std::string RenderText(const Diagnostic& d, Lang lang);
// One JSON object (no newline): file, line, column, end_line, end_column,
// severity, code, message, help.
std::string RenderJson(const Diagnostic& d, Lang lang);

}  // namespace qm

#endif  // QM_COMPILER_DIAG_DIAG_H_
