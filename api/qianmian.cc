// The public API (include/qianmian/): a thin layer over the driver, the
// engines and the engine's Output, so embedders and `qm` share one path.
#include <cstdlib>
#include <cstring>

#include "compiler/driver/driver.h"
#include "compiler/interp/interp.h"
#include "compiler/jit/jit.h"
#include "qianmian/qianmian.h"
#include "qianmian/qianmian.hpp"
#include "runtime/engine/engine.h"
#include "runtime/event/decode.h"

namespace qianmian {

struct RuleSet::Impl {
  std::unique_ptr<qm::driver::Compilation> compilation;  // owns the sources the program points into
  std::optional<qm::ir::Program> program;
  std::vector<Diagnostic> diagnostics;
  std::vector<std::string> diagnostics_json;
};

namespace {

std::shared_ptr<const RuleSet::Impl> Finish(std::unique_ptr<qm::driver::Compilation> c, Language language) {
  auto impl = std::make_shared<RuleSet::Impl>();
  qm::Lang lang = language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn;
  for (const qm::Diagnostic& d : c->diags.all()) {
    Diagnostic out;
    if (d.source != nullptr) {
      qm::LineCol from = d.source->Locate(d.span.begin), to = d.source->Locate(std::max(d.span.begin, d.span.end));
      out.file = d.source->name();
      out.line = from.line;
      out.column = from.column;
      out.end_line = to.line;
      out.end_column = to.column;
    }
    out.error = d.severity() == qm::Severity::kError;
    out.code = std::string(qm::InfoOf(d.kind).code);
    out.message = d.Message(lang);
    out.help = d.HelpText(lang);
    out.rendered = qm::RenderText(d, lang);
    impl->diagnostics.push_back(std::move(out));
    impl->diagnostics_json.push_back(qm::RenderJson(d, lang));
  }
  if (c->program) impl->program = qm::ir::Lower(std::move(*c->program));
  impl->compilation = std::move(c);
  return impl;
}

class CallbackOutput final : public qm::engine::Output {
 public:
  CallbackOutput(LineCallback on_action, LineCallback on_reject)
      : on_action_(std::move(on_action)), on_reject_(std::move(on_reject)) {}
  void Action(std::string_view line) override { if (on_action_) on_action_(Trim(line)); }
  void Reject(std::string_view line) override { if (on_reject_) on_reject_(Trim(line)); }
  void Warning(std::string_view) override {}  // cascade_limit lines carry the same news

 private:
  static std::string_view Trim(std::string_view line) {
    return !line.empty() && line.back() == '\n' ? line.substr(0, line.size() - 1) : line;
  }
  LineCallback on_action_, on_reject_;
};

}  // namespace

RuleSet RuleSet::FromFiles(const std::vector<std::string>& paths, Language language) {
  return RuleSet(Finish(qm::driver::CompileFiles(paths), language));
}

RuleSet RuleSet::FromText(const std::string& name, std::string text, Language language) {
  return RuleSet(Finish(qm::driver::CompileText(name, std::move(text)), language));
}

bool RuleSet::ok() const { return impl_->program.has_value(); }
const std::vector<Diagnostic>& RuleSet::diagnostics() const { return impl_->diagnostics; }
size_t RuleSet::rule_count() const { return ok() ? impl_->program->checked.rules.size() : 0; }

struct Runner::Impl {
  std::shared_ptr<const RuleSet::Impl> rules;
  std::unique_ptr<qm::ir::Evaluator> evaluator;
  std::unique_ptr<qm::state::Store> store;
  std::unique_ptr<CallbackOutput> output;
  std::unique_ptr<qm::engine::Engine> engine;
  int64_t line = 0;
  std::string error;
};

Runner::Runner(const RuleSet& rules, RunOptions options, LineCallback on_action, LineCallback on_reject)
    : impl_(std::make_unique<Impl>()) {
  impl_->rules = rules.impl();
  if (!rules.ok()) {
    impl_->error = "the rule set has errors";
    return;
  }
  std::optional<int> tz = qm::ParseOffset(options.tz);
  if (!tz) {
    impl_->error = "tz must be an offset such as +08:00 or Z, not " + options.tz;
    return;
  }
  const qm::ir::Program& program = *impl_->rules->program;
  if (options.engine == Engine::kJit) {
    impl_->evaluator = qm::jit::MakeJit(program, &impl_->error);
    if (!impl_->evaluator) return;
  } else {
    impl_->evaluator = qm::interp::MakeInterpreter(program);
  }
  impl_->store = qm::state::MakeMemoryStore(program);
  impl_->output = std::make_unique<CallbackOutput>(std::move(on_action), std::move(on_reject));
  impl_->engine = std::make_unique<qm::engine::Engine>(program, *impl_->evaluator, *impl_->store, *impl_->output,
                                                       qm::engine::Options{*tz});
}

Runner::~Runner() = default;

void Runner::Feed(std::string_view line) {
  if (impl_->engine) impl_->engine->ProcessLine(line, ++impl_->line);
}

bool Runner::FireUntil(std::string_view time) {
  std::optional<int64_t> until = qm::ParseRfc3339(time);
  if (!until) until = qm::event::EpochMillisFromNumber(time);
  if (!until) return false;
  if (impl_->engine) impl_->engine->FireUntil(*until);
  return true;
}

const std::string& Runner::error() const { return impl_->error; }

}  // namespace qianmian

