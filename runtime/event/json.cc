// A strict JSON reader for one event line (A38 check 1).
#include "runtime/event/internal/json.h"

#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "compiler/source/source.h"

namespace qm::event_internal {

bool JsonReader::ReadTop(bool& is_object, std::vector<Member>& members, size_t& count) {
  SkipWs();
  if (Peek() == '{') {
    is_object = true;
    if (!ReadObjectMembers(members, count)) return false;
  } else {
    is_object = false;
    JsonKind kind;
    if (!ReadValue(kind, {})) return false;
  }
  SkipWs();
  return i_ == s_.size();
}

bool JsonReader::ReadObjectMembers(std::vector<Member>& members, size_t& count) {
  ++i_;  // {
  SkipWs();
  if (Peek() == '}') { ++i_; return true; }
  for (;;) {
    SkipWs();
    if (count == members.size()) members.emplace_back();
    Member& m = members[count];
    m.text_view = m.raw = {};
    m.text_escaped = false;
    if (Peek() != '"' || !ReadString({&m.key_view, &m.key_buf, &m.key_escaped})) return false;
    SkipWs();
    if (Peek() != ':') return false;
    ++i_;
    SkipWs();
    size_t start = i_;
    if (!ReadValue(m.kind, {&m.text_view, &m.text_buf, &m.text_escaped})) return false;
    if (m.kind == JsonKind::kNumber) m.raw = s_.substr(start, i_ - start);
    ++count;
    SkipWs();
    if (Peek() == ',') { ++i_; continue; }
    if (Peek() == '}') { ++i_; return true; }
    return false;
  }
}

bool JsonReader::ReadValue(JsonKind& kind, StringOut text) {
  char c = Peek();
  if (c == '"') { kind = JsonKind::kString; return ReadString(text); }
  if (c == '-' || (c >= '0' && c <= '9')) { kind = JsonKind::kNumber; return ReadNumber(); }
  if (s_.substr(i_, 4) == "true") { kind = JsonKind::kTrue; i_ += 4; return true; }
  if (s_.substr(i_, 5) == "false") { kind = JsonKind::kFalse; i_ += 5; return true; }
  if (s_.substr(i_, 4) == "null") { kind = JsonKind::kNull; i_ += 4; return true; }
  if (c == '{' || c == '[') {
    kind = c == '{' ? JsonKind::kObject : JsonKind::kArray;
    return SkipContainer();
  }
  return false;
}

bool JsonReader::SkipContainer() {
  std::vector<char> stack;  // expected closers
  // States: after an opener or a comma we need a value (or a key in objects).
  stack.push_back(s_[i_] == '{' ? '}' : ']');
  bool want_key = s_[i_] == '{';
  ++i_;
  SkipWs();
  if (Peek() == stack.back()) { ++i_; return true; }
  for (;;) {
    SkipWs();
    if (want_key) {
      if (Peek() != '"' || !ReadString({})) return false;
      SkipWs();
      if (Peek() != ':') return false;
      ++i_;
      SkipWs();
    }
    char c = Peek();
    if (c == '{' || c == '[') {
      stack.push_back(c == '{' ? '}' : ']');
      want_key = c == '{';
      ++i_;
      SkipWs();
      if (Peek() == stack.back()) {
        ++i_;
        stack.pop_back();
      } else {
        continue;
      }
    } else {
      JsonKind k;
      if (!ReadValue(k, {})) return false;
    }
    // After a value: `,` or the closer, possibly several closers.
    for (;;) {
      SkipWs();
      if (Peek() == ',') {
        ++i_;
        want_key = stack.back() == '}';
        break;
      }
      if (Peek() != stack.back()) return false;
      ++i_;
      stack.pop_back();
      if (stack.empty()) return true;
    }
  }
}

int JsonReader::Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool JsonReader::ReadHex4(uint32_t& v) {
  if (i_ + 4 > s_.size()) return false;
  v = 0;
  for (int k = 0; k < 4; ++k) {
    int h = Hex(s_[i_ + k]);
    if (h < 0) return false;
    v = v * 16 + static_cast<uint32_t>(h);
  }
  i_ += 4;
  return true;
}

namespace {

constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;

// The high bit of each byte of `x` that is zero (exact for the first one).
uint64_t ZeroBytes(uint64_t x) { return (x - kOnes) & ~x & kHighs; }

// The length of the run of `s` from `i` that a JSON string copies as it is:
// up to a quote, a backslash or a control character. Sixteen bytes at a time
// where SSE2 is (every x86-64), else eight; the bytes after that one by one.
[[gnu::always_inline]] inline size_t PlainRun(std::string_view s, size_t i, bool& high) {
  size_t start = i;
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), below_space = _mm_set1_epi8(0x1F);
  for (; i + 16 <= s.size(); i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, below_space), below_space);  // x <= 0x1F, unsigned
    __m128i stops = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), control);
    unsigned stop = static_cast<unsigned>(_mm_movemask_epi8(stops));
    unsigned highs = static_cast<unsigned>(_mm_movemask_epi8(x));  // bytes with the high bit set
    if (stop != 0) {
      unsigned at = static_cast<unsigned>(__builtin_ctz(stop));
      high |= (highs & ((1u << at) - 1)) != 0;  // only before the stop: a key is not checked for its value
      return i + at - start;
    }
    high |= highs != 0;
  }
