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
  std::string line;  // the lines a callback gets, NUL-terminated
  std::string error, reason, customer;  // of the last call
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

char* qm_ruleset_why_not_partitioned(const qm_ruleset* rules) {
  if (rules == nullptr) return nullptr;
  return Guard([&] {
    std::string why = rules->rules.WhyNotPartitioned();
    return why.empty() ? nullptr : Copy(why);
  }, static_cast<char*>(nullptr));
}

size_t qm_ruleset_diagnostic_count(const qm_ruleset* rules) {
  return rules == nullptr ? 0 : rules->rules.diagnostics().size();
}

const char* qm_ruleset_diagnostic_json(const qm_ruleset* rules, size_t index) {
  if (rules == nullptr || index >= rules->rules.diagnostics().size()) return nullptr;
  return rules->rules.diagnostics()[index].json.c_str();
}

void qm_ruleset_free(qm_ruleset* rules) { delete rules; }

namespace {

// Why a Runner was not made, for C: a malloc'd copy in `*error` (when not null).
qm_runner* Refuse(char** error, const std::string& message) {
  if (error != nullptr) *error = Copy(message);
  return nullptr;
}

}  // namespace

qm_runner* qm_runner_new_with_lateness(const qm_ruleset* rules, const char* engine, const char* tz,
                                       const char* lateness, qm_line_fn on_action, qm_line_fn on_reject,
                                       void* user, char** error) {
  return Guard([&]() -> qm_runner* {
    auto fail = [&](const std::string& message) { return Refuse(error, message); };
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
    std::string refused;
    out->runner = qianmian::Runner::Create(rules->rules, options, wrap(on_action), wrap(on_reject), &refused);
    if (!out->runner) return fail(refused);
    return out.release();
  }, static_cast<qm_runner*>(nullptr));
}

qm_runner* qm_runner_new(const qm_ruleset* rules, const char* engine, const char* tz, qm_line_fn on_action,
                         qm_line_fn on_reject, void* user, char** error) {
  return qm_runner_new_with_lateness(rules, engine, tz, nullptr, on_action, on_reject, user, error);
}

qm_runner* qm_runner_open(const qm_ruleset* rules, const char* const* options, qm_batch_fn deliver, void* user,
                          char** error) {
  return Guard([&]() -> qm_runner* {
    auto fail = [&](const std::string& message) { return Refuse(error, message); };
    if (rules == nullptr) return fail("no rule set");
    qianmian::RunOptions run;
    for (size_t i = 0; options != nullptr && options[i] != nullptr; ++i) {
      std::string_view option = options[i];
      size_t eq = option.find('=');
      std::string key(option.substr(0, eq)), value(eq == std::string_view::npos ? "" : option.substr(eq + 1));
      if (key == "engine" && (value == "jit" || value == "interp"))
        run.engine = value == "jit" ? qianmian::Engine::kJit : qianmian::Engine::kInterpreter;
      else if (key == "tz") run.tz = value;
      else if (key == "lateness") run.lateness = value;
      else if (key == "state_dir") run.state_dir = value;
      else return fail("unknown option `" + std::string(option) + "`: give engine=jit|interp, tz=, lateness= or state_dir=");
    }
    auto out = std::make_unique<qm_runner>();
    qianmian::Deliver to_host;
    if (deliver != nullptr)
      to_host = [deliver, user, self = out.get()](const qianmian::Batch& batch) {
        // NUL-terminated copies for C, in one buffer each call.
        std::string& text = self->line;
        text.clear();
        std::vector<size_t> starts, lengths;
        for (const auto* lines : {&batch.actions, &batch.rejects})
          for (std::string_view l : *lines) {
            starts.push_back(text.size());
            lengths.push_back(l.size());
            text.append(l);
            text.push_back('\0');
          }
        std::vector<const char*> pointers;
        for (size_t start : starts) pointers.push_back(text.data() + start);
        size_t n = batch.actions.size();
        return deliver(user, pointers.data(), lengths.data(), n, pointers.data() + n, lengths.data() + n,
                       batch.rejects.size()) == 0;
      };
    std::string refused;
    out->runner = qianmian::Runner::Create(rules->rules, run, std::move(to_host), &refused);
    if (!out->runner) return fail(refused);
    return out.release();
  }, static_cast<qm_runner*>(nullptr));
}

