// Qianmian's C++ API for services that embed the rules engine.
//
//   auto rules = qianmian::RuleSet::FromFiles({"rules.qm"});
//   if (!rules.ok()) { for (auto& d : rules.diagnostics()) log(d.rendered); return; }
//   qianmian::Runner runner(rules, {}, [](std::string_view action) { send(action); },
//                           [](std::string_view reject) { log(reject); });
//   for (auto& line : lines) runner.Feed(line);
//
// Actions and rejects are the JSON Lines of `qm run` (LANGUAGE.md section 5),
// given to the callbacks without the trailing newline, in processing order.
// Nothing here throws for bad rules or bad events: rule problems are
// diagnostics, event problems are rejects. State lives in memory in the Runner.
#ifndef QIANMIAN_QIANMIAN_HPP_
#define QIANMIAN_QIANMIAN_HPP_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qianmian {

enum class Language { kEnglish, kChinese };
enum class Engine { kJit, kInterpreter };

// One diagnostic of `qm check`, with its position (1-based; 0 when it is
// about no file, like an unreadable path).
struct Diagnostic {
  std::string file;
  int line = 0, column = 0, end_line = 0, end_column = 0;
  bool error = true;     // false: a warning
  std::string code;      // stable, e.g. "E0103"
  std::string message;   // in the requested language
  std::string help;      // empty when there is none
  std::string rendered;  // the text `qm check` prints, caret line included
};

// A checked, compiled rule set. Cheap to copy (shared, immutable); may be
// used by several Runners, one per thread.
class RuleSet {
 public:
  // Loads rule files in order, following imports.
  static RuleSet FromFiles(const std::vector<std::string>& paths, Language language = Language::kEnglish);
  // Compiles in-memory text, named `name` in diagnostics and rule names.
  static RuleSet FromText(const std::string& name, std::string text, Language language = Language::kEnglish);

  // True when there is no error (warnings allowed); only then can it run.
  bool ok() const;
  const std::vector<Diagnostic>& diagnostics() const;
  size_t rule_count() const;

  struct Impl;
  const std::shared_ptr<const Impl>& impl() const { return impl_; }

 private:
  explicit RuleSet(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

struct RunOptions {
  Engine engine = Engine::kJit;
  std::string tz = "+08:00";  // the zone output times are written in (A39)
};

using LineCallback = std::function<void(std::string_view line)>;

// Runs a rule set over events fed one line at a time. Not thread-safe; use
// one Runner per thread or shard of customers.
class Runner {
 public:
  // `rules` must be ok(). On a bad option or a JIT failure, `error()` says
  // why and every call does nothing.
  Runner(const RuleSet& rules, RunOptions options, LineCallback on_action, LineCallback on_reject);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Processes one JSON Lines input line (without '\n').
  void Feed(std::string_view line);
  // Fires the timers due at or before `time` (RFC 3339 or epoch seconds),
  // as `qm run --until`. Returns false when `time` is not a valid time.
  bool FireUntil(std::string_view time);
  // Empty when the runner works.
  const std::string& error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qianmian

#endif  // QIANMIAN_QIANMIAN_HPP_
