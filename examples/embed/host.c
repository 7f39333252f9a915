/* A C host (docs/embedding.md): runs a rule file over events on standard
 * input and prints the actions, as `qm run` does. Built with
 *   cc host.c $(pkg-config --cflags --libs qianmian) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qianmian/qianmian.h>

static void print_line(void* user, const char* line, size_t length) {
  fwrite(line, 1, length, (FILE*)user);
  fputc('\n', (FILE*)user);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: host-c RULES.qm < EVENTS.jsonl\n");
    return 2;
  }
  const char* paths[] = {argv[1]};
  qm_ruleset* rules = qm_ruleset_from_files(paths, 1, "en");
  if (rules == NULL || !qm_ruleset_ok(rules)) {
    for (size_t i = 0; rules != NULL && i < qm_ruleset_diagnostic_count(rules); ++i)
      fprintf(stderr, "%s\n", qm_ruleset_diagnostic_json(rules, i));
    return 1;
  }
  char* error = NULL;
  qm_runner* runner = qm_runner_new(rules, "jit", "+08:00", print_line, print_line, stdout, &error);
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
    qm_runner_feed(runner, line, (size_t)length);
  }
  free(line);
  qm_runner_end_of_input(runner);
  qm_runner_free(runner);
  return 0;
}
