/* The C header compiles as C, and a C program can run rules with it. */
#include <stdio.h>
#include <string.h>

#include "qianmian/qianmian.h"

static void count_line(void* user, const char* line, size_t length) {
  (void)line;
  (void)length;
  ++*(int*)user;
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
  printf("%s\n", lines == 2 ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return lines == 2 ? 0 : 1;
}
