// The C API (include/qianmian/qianmian.h) over the C++ one.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "qianmian/qianmian.h"
#include "qianmian/qianmian.hpp"

struct qm_ruleset {
  qianmian::RuleSet rules;
};

struct qm_runner {
  std::unique_ptr<qianmian::Runner> runner;
  std::string line;  // the line a callback gets, NUL-terminated
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

// Runs `body`; an exception (out of memory) gives `failed` instead of
// crossing into C.
template <class F, class R>
R Guard(F body, R failed) {
  try {
    return body();
  } catch (...) {
    return failed;
  }
}

}  // namespace

extern "C" {

qm_ruleset* qm_ruleset_from_text(const char* name, const char* text, size_t length, const char* language) {
  return Guard([&] {
    std::string body = text == nullptr ? "" : length == static_cast<size_t>(-1) ? text : std::string(text, length);
    return new qm_ruleset{qianmian::RuleSet::FromText(name ? name : "rules.qm", std::move(body), LanguageOf(language))};
  }, static_cast<qm_ruleset*>(nullptr));
}

qm_ruleset* qm_ruleset_from_files(const char* const* paths, size_t count, const char* language) {
  return Guard([&] {
    std::vector<std::string> list;
    for (size_t i = 0; i < count; ++i) list.emplace_back(paths[i] ? paths[i] : "");
    return new qm_ruleset{qianmian::RuleSet::FromFiles(list, LanguageOf(language))};
  }, static_cast<qm_ruleset*>(nullptr));
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

qm_runner* qm_runner_new_with_lateness(const qm_ruleset* rules, const char* engine, const char* tz,
                                       const char* lateness, qm_line_fn on_action, qm_line_fn on_reject,
                                       void* user, char** error) {
  return Guard([&]() -> qm_runner* {
    auto fail = [&](const std::string& message) -> qm_runner* {
      if (error != nullptr) *error = Copy(message);
      return nullptr;
    };
    if (rules == nullptr) return fail("no rule set");
    qianmian::RunOptions options;
    if (engine != nullptr && std::strcmp(engine, "interp") == 0) options.engine = qianmian::Engine::kInterpreter;
    else if (engine != nullptr && std::strcmp(engine, "jit") != 0) return fail("engine must be jit or interp");
    if (tz != nullptr) options.tz = tz;
    if (lateness != nullptr) options.lateness = lateness;
    auto out = std::make_unique<qm_runner>();
    qm_runner* self = out.get();
    auto wrap = [user, self](qm_line_fn fn) -> qianmian::LineCallback {
      if (fn == nullptr) return nullptr;
      return [fn, user, self](std::string_view line) {
        self->line.assign(line);  // NUL-terminated for C
        fn(user, self->line.c_str(), self->line.size());
      };
    };
    out->runner = std::make_unique<qianmian::Runner>(rules->rules, options, wrap(on_action), wrap(on_reject));
    if (!out->runner->error().empty()) return fail(out->runner->error());
    return out.release();
  }, static_cast<qm_runner*>(nullptr));
}

qm_runner* qm_runner_new(const qm_ruleset* rules, const char* engine, const char* tz, qm_line_fn on_action,
                         qm_line_fn on_reject, void* user, char** error) {
  return qm_runner_new_with_lateness(rules, engine, tz, nullptr, on_action, on_reject, user, error);
}

void qm_runner_feed(qm_runner* runner, const char* line, size_t length) {
  if (runner == nullptr || line == nullptr) return;
  Guard([&] {
    runner->runner->Feed(length == static_cast<size_t>(-1) ? std::string_view(line) : std::string_view(line, length));
    return 0;
  }, 0);
}

void qm_runner_end_of_input(qm_runner* runner) {
  if (runner == nullptr) return;
  Guard([&] {
    runner->runner->EndOfInput();
    return 0;
  }, 0);
}

int qm_runner_fire_until(qm_runner* runner, const char* time) {
  if (runner == nullptr || time == nullptr) return 0;
  return Guard([&] { return runner->runner->FireUntil(time) ? 1 : 0; }, 0);
}

const char* qm_version(void) { return qianmian::Version(); }

void qm_runner_free(qm_runner* runner) { delete runner; }

void qm_free_string(char* text) { std::free(text); }

}  // extern "C"