int qm_runner_feed_numbered(qm_runner* runner, const char* line, size_t length, const char* position,
                            long long line_number) {
  if (runner == nullptr || line == nullptr) return QM_FAILED;
  return Guard([&] {
    qianmian::FeedResult r = runner->runner->Feed(
        length == static_cast<size_t>(-1) ? std::string_view(line) : std::string_view(line, length),
        position == nullptr ? std::string_view() : std::string_view(position), line_number);
    runner->error = std::move(r.status.error);
    runner->reason = std::move(r.reason);
    runner->customer = std::move(r.customer);
    switch (r.outcome) {
      case qianmian::FeedResult::Outcome::kAccepted: return int{QM_ACCEPTED};
      case qianmian::FeedResult::Outcome::kHeld: return int{QM_HELD};
      case qianmian::FeedResult::Outcome::kRejected: return int{QM_REJECTED};
      case qianmian::FeedResult::Outcome::kBlank: return int{QM_BLANK};
      case qianmian::FeedResult::Outcome::kFailed: break;
    }
    return int{QM_FAILED};
  }, int{QM_FAILED});
}

int qm_runner_feed_at(qm_runner* runner, const char* line, size_t length, const char* position) {
  return qm_runner_feed_numbered(runner, line, length, position, 0);
}

int qm_runner_feed(qm_runner* runner, const char* line, size_t length) {
  return qm_runner_feed_at(runner, line, length, nullptr);
}

// A Status as the C API's 1 (ok) or 0, keeping its message.
static int Done(qm_runner* runner, qianmian::Status status) {
  runner->error = std::move(status.error);
  runner->reason.clear();
  runner->customer.clear();
  return runner->error.empty() ? 1 : 0;
}

int qm_runner_end_of_input(qm_runner* runner) {
  if (runner == nullptr) return 0;
  return Guard([&] { return Done(runner, runner->runner->EndOfInput()); }, 0);
}

int qm_runner_fire_until(qm_runner* runner, const char* time) {
  if (runner == nullptr || time == nullptr) return 0;
  return Guard([&] { return Done(runner, runner->runner->FireUntil(time)); }, 0);
}

int qm_runner_commit(qm_runner* runner) {
  if (runner == nullptr) return 0;
  return Guard([&] { return Done(runner, runner->runner->Commit().status); }, 0);
}

char* qm_runner_committed_position(const qm_runner* runner) {
  if (runner == nullptr) return nullptr;
  return Guard([&]() -> char* {
    std::optional<std::string> position = runner->runner->committed_position();
    return position ? Copy(*position) : nullptr;
  }, static_cast<char*>(nullptr));
}

int qm_runner_reload(qm_runner* runner, const qm_ruleset* rules) {
  if (runner == nullptr || rules == nullptr) return 0;
  return Guard([&] { return Done(runner, runner->runner->Reload(rules->rules)); }, 0);
}

int qm_runner_forget(qm_runner* runner, const char* customer) {
  if (runner == nullptr || customer == nullptr) return 0;
  return Guard([&] { return runner->runner->Forget(customer) ? 1 : 0; }, 0);
}

const char* qm_runner_last_error(const qm_runner* runner) { return runner == nullptr ? "" : runner->error.c_str(); }
const char* qm_runner_last_reason(const qm_runner* runner) { return runner == nullptr ? "" : runner->reason.c_str(); }
const char* qm_runner_last_customer(const qm_runner* runner) {
  return runner == nullptr ? "" : runner->customer.c_str();
}

const char* qm_version(void) { return qianmian::Version(); }

void qm_runner_free(qm_runner* runner) { delete runner; }

void qm_free_string(char* text) { std::free(text); }

}  // extern "C"
