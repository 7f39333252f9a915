/* A C host (docs/embedding.md): runs a rule file over events on standard
 * input, printing the actions on standard output and the rejects on
 * standard error, as `qm run` does. Built with
 *   cc host.c $(pkg-config --cflags --libs qianmian) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qianmian/qianmian.h>

/* One call's lines. A real host would hand them to a queue and return
 * nonzero when it cannot: the runner then takes the call back. */
static int deliver(void* user, const char* const* actions, const size_t* action_lengths, size_t action_count,
                   const char* const* rejects, const size_t* reject_lengths, size_t reject_count) {
  size_t i;
  (void)user;
  for (i = 0; i < action_count; ++i) {
    fwrite(actions[i], 1, action_lengths[i], stdout);
    fputc('\n', stdout);
  }
  for (i = 0; i < reject_count; ++i) {
    fwrite(rejects[i], 1, reject_lengths[i], stderr);
    fputc('\n', stderr);
  }
  return ferror(stdout) ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: host-c RULES.qm [lateness=2h] [until=TIME] < EVENTS.jsonl\n");
    return 2;
  }
  const char* paths[] = {argv[1]};
  qm_ruleset* rules = qm_ruleset_from_files(paths, 1, "en");
  if (rules == NULL || !qm_ruleset_ok(rules)) {
    for (size_t i = 0; rules != NULL && i < qm_ruleset_diagnostic_count(rules); ++i)
      fprintf(stderr, "%s\n", qm_ruleset_diagnostic_json(rules, i));
    return 1;
  }
  const char* options[3] = {"engine=jit", NULL, NULL};
  const char* until = NULL;
  for (int a = 2; a < argc; ++a) {
    if (strncmp(argv[a], "lateness=", 9) == 0) options[1] = argv[a];
    if (strncmp(argv[a], "until=", 6) == 0) until = argv[a] + 6;
  }
  char* error = NULL;
  qm_runner* runner = qm_runner_open(rules, options, deliver, NULL, &error);
  qm_ruleset_free(rules);
  if (runner == NULL) {
    fprintf(stderr, "host-c: %s\n", error);
    qm_free_string(error);
    return 1;
  }
  char* line = NULL;
  size_t capacity = 0;
  ssize_t length;
  while ((length = getline(&line, &capacity, stdin)) > 0) {
    if (line[length - 1] == '\n') --length;
    if (qm_runner_feed(runner, line, (size_t)length) == QM_FAILED) {
      fprintf(stderr, "host-c: %s\n", qm_runner_last_error(runner));
      return 1;
    }
  }
  free(line);
  int ok = qm_runner_end_of_input(runner) && (until == NULL || qm_runner_fire_until(runner, until));
  if (!ok) fprintf(stderr, "host-c: %s\n", qm_runner_last_error(runner));
  qm_runner_free(runner);
  return ok ? 0 : 1;
}
