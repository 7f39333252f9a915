#include "runtime/event/decode.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <cstdlib>
#include <limits>

#include "compiler/source/source.h"

namespace qm::event {
namespace {

// ------------------------------------------------------------------ JSON
// A strict JSON reader for one line: it validates everything (nested values
// included, A38 check 1) and keeps the top-level members.

enum class JsonKind : uint8_t { kString, kNumber, kTrue, kFalse, kNull, kObject, kArray };

struct Member {
  std::string key;
  JsonKind kind;
  std::string_view raw;  // number text
  std::string text;      // decoded string
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  // Returns false on any syntax error. `is_object` tells whether the top
  // value was an object; its members are members[0..count), in order. The
  // Member objects are reused from line to line, keeping their capacity.
  bool ReadTop(bool& is_object, std::vector<Member>& members, size_t& count) {
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

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void SkipWs() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  bool ReadObjectMembers(std::vector<Member>& members, size_t& count) {
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

  // Reads any value; nested containers are validated without recursion.
  bool ReadValue(JsonKind& kind, std::string* text) {
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

  bool SkipContainer() {
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

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ReadHex4(uint32_t& v) {
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

  bool ReadString(std::string* out) {
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

  bool ReadNumber() {
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

  std::string_view s_;
  size_t i_ = 0;
};

// ------------------------------------------------------- exact numbers
// A JSON number as sign, significant digits and a power of ten.
struct ExactNumber {
  bool negative = false;
  std::string digits;  // no leading zeros; empty means zero
  int64_t exp10 = 0;
};

std::optional<ExactNumber> ParseExact(std::string_view t) {
  ExactNumber n;
  size_t i = 0;
  if (i < t.size() && t[i] == '-') { n.negative = true; ++i; }
  // The JSON number grammar, strictly: --until and money strings come here too.
  auto digit = [&]() { return i < t.size() && t[i] >= '0' && t[i] <= '9'; };
  std::string all;
  int64_t frac = 0;
  if (!digit()) return std::nullopt;
  while (digit()) all += t[i++];
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digit()) return std::nullopt;
    while (digit()) { all += t[i++]; ++frac; }
  }
  int64_t exp = 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
    if (!digit()) return std::nullopt;
    for (; digit(); ++i) {
      if (exp > 100'000'000'000'000'000LL) return std::nullopt;  // A37: beyond ±10^18
      exp = exp * 10 + (t[i] - '0');
    }
    if (neg) exp = -exp;
  }
  if (i != t.size()) return std::nullopt;
  size_t first = all.find_first_not_of('0');
  n.digits = first == std::string::npos ? "" : all.substr(first);
  n.exp10 = exp - frac;
  // Trailing zeros move into the exponent.
  while (!n.digits.empty() && n.digits.back() == '0') {
    n.digits.pop_back();
    ++n.exp10;
  }
  return n;
}

// value * 10^scale, floored when `floor` is set, else only when integral.
std::optional<int64_t> Scaled(const ExactNumber& n, int scale, bool floor) {
  if (n.digits.empty()) return 0;
  int64_t e = n.exp10 + scale;
  std::string digits = n.digits;
  bool dropped_nonzero = false;
  if (e < 0) {
    if (static_cast<int64_t>(digits.size()) <= -e) {
      digits.clear();
      dropped_nonzero = true;
    } else {
      digits.resize(digits.size() + e);
      dropped_nonzero = true;  // digits has no trailing zeros, so something non-zero was cut
    }
    if (!floor) return std::nullopt;
    e = 0;
  }
  if (static_cast<int64_t>(digits.size()) + e > 19) return std::nullopt;
  __int128 v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  for (int64_t k = 0; k < e; ++k) v *= 10;
  if (n.negative) {
    v = -v;
    if (dropped_nonzero) v -= 1;
  }
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) return std::nullopt;
  return static_cast<int64_t>(v);
}

const int64_t kMinTime = *ParseRfc3339("0001-01-02T00:00:00Z");
const int64_t kMaxTime = *ParseRfc3339("9999-12-30T23:59:59.999Z");

std::optional<int64_t> TimeOf(const Member& m) {
  if (m.kind == JsonKind::kString) return ParseRfc3339(m.text);
  if (m.kind == JsonKind::kNumber) return EpochMillisFromNumber(m.raw);
  return std::nullopt;
}

// B7: `-?[0-9]+(\.[0-9]+)?`, ASCII digits only.
bool IsMoneyText(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == start) return false;
  if (i < s.size() && s[i] == '.') {
    size_t frac = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == frac) return false;
  }
  return i == s.size();
}

std::optional<int64_t> DurationOf(const Member& m) {
  if (m.kind == JsonKind::kNumber) {  // A37: a non-negative integer number of seconds
    std::optional<ExactNumber> n = ParseExact(m.raw);
    if (!n || n->negative) return std::nullopt;
    std::optional<int64_t> seconds = Scaled(*n, 0, false);
    int64_t ms;
    if (!seconds || __builtin_mul_overflow(*seconds, 1000, &ms)) return std::nullopt;
    return ms;
  }
  if (m.kind != JsonKind::kString || m.text.size() < 2) return std::nullopt;
  std::string_view s = m.text;
  char unit = s.back();
  int64_t unit_ms = unit == 'd' ? 86'400'000 : unit == 'h' ? 3'600'000 : unit == 'm' ? 60'000 : unit == 's' ? 1000 : 0;
  if (unit_ms == 0) return std::nullopt;
  int64_t v = 0;
  for (char c : s.substr(0, s.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > 1'000'000'000) return std::nullopt;
  }
  return v * unit_ms;
}

}  // namespace

std::optional<int64_t> EpochMillisFromNumber(std::string_view number_text) {
  std::optional<ExactNumber> n = ParseExact(number_text);
  if (!n) return std::nullopt;
  std::optional<int64_t> ms = Scaled(*n, 3, /*floor=*/true);
  if (!ms || *ms < kMinTime || *ms > kMaxTime) return std::nullopt;
  return ms;
}

std::optional<int64_t> ScaledFromNumber(std::string_view number_text, int scale) {
  std::optional<ExactNumber> n = ParseExact(number_text);
  if (!n) return std::nullopt;
  return Scaled(*n, scale, false);
}

Decoder::Decoder(const ir::Program& program) : program_(program) {
  const auto& events = program.checked.events;
  for (size_t e = 0; e < events.size(); ++e) event_ids_.emplace(events[e].name, static_cast<int32_t>(e));
  for (const check::EnumInfo& info : program.checked.enums) {
    auto& names = members_.emplace_back();
    for (size_t k = 0; k < info.members.size(); ++k) names.emplace(info.members[k], static_cast<int64_t>(k));
  }
}

bool Decoder::Decode(std::string_view line, Event& event, Reject& reject) {
  reject.field.clear();
  reject.customer = {};
  auto fail = [&](std::string_view reason, std::string field = {}) {
    reject.reason = reason;
    reject.field = std::move(field);
    return false;
  };
  if (utf8::FirstInvalid(line) >= 0) return fail("invalid_json");
  static thread_local std::vector<Member> pool;
  size_t count = 0;
  bool is_object = false;
  if (!JsonReader(line).ReadTop(is_object, pool, count)) return fail("invalid_json");
  std::span<const Member> members(pool.data(), count);
  if (!is_object) return fail("not_object");
  // A38 check 3 names the first key that appears a second time. Typical
  // lines have a handful of keys, where pairwise comparison is cheapest; past
  // kPairwiseKeys the keys are sorted by (key, position), so a line with
  // 100,000 keys costs O(n log n), not O(n²).
  constexpr size_t kPairwiseKeys = 16;
  const bool sorted = count > kPairwiseKeys;
  size_t duplicate = count;
  if (!sorted) {
    for (size_t i = 1; i < count && duplicate == count; ++i)
      for (size_t j = 0; j < i; ++j)
        if (members[i].key == members[j].key) {
          duplicate = i;
          break;
        }
  } else {
    order_.resize(count);
    for (uint32_t i = 0; i < count; ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      int c = members[a].key.compare(members[b].key);
      return c != 0 ? c < 0 : a < b;
    });
    // The smallest position that is not the first of its key.
    for (size_t k = 1; k < count; ++k)
      if (members[order_[k]].key == members[order_[k - 1]].key) duplicate = std::min<size_t>(duplicate, order_[k]);
  }
  if (duplicate < count) return fail("duplicate_field", members[duplicate].key);
  auto find = [&](std::string_view key) -> const Member* {
    if (!sorted) {
      for (const Member& m : members)
        if (m.key == key) return &m;
      return nullptr;
    }
    auto it = std::lower_bound(order_.begin(), order_.end(), key,
                               [&](uint32_t m, std::string_view k) { return members[m].key < k; });
    return it != order_.end() && members[*it].key == key ? &members[*it] : nullptr;
  };
  const Member* type = find("type");
  const Member* customer = find("customer");
  const Member* ts = find("ts");
  for (auto [m, name] : {std::pair{type, "type"}, {customer, "customer"}, {ts, "ts"}}) {
    if (m == nullptr || m->kind == JsonKind::kNull) return fail("missing_field", name);
  }
  if (type->kind != JsonKind::kString) return fail("wrong_type", "type");
  auto it = event_ids_.find(type->text);
  if (it == event_ids_.end()) return fail("unknown_type", "type");
  if (customer->kind != JsonKind::kString || customer->text.empty()) return fail("wrong_type", "customer");
  reject.customer = customer->text;  // D8: later rejects name the customer
  std::optional<int64_t> when = TimeOf(*ts);
  if (!when) return fail("wrong_type", "ts");

  const check::EventInfo& info = program_.checked.events[it->second];
  event.type = it->second;
  event.customer = customer->text;
  event.ts = *when;
  event.fields.assign(info.fields.size(), Value{});
  event.texts.assign(info.fields.size(), std::string());
  for (size_t f = 0; f < info.fields.size(); ++f) {
    const Member* m = find(info.fields[f].name);
    if (m == nullptr || m->kind == JsonKind::kNull) continue;  // unset
    const check::Type& t = info.fields[f].type;
    Value& out = event.fields[f];
    bool ok = false;
    switch (t.kind) {
      case check::TypeKind::kInt:
        if (m->kind == JsonKind::kNumber) {
          if (auto v = ScaledFromNumber(m->raw, 0)) { out = Value::Int(*v); ok = true; }
        }
        break;
      case check::TypeKind::kMoney: {
        std::optional<int64_t> cents;
        if (m->kind == JsonKind::kNumber) cents = ScaledFromNumber(m->raw, 2);
        if (m->kind == JsonKind::kString && IsMoneyText(m->text)) cents = ScaledFromNumber(m->text, 2);
        if (cents) { out = Value::Money(*cents); ok = true; }
        break;
      }
      case check::TypeKind::kNumber:
        if (m->kind == JsonKind::kNumber && ParseExact(m->raw)) {
          double d = std::strtod(std::string(m->raw).c_str(), nullptr);
          if (std::isfinite(d)) { out = Value::Number(d); ok = true; }
        }
        break;
      case check::TypeKind::kBool:
        if (m->kind == JsonKind::kTrue || m->kind == JsonKind::kFalse) {
          out = Value::Bool(m->kind == JsonKind::kTrue);
          ok = true;
        }
        break;
      case check::TypeKind::kText:
        if (m->kind == JsonKind::kString) {
          event.texts[f] = m->text;
          out = Value::Text(event.texts[f]);
          ok = true;
        }
        break;
      case check::TypeKind::kEnum:
        if (m->kind == JsonKind::kString) {
          const auto& names = members_[t.enum_id];
          auto it = names.find(m->text);
          if (it == names.end()) return fail("unknown_member", info.fields[f].name);  // D8, E10
          out = Value::Enum(it->second);
          ok = true;
        }
        break;
      case check::TypeKind::kTime:
        if (auto v = TimeOf(*m)) { out = Value::Time(*v); ok = true; }
        break;
      case check::TypeKind::kDuration:
        if (auto v = DurationOf(*m)) { out = Value::Duration(*v); ok = true; }
        break;
      default: break;
    }
    if (!ok) return fail("wrong_type", info.fields[f].name);
  }
  return true;
}

}  // namespace qm::event