#endif
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    uint64_t stop = ZeroBytes(x ^ (kOnes * '"')) | ZeroBytes(x ^ (kOnes * '\\')) | ((x - kOnes * 0x20) & ~x & kHighs);
    high |= (x & kHighs) != 0;
    if (stop != 0) {
      return i + static_cast<size_t>(__builtin_ctzll(stop)) / 8 - start;
    }
  }
  for (; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\' || c < 0x20) break;
    high |= c >= 0x80;
  }
  return i - start;
}

}  // namespace

bool JsonReader::ReadString(StringOut out) {
  ++i_;  // opening quote
  const size_t start = i_;
  bool high = false;  // a byte that is not ASCII: the string must be checked as UTF-8
  i_ += PlainRun(s_, i_, high);
  if (i_ >= s_.size() || s_[i_] != '"') [[unlikely]]
    return ReadEscaped(out, start, high);
  std::string_view raw = s_.substr(start, i_ - start);
  ++i_;  // closing quote
  if (high && utf8::FirstInvalid(raw) >= 0) return false;
  if (out.view != nullptr) {
    *out.escaped = false;
    *out.view = raw;
  }
  return true;
}

bool JsonReader::ReadEscaped(StringOut out, size_t start, bool high) {
  if (out.buf != nullptr) out.buf->assign(s_.substr(start, i_ - start));
  for (;;) {
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') break;
    if (c != '\\') return false;  // a control character
    ++i_;
    if (i_ >= s_.size()) return false;
    char e = s_[i_++];
    char plain = 0;
    switch (e) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!ReadHex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low;
          if (s_.substr(i_, 2) != "\\u") return false;  // lone high surrogate
          i_ += 2;
          if (!ReadHex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (out.buf != nullptr) utf8::Append(*out.buf, cp);
        break;
      }
      default: return false;
    }
    if (out.buf != nullptr && e != 'u') out.buf->push_back(plain);
    size_t run = i_;
    i_ += PlainRun(s_, i_, high);
    if (out.buf != nullptr) out.buf->append(s_.substr(run, i_ - run));
  }
  std::string_view raw = s_.substr(start, i_ - start);
  ++i_;  // closing quote
  if (high && utf8::FirstInvalid(raw) >= 0) return false;
  if (out.view != nullptr) *out.escaped = true;
  return true;
}

bool JsonReader::ReadNumber() {
  auto digit = [&]() { return i_ < s_.size() && static_cast<unsigned char>(s_[i_] - '0') <= 9; };
  if (Peek() == '-') ++i_;
  if (Peek() == '0') {
    ++i_;
  } else if (digit()) {
    while (digit()) ++i_;
  } else {
    return false;
  }
  if (Peek() == '.') {
    ++i_;
    if (!digit()) return false;
    while (digit()) ++i_;
  }
  if (Peek() == 'e' || Peek() == 'E') {
    ++i_;
    if (Peek() == '+' || Peek() == '-') ++i_;
    if (!digit()) return false;
    while (digit()) ++i_;
  }
  return true;
}

}  // namespace qm::event_internal
