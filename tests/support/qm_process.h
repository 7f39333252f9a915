// Running the `qm` binary from tests: a child process with a chosen standard input, limits, a command to run it
// under (strace) and an optional SIGKILL deadline.
#ifndef QM_TESTS_SUPPORT_QM_PROCESS_H_
#define QM_TESTS_SUPPORT_QM_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/files.h"

namespace qm::testing_internal {

struct Exit {
  bool killed = false;  // ended by a signal (SIGKILL from the deadline, or a crash)
  int signal = 0;
  int code = -1;
  std::string err;
};

struct RunOptions {
  std::optional<std::chrono::microseconds> kill_after;  // SIGKILL unless finished by then
  std::string out_path = "/dev/null";                   // standard output
  std::optional<std::string> in_path;                   // standard input; unset: inherited
  bool close_stdin = false;
  std::vector<std::string> prefix;                      // e.g. {"strace", "-o", "/dev/null", ...}
  std::function<void()> in_child;                       // runs in the child before exec (setrlimit)
  std::string binary = QM_BINARY;                       // or another program (the example host)
};

// Runs `qm ARGS` (or `o.binary ARGS`); standard error is returned in Exit::err.
inline Exit RunQm(const std::vector<std::string>& args, const RunOptions& o = {}) {
  char err_path[] = "/tmp/qm_test_errXXXXXX";
  int err_fd = mkstemp(err_path);
  pid_t pid = fork();
  if (pid == 0) {
    int out_fd = open(o.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (o.in_path) dup2(open(o.in_path->c_str(), O_RDONLY), 0);
    if (o.close_stdin) close(0);
    if (o.in_child) o.in_child();
    std::vector<std::string> all = o.prefix;
    all.push_back(o.binary);
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (o.kill_after) {
    auto deadline = std::chrono::steady_clock::now() + *o.kill_after;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      usleep(200);
    }
  } else {
    waitpid(pid, &status, 0);
  }
  Exit e;
  e.killed = WIFSIGNALED(status);
  e.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  e.err = Read(err_path);
  close(err_fd);
  unlink(err_path);
  return e;
}

}  // namespace qm::testing_internal

#endif  // QM_TESTS_SUPPORT_QM_PROCESS_H_
