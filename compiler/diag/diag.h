// Diagnostics: a registry of kinds with stable codes (kinds.def), values that
// carry a source location, and renderers for people (text) and tools (JSON).
// User mistakes are diagnostics; they never abort a stage.
#ifndef QM_COMPILER_DIAG_DIAG_H_
#define QM_COMPILER_DIAG_DIAG_H_

#include <algorithm>
#include <functional>
#include <concepts>
#include <cstddef>
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

// How many arguments a message takes: one more than its largest `{N}`, in
// either language.
constexpr int PlaceholderCount(std::string_view pattern) {
  int count = 0;
  for (size_t i = 0; i + 2 < pattern.size(); ++i)
    if (pattern[i] == '{' && pattern[i + 1] >= '0' && pattern[i + 1] <= '9' && pattern[i + 2] == '}')
      count = std::max(count, pattern[i + 1] - '0' + 1);
  return count;
}

constexpr int ArgCount(DiagKind kind) {
  constexpr int kCounts[] = {
#define QM_DIAG(name, severity, code, en, zh) std::max(PlaceholderCount(en), PlaceholderCount(zh)),
#define QM_HELP(name, en, zh)
#include "compiler/diag/kinds.def"
#undef QM_DIAG
#undef QM_HELP
  };
  return kCounts[static_cast<size_t>(kind)];
}

constexpr int ArgCount(HelpKind kind) {
  constexpr int kCounts[] = {
#define QM_DIAG(name, severity, code, en, zh)
#define QM_HELP(name, en, zh) std::max(PlaceholderCount(en), PlaceholderCount(zh)),
#include "compiler/diag/kinds.def"
#undef QM_DIAG
#undef QM_HELP
  };
  return kCounts[static_cast<size_t>(kind)];
}

enum class ErrorKind {
#define QM_ERROR(name, en, zh) k##name,
#include "compiler/diag/errors.def"
#undef QM_ERROR
};

constexpr int ArgCount(ErrorKind kind) {
  constexpr int kCounts[] = {
#define QM_ERROR(name, en, zh) std::max(PlaceholderCount(en), PlaceholderCount(zh)),
#include "compiler/diag/errors.def"
#undef QM_ERROR
  };
  return kCounts[static_cast<size_t>(kind)];
}

// An argument that is words rather than a name or a value (`a condition`,
// `the end of the file`): it carries both languages, and a message shows the
// one it is rendered in.
std::string Bilingual(std::string_view en, std::string_view zh);

// Exactly the N arguments a message takes, written `{a, b}`: a call that
// passes one too few or too many does not compile.
template <int N>
struct DiagArgs {
  template <typename... S>
    requires(sizeof...(S) == N && (std::convertible_to<S, std::string> && ...))
  DiagArgs(S&&... s) : values{std::string(std::forward<S>(s))...} {}  // NOLINT: implicit by design
  std::vector<std::string> values;
};

struct Help {
  HelpKind kind;
  std::vector<std::string> args;

  template <HelpKind K>
  static Help Of(DiagArgs<ArgCount(K)> args = {}) {
    return Help{K, std::move(args.values)};
  }
};

// "did you mean `X`?" over code points: the closest candidate within about
// half the name's length, so 复购客户 finds 复购 and vip finds VIP only if close.
std::optional<Help> Suggest(std::string_view name, const std::vector<std::string>& candidates);

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

// A failure of a file, the system or state (errors.def), or a message along
// a run: one type, a value, in both languages like the diagnostics.
struct Error {
  ErrorKind kind = ErrorKind::kOther;
  std::vector<std::string> args;

  template <ErrorKind K>
  static Error Of(DiagArgs<ArgCount(K)> args = {}) {
    return Error{K, std::move(args.values)};
  }
  std::string Message(Lang lang) const;
};

struct ErrorInfo {
  std::string_view name, en, zh;
};
const std::vector<ErrorInfo>& AllErrorKinds();

// Collects diagnostics in the order stages emit them. At most kMaxPerFile
// are kept per file (a 120 KB file of mistakes must not print gigabytes);
// the rest are counted, and SortBy adds to each such file one W0007, at the
// first diagnostic not kept, that says how many were not shown. Counts include every diagnostic.
class Diagnostics {
 public:
  static constexpr int kMaxPerFile = 50;

  // The returned reference may be to a scratch diagnostic that is not kept:
  // set its help, keep nothing else.
  template <DiagKind K>
  Diagnostic& Add(const Source* source, Span span, DiagArgs<ArgCount(K)> args = {}) {
    return Add(K, source, span, std::move(args.values));
  }
  // For a kind chosen at run time. A wrong number of arguments is a bug: the
  // message then shows the unfilled `{N}` rather than dropping it.
  Diagnostic& Add(DiagKind kind, const Source* source, Span span, std::vector<std::string> args);
  const std::vector<Diagnostic>& all() const { return items_; }
  int error_count() const { return errors_; }
  int warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }
  // Removes the warnings `silenced` says to (`# qm: allow`, `--allow`).
  void DropWarnings(const std::function<bool(const Diagnostic&)>& silenced);
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
