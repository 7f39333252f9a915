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
/* Why the rules mean something else split by customer over processes
 * (identity keys, segments; docs/scale-out.md), to release with
 * qm_free_string; NULL when they may be split. */
char* qm_ruleset_why_not_partitioned(const qm_ruleset* rules);
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
/* Receives the lines one call produced (docs/embedding.md): `actions[i]`
 * is NUL-terminated at `action_lengths[i]`, the same for rejects; all valid
 * only during the call. Return 0 when they are delivered. Any other value
 * fails the call: the runner takes back everything it did, and the same call
 * again gives the same lines. Called only when a call wrote lines. */
typedef int (*qm_batch_fn)(void* user, const char* const* actions, const size_t* action_lengths,
                           size_t action_count, const char* const* rejects, const size_t* reject_lengths,
                           size_t reject_count);

/* A runner with options as "key=value" strings, the list ending with NULL
 * (options may be NULL): engine=jit|interp, tz=+08:00, lateness=2h,
 * state_dir=DIR (customers' states kept there; see qm_runner_commit). NULL
 * on failure, with *error as qm_runner_new sets it. */
qm_runner* qm_runner_open(const qm_ruleset* rules, const char* const* options, qm_batch_fn deliver, void* user,
                          char** error);

/* What became of a fed line. */
enum {
  QM_ACCEPTED = 0, /* its step ran */
  QM_HELD = 1,     /* lateness holds it (SEMANTICS.md D9) */
  QM_REJECTED = 2, /* rejected: qm_runner_last_reason and qm_runner_last_customer say why and whose */
  QM_BLANK = 3,    /* a blank line */
  QM_FAILED = -1   /* the call did nothing: qm_runner_last_error says why */
};

/* Processes one input line (without its newline); returns a QM_ status. */
int qm_runner_feed(qm_runner* runner, const char* line, size_t length);
/* The same, with the host's position after this line (NUL-terminated; an
 * offset, a sequence number), which qm_runner_commit records. */
int qm_runner_feed_at(qm_runner* runner, const char* line, size_t length, const char* position);
/* The same, for a line whose number in the host's input is known (a message
 * that carries it): reject lines name `line_number`, and lines fed after it
 * without one count on from it. */
int qm_runner_feed_numbered(qm_runner* runner, const char* line, size_t length, const char* position,
                            long long line_number);
/* Fires timers due at or before `time` (RFC 3339 or epoch seconds); 1 on
 * success, 0 when `time` is invalid, earlier than a time already fired to,
 * or the delivery failed (qm_runner_last_error says which). */
int qm_runner_fire_until(qm_runner* runner, const char* time);
/* The input has ended: processes the events lateness still holds. Call it
 * before qm_runner_fire_until. 1 on success, 0 when the delivery failed. */
int qm_runner_end_of_input(qm_runner* runner);
/* A runner with state_dir: makes every customer's state and the position of
 * the last fed line durable in one atomic write. 1 on success, else 0. */
int qm_runner_commit(qm_runner* runner);
/* The position of the state directory's last commit, to resume the input
 * from (free with qm_free_string); NULL when nothing was committed. */
char* qm_runner_committed_position(const qm_runner* runner);
/* Continues with `rules` keeping every customer's state (see Runner::Reload
 * in qianmian.hpp); 1 on success, else 0 with the old rules kept and
 * qm_runner_last_error saying why. */
int qm_runner_reload(qm_runner* runner, const qm_ruleset* rules);
/* Removes every trace of a customer (memory now, the state directory at the
 * next commit). 1 when there was such a customer, else 0. */
int qm_runner_forget(qm_runner* runner, const char* customer);
/* About the last call: why it failed, and for a rejected line its reason
 * and customer ("" when none). Owned by the runner, valid until its next
 * call. */
const char* qm_runner_last_error(const qm_runner* runner);
const char* qm_runner_last_reason(const qm_runner* runner);
const char* qm_runner_last_customer(const qm_runner* runner);
void qm_runner_free(qm_runner* runner);

/* The library's version, e.g. "0.1.0"; static. */
const char* qm_version(void);

void qm_free_string(char* text);

#ifdef __cplusplus
}
#endif

#endif /* QIANMIAN_QIANMIAN_H_ */
