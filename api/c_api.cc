// The C API (include/qianmian/qianmian.h) over the C++ one.
#include <cstdlib>
#include <cstring>

#include "qianmian/qianmian.h"
#include "qianmian/qianmian.hpp"

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
  if (rules == nullptr || index >= rules->rules.diagnostics().size()) return nullptr;
  return rules->rules.diagnostics()[index].json.c_str();
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
