// libFuzzer target: any bytes as an open document of the editor API that
// `qm lsp` serves (qianmian::Workspace), asked everything an editor asks at
// positions all over it. Beyond "no crash, no hang, no sanitizer report":
// every range returned lies inside the file, and a rename's edits each
// replace exactly the name being renamed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "qianmian/qianmian.hpp"

namespace {

const char* kPath = "/nonexistent-qm-fuzz/fuzz.qm";

std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (;;) {
    size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return lines;
    start = nl + 1;
  }
}

// The text of a range of `lines` (columns in code points), or nullopt when it does not lie inside.
std::optional<std::string> TextAt(const std::vector<std::string>& lines, const qianmian::Range& r) {
  auto offset = [&](const std::string& line, int column) -> std::optional<size_t> {
    size_t i = 0;
    for (int c = 1; c < column; ++c) {
      if (i >= line.size()) return std::nullopt;
      ++i;
      while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
    }
    return i;
  };
  if (r.begin.line < 1 || r.end.line != r.begin.line || r.begin.line > static_cast<int>(lines.size())) return std::nullopt;
  const std::string& line = lines[r.begin.line - 1];
  std::optional<size_t> b = offset(line, r.begin.column), e = offset(line, r.end.column);
  if (!b || !e || *e < *b) return std::nullopt;
  return line.substr(*b, *e - *b);
}

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_lsp: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  qianmian::Workspace workspace(size % 2 ? qianmian::Language::kChinese : qianmian::Language::kEnglish);
  workspace.Open(kPath, text);
  qianmian::Analysis analysis = workspace.Check(kPath);
  std::vector<std::string> lines = LinesOf(text);
  auto inside = [&](const qianmian::Range& r, const char* what) {
    if (r.file == kPath && !TextAt(lines, r)) Fail(what, std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column));
  };
  for (const qianmian::SymbolInfo& s : analysis.Symbols(kPath)) inside(s.range, "a symbol outside the file");
  // Thirty-two places spread over the file, each asked everything an editor
  // asks; completion re-reads the file, so it is asked at every fourth.
  int n = static_cast<int>(lines.size()) + 1;
  for (int i = 0; i < 32; ++i) {
    static const int kColumns[] = {1, 2, 5, 9, 14, 20, 30, 1000};
    qianmian::Position at{1 + static_cast<int>(static_cast<int64_t>(i) * n / 32), kColumns[(i + size) % 8]};
    analysis.Hover(kPath, at);
    if (i % 4 == 0) analysis.Complete(kPath, at);
    for (const qianmian::Range& r : analysis.Definition(kPath, at)) inside(r, "a definition outside the file");
    for (const qianmian::Range& r : analysis.References(kPath, at, true)) inside(r, "a reference outside the file");
    std::vector<qianmian::TextEdit> edits;
    if (!analysis.Rename(kPath, at, "新名字", edits).empty()) continue;
    std::optional<std::string> first;
    for (const qianmian::TextEdit& e : edits) {
      std::optional<std::string> old = TextAt(lines, e.range);
      if (!old) Fail("a rename edit outside the file", e.range.file);
      if (!first) first = old;
      if (*old != *first) Fail("a rename replaces different texts", *first + " / " + *old);
    }
  }
  return 0;
}
