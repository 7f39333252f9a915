#include "compiler/source/source.h"

#include <algorithm>
#include <cstring>

namespace qm {

Source::Source(std::string display_name, std::string text)
    : name_(std::move(display_name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(static_cast<int32_t>(i + 1));
  }
}

LineCol Source::Locate(int32_t offset) const {
  offset = std::clamp<int32_t>(offset, 0, static_cast<int32_t>(text_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  int32_t line = static_cast<int32_t>(it - line_starts_.begin());
  int32_t column = 1;
  for (int32_t i = line_starts_[line - 1]; i < offset; ++i) {
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return {line, column};
}

std::string_view Source::Line(int32_t line) const {
  if (line < 1 || line > line_count()) return {};
  size_t begin = line_starts_[line - 1];
  size_t end = line < line_count() ? line_starts_[line] - 1 : text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(begin, end - begin);
}

namespace {

template <class Hash>
Hash Fnv1a(std::string_view bytes, Hash basis, Hash prime) {
  for (unsigned char c : bytes) {
    basis ^= c;
    basis *= prime;
  }
  return basis;
}

}  // namespace

uint64_t StableHash(std::string_view bytes) { return Fnv1a<uint64_t>(bytes, 1469598103934665603ULL, 1099511628211ULL); }

uint32_t StableHash32(std::string_view bytes) { return Fnv1a<uint32_t>(bytes, 2166136261u, 16777619u); }

namespace utf8 {
namespace {

// Length of the valid sequence starting at s[i], or 0.
// Inlined: every CJK character of every event line comes through here.
[[gnu::always_inline]] inline int SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

int64_t FirstInvalid(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) {  // a sequence; often another follows (Chinese text)
      // Most Chinese characters are E1..EC or EE..EF and two continuation
      // bytes, which need no check beyond that: one word tells.
      if (i + 3 <= text.size()) {
        // Put together in registers: a 3-byte copy into a word on the stack
        // would be read back before the stores could forward to it.
        auto b = [&](size_t k) { return uint32_t{static_cast<unsigned char>(text[i + k])}; };
        const uint32_t lead = b(0), three = lead | b(1) << 8 | b(2) << 16;
        if ((three & 0xC0C0F0) == 0x8080E0 && lead != 0xE0 && lead != 0xED) {
          i += 3;
          continue;
        }
      }
      int n = SequenceLength(text, i);
      if (n == 0) return static_cast<int64_t>(i);
      i += n;
      continue;
    }
    // ASCII runs eight bytes at a time: most event lines are mostly ASCII.
    ++i;
    while (i + 8 <= text.size()) {
      uint64_t chunk;
      std::memcpy(&chunk, text.data() + i, 8);
      if (chunk & 0x8080808080808080ULL) break;
      i += 8;
    }
  }
  return -1;
}

std::string Sanitize(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    int n = SequenceLength(text, i);
    if (n == 0) {
      out += "\uFFFD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::u32string Decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    char32_t cp;
    int n;
    if (c < 0x80) { cp = c; n = 1; }
    else if (c < 0xE0) { cp = c & 0x1F; n = 2; }
    else if (c < 0xF0) { cp = c & 0x0F; n = 3; }
    else { cp = c & 0x07; n = 4; }
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

void Append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int DisplayWidth(char32_t cp) {
  // Combining marks and zero-width characters.
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0xFE00 && cp <= 0xFE0F)) {
    return 0;
  }
  // East Asian Wide (W) and Fullwidth (F) blocks.
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
      (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD)) {
    return 2;
  }
  return 1;
}

int DisplayWidth(std::string_view text) {
  int width = 0;
  for (char32_t cp : Decode(text)) width += cp == '\t' ? 1 : DisplayWidth(cp);
  return width;
}

int EditDistance(std::u32string_view a, std::u32string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace utf8
}  // namespace qm
