// libFuzzer target: `qm lsp` as a client drives it. Each input line is one
// message body, framed with its Content-Length and sent after an
// `initialize`; bodies may be any bytes, any JSON, any method with any
// parameters. The property: no crash, no hang, no sanitizer report, and the
// server ends at the end of its input with exit code 0 or 1. Document URIs
// name files in a scratch directory (holding rules.qm and events.jsonl) or
// anywhere: the server only reads.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/commands.h"
#include "tests/fuzz/fuzz_rules.h"

namespace fs = std::filesystem;

namespace {

fs::path scratch;

std::string Frame(const std::string& body) {
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  scratch = fs::temp_directory_path() / ("qm_fuzz_lsp_wire_" + std::to_string(getpid()));
  fs::create_directories(scratch);
  std::ofstream(scratch / "rules.qm") << qm::fuzz::kRules;
  std::ofstream(scratch / "events.jsonl")
      << R"({"type":"e","customer":"c1","ts":"2024-03-01T10:00:00Z","i":1,"m":150,"n":2.5,"t":"x","g":"S"})" "\n";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string wire = Frame(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"rootUri":"file://)" +
                           scratch.string() + R"("}})");
  for (size_t start = 0; start < input.size();) {
    size_t nl = input.find('\n', start);
    if (nl == std::string::npos) nl = input.size();
    wire += Frame(input.substr(start, nl - start));
    start = nl + 1;
  }
  // The messages as standard input: a file, so that any size fits.
  fs::path in = scratch / "wire";
  std::ofstream(in, std::ios::binary | std::ios::trunc) << wire;
  int saved = dup(0);
  int fd = open(in.c_str(), O_RDONLY);
  dup2(fd, 0);
  close(fd);
  int code = qm::cli::LspCommand({}, qianmian::Language::kEnglish);
  std::fflush(stdout);
  dup2(saved, 0);
  close(saved);
  if (code != 0 && code != 1) std::abort();
  return 0;
}
