// libFuzzer target: the `qm run` command line. Each input is up to 16
// arguments, one per line, run twice as `qm run ARGS` (a second run
// continues any state directory the first made) in a scratch directory that
// holds rules.qm and events.jsonl. The property: no crash, no hang, no
// sanitizer report, and an exit code of 0, 1 or 2. Arguments that could name a file
// outside the scratch directory (`/`, `..`) are skipped, so the fuzzer never
// writes elsewhere.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "tests/fuzz/fuzz_rules.h"

namespace fs = std::filesystem;

namespace {

void WriteInputs(const fs::path& scratch) {
  std::ofstream(scratch / "rules.qm") << qm::fuzz::kRules;
  std::ofstream(scratch / "events.jsonl")
      << R"({"type":"e","customer":"c1","ts":"2024-03-01T10:00:00Z","i":1,"m":150,"n":2.5,"t":"x","g":"S"})" "\n"
      << R"({"type":"e","customer":"c1","ts":"2024-03-01T10:30:00Z","m":"99.99"})" "\n"
      << "not json\n"
      << R"({"type":"e","customer":"c2","ts":"2024-03-02T00:00:00Z","m":300})";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fs::path scratch = fs::temp_directory_path() / ("qm_fuzz_run_" + std::to_string(getpid()));
  fs::create_directories(scratch);
  fs::current_path(scratch);
  int null = open("/dev/null", O_RDWR);  // `--events -` reads nothing and never blocks
  dup2(null, 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  for (size_t start = 0; start <= input.size() && args.size() < 16;) {
    size_t nl = input.find('\n', start);
    if (nl == std::string::npos) nl = input.size();
    args.push_back(input.substr(start, nl - start));
    start = nl + 1;
  }
  for (const std::string& a : args)
    if (a.find('/') != std::string::npos || a.find("..") != std::string::npos || a.find('\0') != std::string::npos)
      return 0;
  // Each input starts from the two inputs alone.
  for (const auto& entry : fs::directory_iterator(fs::current_path())) fs::remove_all(entry.path());
  WriteInputs(fs::current_path());
  for (int run = 0; run < 2; ++run) {
    int code = qm::cli::RunCommand(args, qianmian::Language::kEnglish);
    if (code < 0 || code > 2) std::abort();
  }
  return 0;
}