// ------------------------------------------------------------------ C API

struct qm_ruleset {
  qianmian::RuleSet rules;
};

struct qm_runner {
  std::unique_ptr<qianmian::Runner> runner;
};

namespace {

qianmian::Language LanguageOf(const char* language) {
  return language != nullptr && std::strcmp(language, "zh") == 0 ? qianmian::Language::kChinese
                                                                  : qianmian::Language::kEnglish;
}

char* Copy(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

}  // namespace

extern "C" {

qm_ruleset* qm_ruleset_from_text(const char* name, const char* text, size_t length, const char* language) {
  std::string body = text == nullptr ? "" : length == static_cast<size_t>(-1) ? text : std::string(text, length);
  return new qm_ruleset{qianmian::RuleSet::FromText(name ? name : "rules.qm", std::move(body), LanguageOf(language))};
}

qm_ruleset* qm_ruleset_from_files(const char* const* paths, size_t count, const char* language) {
  std::vector<std::string> list;
  for (size_t i = 0; i < count; ++i) list.emplace_back(paths[i] ? paths[i] : "");
  return new qm_ruleset{qianmian::RuleSet::FromFiles(list, LanguageOf(language))};
}

int qm_ruleset_ok(const qm_ruleset* rules) { return rules != nullptr && rules->rules.ok(); }

size_t qm_ruleset_diagnostic_count(const qm_ruleset* rules) {
  return rules == nullptr ? 0 : rules->rules.diagnostics().size();
}

const char* qm_ruleset_diagnostic_json(const qm_ruleset* rules, size_t index) {
  if (rules == nullptr || index >= rules->rules.impl()->diagnostics_json.size()) return nullptr;
  return rules->rules.impl()->diagnostics_json[index].c_str();
}

void qm_ruleset_free(qm_ruleset* rules) { delete rules; }

qm_runner* qm_runner_new(const qm_ruleset* rules, const char* engine, const char* tz, qm_line_fn on_action,
                         qm_line_fn on_reject, void* user, char** error) {
  auto fail = [&](const std::string& message) -> qm_runner* {
    if (error != nullptr) *error = Copy(message);
    return nullptr;
  };
  if (rules == nullptr) return fail("no rule set");
  qianmian::RunOptions options;
  if (engine != nullptr && std::strcmp(engine, "interp") == 0) options.engine = qianmian::Engine::kInterpreter;
  else if (engine != nullptr && std::strcmp(engine, "jit") != 0) return fail("engine must be jit or interp");
  if (tz != nullptr) options.tz = tz;
  auto wrap = [user](qm_line_fn fn) -> qianmian::LineCallback {
    if (fn == nullptr) return nullptr;
    return [fn, user](std::string_view line) { fn(user, line.data(), line.size()); };
  };
  auto runner = std::make_unique<qianmian::Runner>(rules->rules, options, wrap(on_action), wrap(on_reject));
  if (!runner->error().empty()) return fail(runner->error());
  return new qm_runner{std::move(runner)};
}

void qm_runner_feed(qm_runner* runner, const char* line, size_t length) {
  if (runner == nullptr || line == nullptr) return;
  runner->runner->Feed(length == static_cast<size_t>(-1) ? std::string_view(line) : std::string_view(line, length));
}

int qm_runner_fire_until(qm_runner* runner, const char* time) {
  return runner != nullptr && time != nullptr && runner->runner->FireUntil(time);
}

void qm_runner_free(qm_runner* runner) { delete runner; }

void qm_free_string(char* text) { std::free(text); }

}  // extern "C"
