// A strict JSON reader for one event line (A38 check 1).
#include "runtime/event/internal/json.h"

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
    if (!ReadValue(kind, nullptr)) return false;
  }
  SkipWs();
  return i_ == s_.size();
}

void JsonReader::SkipWs() {
  while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
}

bool JsonReader::ReadObjectMembers(std::vector<Member>& members, size_t& count) {
  ++i_;  // {
  SkipWs();
  if (Peek() == '}') { ++i_; return true; }
  for (;;) {
    SkipWs();
    if (count == members.size()) members.emplace_back();
    Member& m = members[count];
    m.text.clear();
    m.raw = {};
    if (Peek() != '"' || !ReadString(&m.key)) return false;
    SkipWs();
    if (Peek() != ':') return false;
    ++i_;
    SkipWs();
    size_t start = i_;
    if (!ReadValue(m.kind, &m.text)) return false;
    if (m.kind == JsonKind::kNumber) m.raw = s_.substr(start, i_ - start);
    ++count;
    SkipWs();
    if (Peek() == ',') { ++i_; continue; }
    if (Peek() == '}') { ++i_; return true; }
    return false;
  }
}

bool JsonReader::ReadValue(JsonKind& kind, std::string* text) {
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
      if (Peek() != '"' || !ReadString(nullptr)) return false;
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
      if (!ReadValue(k, nullptr)) return false;
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

bool JsonReader::ReadString(std::string* out) {
  ++i_;  // opening quote
  if (out) out->clear();
  for (;;) {
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') { ++i_; return true; }
    if (static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      size_t run = i_;
      while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' && static_cast<unsigned char>(s_[i_]) >= 0x20) ++i_;
      if (out) out->append(s_.substr(run, i_ - run));
      continue;
    }
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
        if (out) utf8::Append(*out, cp);
        continue;
      }
      default: return false;
    }
    if (out) out->push_back(plain);
  }
}

bool JsonReader::ReadNumber() {
  auto digit = [&]() { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; };
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
