// A strict JSON reader for one event line (A38 check 1).
#include "runtime/event/internal/json.h"

#include "compiler/source/json_text.h"
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
  // On a copy that never leaves this function (what is not inlined is given
  // the cursor by value), so its cursor stays in a register: this reader's
  // may be the target of any store through the members' views.
  JsonReader r = *this;
  const bool ok = r.ReadMembers(members, count);
  i_ = r.i_;
  return ok;
}

bool JsonReader::ReadMembers(std::vector<Member>& members, size_t& count) {
  ++i_;  // {
  if (Skip('}')) return true;
  for (;;) {
    SkipWs();
    if (count == members.size()) members.emplace_back();
    Member& m = members[count];
    if (Peek() != '"' || !ReadString({&m.key_view, &m.key_buf, &m.key_escaped})) return false;
    if (!Skip(':')) return false;
    SkipWs();
    const size_t start = i_;
    m.text_escaped = false;
    if (!ReadValue(m.kind, {&m.text_view, &m.text_buf, &m.text_escaped})) return false;
    if (m.kind == JsonKind::kNumber) m.raw = s_.substr(start, i_ - start);
    ++count;
    if (Skip(',')) continue;
    return Skip('}');
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
    i_ = SkipContainer(s_, i_);
    return i_ != kFailed;
  }
  return false;
}

size_t JsonReader::SkipContainer(std::string_view s, size_t i) {
  JsonReader r(s);
  r.i_ = i;
  return r.SkipContainer() ? r.i_ : kFailed;
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

bool JsonReader::ReadString(StringOut out) {
  ++i_;  // opening quote
  const size_t start = i_;
  bool high = false;  // a byte that is not ASCII: the string must be checked as UTF-8
  i_ += json::PlainRun(s_, i_, high);
  if (i_ >= s_.size() || s_[i_] != '"') [[unlikely]]
  {
    i_ = ReadEscaped(s_, i_, out, start, high);
    return i_ != kFailed;
  }
  std::string_view raw = s_.substr(start, i_ - start);
  ++i_;  // closing quote
  if (high && utf8::FirstInvalid(raw) >= 0) return false;
  if (out.view != nullptr) {
    *out.escaped = false;
    *out.view = raw;
  }
  return true;
}

size_t JsonReader::ReadEscaped(std::string_view s, size_t i, StringOut out, size_t start, bool high) {
  JsonReader r(s);
  r.i_ = i;
  return r.ReadEscaped(out, start, high) ? r.i_ : kFailed;
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
    i_ += json::PlainRun(s_, i_, high);
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
