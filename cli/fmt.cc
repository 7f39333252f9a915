// `qm fmt [-w|--check] FILE...`: rule files in their canonical layout
// (docs/tooling.md), through the public API's FormatFile.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/line_diff.h"

namespace qm::cli {
namespace {

// Replaces `path` by `text` in one step: a temporary beside it, renamed over
// it, so an interrupted write never leaves half a rule file.
std::string WriteInPlace(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  fs::path temp = fs::path(path).parent_path() / ("." + fs::path(path).filename().string() + ".qmfmt");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::string why = std::strerror(errno);
      std::error_code ignored;
      fs::remove(temp, ignored);
      return why;
    }
  }
  std::error_code ec;
  fs::permissions(temp, fs::status(path, ec).permissions(), ec);
  fs::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return ec.message();
  }
  return "";
}

}  // namespace

int FmtCommand(const std::vector<std::string>& args, qianmian::Language language) {
  language = LangOfArgs(args, language);
  Flags flags;
  if (auto usage = SplitFlags(args, {"--lang"}, {"-w", "--check"}, "fmt", flags)) return Usage(*usage, language);
  const Lang lang = LangOf(language);
  bool write = flags.switches.count("-w") > 0, check = flags.switches.count("--check") > 0;
  if (write && check) return Usage(Error::Of<ErrorKind::kFmtWriteOrCheck>(), language);
  if (flags.positional.empty()) return Usage(Error::Of<ErrorKind::kNeedsRuleFile>({"fmt"}), language);
  if (write)
    for (const std::string& f : flags.positional)
      if (f == "-") return Usage(Error::Of<ErrorKind::kFmtStdinWrite>(), language);

  int exit = kExitOk;
  for (const std::string& path : flags.positional) {
    std::string original, formatted;
    std::vector<qianmian::Diagnostic> diagnostics;
    bool ok;
    if (path == "-") {
      std::ostringstream in;
      in << std::cin.rdbuf();
      original = in.str();
      ok = qianmian::FormatText("<stdin>", original, formatted, diagnostics, language);
    } else {
      ok = qianmian::FormatFile(path, formatted, diagnostics, language);
      if (ok && (write || check)) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        original = text.str();
      }
    }
    if (!ok) {
      for (const qianmian::Diagnostic& d : diagnostics)
        if (d.error) std::fputs(d.rendered.c_str(), stderr);
      std::fprintf(stderr, "qm fmt: %s\n", Error::Of<ErrorKind::kFmtNotFormatted>({path}).Message(lang).c_str());
      exit = kExitErrors;
      continue;
    }
    if (check) {
      if (formatted != original) {
        std::printf("--- %s\n+++ %s (qm fmt)\n%s", path.c_str(), path.c_str(),
                    RenderDiff(DiffLines(SplitLines(original), SplitLines(formatted)), "", 2, 200).c_str());
        exit = kExitErrors;
      }
    } else if (write) {
      if (formatted == original) continue;
      if (std::string why = WriteInPlace(path, formatted); !why.empty()) {
        std::fprintf(stderr, "qm: %s\n", Error::Of<ErrorKind::kCannotWrite>({path, why}).Message(lang).c_str());
        exit = kExitErrors;
      }
    } else {
      std::fwrite(formatted.data(), 1, formatted.size(), stdout);
    }
  }
  return exit;
}

}  // namespace qm::cli
