/* Qianmian's C API: the C++ API of qianmian.hpp for C and other languages'
 * foreign function interfaces. Every function is safe to call with the
 * values the others return; strings passed in are UTF-8, and a length of
 * (size_t)-1 means NUL-terminated. Nothing aborts on bad rules or events. */
#ifndef QIANMIAN_QIANMIAN_H_
#define QIANMIAN_QIANMIAN_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qm_ruleset qm_ruleset;
typedef struct qm_runner qm_runner;

/* Receives one output line (no trailing newline, NUL-terminated at
 * `length`); `user` is what was given to qm_runner_new. The line is valid
 * only during the call. No C++ exception ever crosses into C: a function
 * that fails for want of memory returns NULL or 0, or drops the call. */
typedef void (*qm_line_fn)(void* user, const char* line, size_t length);

/* Compiles rule text; `language` is "en" or "zh" (NULL: "en"). Never NULL
 * except when out of memory; check qm_ruleset_ok. Free with qm_ruleset_free. */
qm_ruleset* qm_ruleset_from_text(const char* name, const char* text, size_t length, const char* language);
/* Loads `count` rule files in order, following imports. */
qm_ruleset* qm_ruleset_from_files(const char* const* paths, size_t count, const char* language);
/* 1 when there is no error (warnings allowed), else 0. */
int qm_ruleset_ok(const qm_ruleset* rules);
size_t qm_ruleset_diagnostic_count(const qm_ruleset* rules);
/* Diagnostic `index` as one JSON object, as `qm check --format json` prints
 * it; owned by the rule set. NULL when `index` is out of range. */
const char* qm_ruleset_diagnostic_json(const qm_ruleset* rules, size_t index);
void qm_ruleset_free(qm_ruleset* rules);

/* A runner over `rules` (which may be freed afterwards). `engine` is "jit"
 * or "interp" (NULL: "jit"), `tz` an offset such as "+08:00" (NULL: that).
 * Returns NULL on failure and, when `error` is not NULL, sets *error to a
 * message to release with qm_free_string. */
qm_runner* qm_runner_new(const qm_ruleset* rules, const char* engine, const char* tz, qm_line_fn on_action,
                         qm_line_fn on_reject, void* user, char** error);
/* The same, with events allowed to arrive up to `lateness` out of order (a
 * duration such as "2h"; NULL or "": none): each waits until an event that
 * much later has been fed, or qm_runner_end_of_input (SEMANTICS.md D9). */
qm_runner* qm_runner_new_with_lateness(const qm_ruleset* rules, const char* engine, const char* tz,
                                       const char* lateness, qm_line_fn on_action, qm_line_fn on_reject,
                                       void* user, char** error);
/* Processes one input line (without its newline). */
void qm_runner_feed(qm_runner* runner, const char* line, size_t length);
/* Fires timers due at or before `time` (RFC 3339 or epoch seconds); 1 on
 * success, 0 when `time` is invalid. */
int qm_runner_fire_until(qm_runner* runner, const char* time);
/* The input has ended: processes the events lateness still holds. Call it
 * before qm_runner_fire_until. */
void qm_runner_end_of_input(qm_runner* runner);
void qm_runner_free(qm_runner* runner);

/* The library's version, e.g. "0.1.0"; static. */
const char* qm_version(void);

void qm_free_string(char* text);

#ifdef __cplusplus
}
#endif

#endif /* QIANMIAN_QIANMIAN_H_ */
