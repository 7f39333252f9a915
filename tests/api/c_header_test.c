/* The C header compiles as C, and a C program can run rules with it. */
#include <stdio.h>
#include <string.h>

#include "qianmian/qianmian.h"

static void count_line(void* user, const char* line, size_t length) {
  (void)line;
  (void)length;
  ++*(int*)user;
}

/* Fails every other call: the runner takes those back. */
static int flaky(void* user, const char* const* actions, const size_t* action_lengths, size_t action_count,
                 const char* const* rejects, const size_t* reject_lengths, size_t reject_count) {
  int* calls = (int*)user;
  const char* first = action_count > 0 ? actions[0] : rejects[0];
  size_t length = action_count > 0 ? action_lengths[0] : reject_lengths[0];
  if (action_count + reject_count == 0 || first[length] != '\0') return 2; /* lines are NUL-terminated */
  return (*calls)++ % 2 == 0 ? 1 : 0;
}

/* The failable delivery, the feed statuses and a reload through C. */
static int batches(void) {
  qm_ruleset* rules = qm_ruleset_from_text("c.qm", "event visit\nwhen visit then push hello\n", (size_t)-1, NULL);
  qm_ruleset* more = qm_ruleset_from_text("c.qm", "event visit\nwhen visit then push hello\nwhen visit then push again\n",
                                          (size_t)-1, NULL);
  const char* options[] = {"engine=interp", "tz=Z", NULL};
  const char* wrong[] = {"speed=fast", NULL};
  int calls = 0, ok = 1;
  char* error = NULL;
  qm_runner* runner = qm_runner_open(rules, wrong, flaky, &calls, &error);
  ok = ok && runner == NULL && error != NULL && strstr(error, "speed=fast") != NULL;
  qm_free_string(error);
  runner = qm_runner_open(rules, options, flaky, &calls, NULL);
  if (runner == NULL) return 0;
  ok = ok && qm_runner_feed(runner, "{\"type\":\"visit\",\"customer\":\"a\",\"ts\":1}", (size_t)-1) == QM_FAILED;
  ok = ok && strstr(qm_runner_last_error(runner), "taken back") != NULL;
  ok = ok && qm_runner_feed(runner, "{\"type\":\"visit\",\"customer\":\"a\",\"ts\":1}", (size_t)-1) == QM_ACCEPTED;
  ok = ok && qm_runner_feed(runner, "[1]", (size_t)-1) == QM_FAILED; /* its reject line: a failed delivery */
  ok = ok && qm_runner_feed(runner, "[1]", (size_t)-1) == QM_REJECTED;
  ok = ok && strcmp(qm_runner_last_reason(runner), "not_object") == 0;
  ok = ok && qm_runner_feed(runner, "  ", (size_t)-1) == QM_BLANK;
  ok = ok && qm_runner_reload(runner, more) == 1;
  ok = ok && qm_runner_commit(runner) == 0 && strstr(qm_runner_last_error(runner), "Commit") != NULL;
  ok = ok && qm_runner_committed_position(runner) == NULL;
  ok = ok && qm_runner_forget(runner, "a") == 1 && qm_runner_forget(runner, "a") == 0;
  qm_runner_free(runner);
  qm_ruleset_free(rules);
  qm_ruleset_free(more);
  return ok;
}

int main(void) {
  const char* rules_text = "event visit\nwhen visit then push hello\n";
  qm_ruleset* rules = qm_ruleset_from_text("c.qm", rules_text, (size_t)-1, NULL);
  int lines = 0;
  char* error = NULL;
  qm_runner* runner;
  if (!qm_ruleset_ok(rules)) return 1;
  runner = qm_runner_new(rules, "interp", NULL, count_line, count_line, &lines, &error);
  if (runner == NULL) return 1;
  if (qm_version() == NULL || strlen(qm_version()) == 0) return 1;
  qm_runner_feed(runner, "{\"type\":\"visit\",\"customer\":\"a\",\"ts\":1}", (size_t)-1);
  qm_runner_feed(runner, "{\"type\":\"visit\",\"customer\":\"b\",\"ts\":2}", (size_t)-1);
  qm_runner_free(runner);
  qm_ruleset_free(rules);
  if (!batches()) lines = -1;
  printf("%s\n", lines == 2 ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return lines == 2 ? 0 : 1;
}
