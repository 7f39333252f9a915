#include "runtime/event/decode.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "compiler/source/source.h"
#include "runtime/event/internal/json.h"

namespace qm::event {
namespace {

using event_internal::JsonKind;
using event_internal::JsonReader;
using event_internal::Member;

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
  if (m.kind == JsonKind::kString) return ParseRfc3339(m.text());
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
  if (m.kind != JsonKind::kString) return std::nullopt;
  return ParseDuration(m.text());  // E3: the literal grammar, compound parts included
}

// value * 10^scale for the common shape, without allocating: -?D+(.D+)? with
// at most 18 digits and no more fraction digits than `scale` (exact, so
// flooring changes nothing). False when `t` is not that shape: the general
// path decides.
bool ScaledPlain(std::string_view t, int scale, int64_t& out) {
  const size_t n = t.size();
  const bool negative = n > 0 && t[0] == '-';
  size_t i = negative ? 1 : 0;
  uint64_t v = 0;  // wraps past 19 digits, which are refused below
  auto digits = [&] {
    const size_t from = i;
    // Eight digits at a time (an epoch in seconds has ten): three multiplies
    // instead of a chain of eight.
    for (uint64_t x; i + 8 <= n; i += 8) {
      std::memcpy(&x, t.data() + i, 8);
      if ((x & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL ||
          ((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL)
        break;  // not eight digits
      x -= 0x3030303030303030ULL;
      x = x * 10 + (x >> 8);  // pairs: byte 2k holds digits 2k and 2k+1 as a number
      x = ((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)) +
           ((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32))) >> 32;
      v = v * 100'000'000 + x;
    }
    for (unsigned d; i < n && (d = static_cast<unsigned char>(t[i]) - '0') <= 9; ++i) v = v * 10 + d;
    return i - from;
  };
  const size_t whole = digits();
  size_t fraction = 0;
  if (whole > 0 && i < n && t[i] == '.') {
    ++i;
    if ((fraction = digits()) == 0) return false;
  }
  if (whole == 0 || i != n || whole + fraction > 18 || fraction > static_cast<size_t>(scale)) return false;
  auto scaled = static_cast<int64_t>(v);
  for (size_t k = fraction; k < static_cast<size_t>(scale); ++k)
    if (__builtin_mul_overflow(scaled, 10, &scaled)) return false;
  out = negative ? -scaled : scaled;
  return true;
}

}  // namespace

bool EpochMillisOf(std::string_view number_text, int64_t& ms) {
  if (!ScaledPlain(number_text, 3, ms)) {
    std::optional<ExactNumber> n = ParseExact(number_text);
    std::optional<int64_t> floored = n ? Scaled(*n, 3, /*floor=*/true) : std::nullopt;
    if (!floored) return false;
    ms = *floored;
  }
  return ms >= kMinTime && ms <= kMaxTime;
}

bool ScaledOf(std::string_view number_text, int scale, int64_t& out) {
  if (ScaledPlain(number_text, scale, out)) return true;
  std::optional<ExactNumber> n = ParseExact(number_text);
  std::optional<int64_t> scaled = n ? Scaled(*n, scale, false) : std::nullopt;
  if (scaled) out = *scaled;
  return scaled.has_value();
}

namespace {

std::vector<std::string_view> EventNames(const check::Program& p) {
  std::vector<std::string_view> names;
  for (const check::EventInfo& info : p.events) names.push_back(info.name);
  return names;
}

// `type`, `customer`, `ts` (kType, kCustomer, kTs), then every field name
// once.
std::vector<std::string_view> KeyNames(const check::Program& p) {
  std::vector<std::string_view> names = {"type", "customer", "ts"};
  for (const check::EventInfo& info : p.events)
    for (const check::FieldInfo& f : info.fields)
      if (std::find(names.begin(), names.end(), f.name) == names.end()) names.push_back(f.name);
  return names;
}

}  // namespace

Decoder::NameTable::NameTable(const std::vector<std::string_view>& names) {
  size_t size = 16;
  while (size < names.size() * 2) size *= 2;
  slots_.assign(size, {std::string_view(), -1});
  for (size_t id = 0; id < names.size(); ++id) {
    size_t i = TableHash(names[id]) & (size - 1);
    while (slots_[i].second >= 0) i = (i + 1) & (size - 1);
    slots_[i] = {names[id], static_cast<int64_t>(id)};
  }
}

int64_t Decoder::NameTable::Find(std::string_view name) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = TableHash(name) & mask;; i = (i + 1) & mask) {
    const auto& [slot, id] = slots_[i];
    if (id < 0 || SameBytes(slot, name)) return id;
  }
}

int64_t Decoder::NameTable::FindAndHint(std::string_view name, uint32_t& hint) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = TableHash(name) & mask;; i = (i + 1) & mask) {
    const auto& [slot, id] = slots_[i];
    if (id < 0) return id;
    if (SameBytes(slot, name)) {
      hint = static_cast<uint32_t>(i);
      return id;
    }
  }
}

Decoder::Decoder(const ir::Program& program)
    : program_(program), types_(EventNames(program.checked)), names_(KeyNames(program.checked)) {
  for (const check::EventInfo& info : program.checked.events) {
    std::vector<int32_t>& ids = field_names_.emplace_back();
    for (const check::FieldInfo& f : info.fields) ids.push_back(static_cast<int32_t>(names_.Find(f.name)));
    widest_ = std::max(widest_, info.fields.size());
  }
  seen_.resize(KeyNames(program.checked).size());
  for (const check::EnumInfo& info : program.checked.enums)
    members_.emplace_back(std::vector<std::string_view>(info.members.begin(), info.members.end()));
  key_hints_.assign((program.checked.events.size() + 1) * kPairwiseKeys, 0);
  member_hints_.assign(members_.size(), 0);
}

bool Decoder::Decode(std::string_view line, Event& event, Reject& reject) {
  reject.field.clear();
  reject.customer = {};
  auto fail = [&](std::string_view reason, std::string field = {}) {
    reject.reason = reason;
    reject.field = std::move(field);
    return false;
  };
  static thread_local std::vector<Member> pool;
  size_t count = 0;
  bool is_object = false;
  // A38 check 1; the reader checks UTF-8 in strings, the only place a byte
  // that is not ASCII can be valid JSON.
  if (!JsonReader(line).ReadTop(is_object, pool, count)) return fail("invalid_json");
  std::span<const Member> members(pool.data(), count);
  if (!is_object) return fail("not_object");
  // A38 check 3 names the first key that appears a second time. Each key
  // is looked up among the names the rules read, which finds a repeated one
  // as it goes; a key they do not read can only repeat another such key,
  // compared pairwise. Past kPairwiseKeys keys the keys are sorted by (key,
  // position) instead, so a line with 100,000 keys costs O(n log n), not O(n²).
  ++line_;
  size_t duplicate = count;
  int64_t line_type = -1;  // the event type `type` names, once read
  bool type_read = false;
  if (count <= kPairwiseKeys) {
    uint32_t others[kPairwiseKeys];
    size_t other_count = 0;
    for (uint32_t i = 0; i < count && duplicate == count; ++i) {
      std::string_view key = members[i].key();
      int64_t id = names_.Find(key, key_hints_[static_cast<size_t>(line_type + 1) * kPairwiseKeys + i]);
      if (id >= 0) {
        if (seen_[id].line == line_) duplicate = i;
        seen_[id] = {line_, i};
        if (id == kType && !type_read && members[i].kind == JsonKind::kString) {
          line_type = types_.Find(members[i].text(), type_hint_);
          type_read = true;
        }
        continue;
      }
      for (size_t j = 0; j < other_count; ++j)
        if (members[others[j]].key() == key) duplicate = i;
      others[other_count++] = i;
    }
  } else {
    order_.resize(count);
    for (uint32_t i = 0; i < count; ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      int c = members[a].key().compare(members[b].key());
      return c != 0 ? c < 0 : a < b;
    });
    // The smallest position that is not the first of its key.
    for (size_t k = 1; k < count; ++k)
      if (members[order_[k]].key() == members[order_[k - 1]].key()) duplicate = std::min<size_t>(duplicate, order_[k]);
    for (uint32_t i = 0; i < count && duplicate == count; ++i)
      if (int64_t id = names_.Find(members[i].key()); id >= 0) seen_[id] = {line_, i};
  }
  if (duplicate < count) return fail("duplicate_field", std::string(members[duplicate].key()));
  auto find = [&](int32_t name) -> const Member* {
    return seen_[name].line == line_ ? &members[seen_[name].member] : nullptr;
  };
  const Member* type = find(kType);
  const Member* customer = find(kCustomer);
  const Member* ts = find(kTs);
  for (auto [m, name] : {std::pair{type, "type"}, {customer, "customer"}, {ts, "ts"}}) {
    if (m == nullptr || m->kind == JsonKind::kNull) return fail("missing_field", name);
  }
  if (type->kind != JsonKind::kString) return fail("wrong_type", "type");
  const int64_t event_type = type_read ? line_type : types_.Find(type->text());
  if (event_type < 0) return fail("unknown_type", "type");
  if (customer->kind != JsonKind::kString || customer->text().empty()) return fail("wrong_type", "customer");
  reject.customer = customer->text();  // D8: later rejects name the customer
  std::optional<int64_t> when = TimeOf(*ts);
  if (!when) return fail("wrong_type", "ts");

  const check::EventInfo& info = program_.checked.events[event_type];
  event.type = static_cast<int32_t>(event_type);
  event.customer = customer->text();
  event.ts = *when;
  // An Event is reused from line to line (a shard's batch reuses thousands):
  // room for the widest type the first time, so that no later line grows it.
  if (event.fields.capacity() < widest_) {
    event.fields.reserve(widest_);
    event.texts.reserve(widest_);
  }
  event.fields.resize(info.fields.size());  // each is written below: unset, or what the line holds
  // A text field views the line; one the line spells with escapes is
  // decoded into its slot of `texts`, which keeps its capacity from line to
  // line. An unset field's slot is never read (its Value is unset).
  event.texts.resize(info.fields.size());
  const std::vector<int32_t>& names = field_names_[event_type];
  for (size_t f = 0; f < info.fields.size(); ++f) {
    const Member* m = find(names[f]);
    Value& out = event.fields[f];
    if (m == nullptr || m->kind == JsonKind::kNull) {
      out = Value{};  // unset
      continue;
    }
    const check::Type& t = info.fields[f].type;
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
        if (m->kind == JsonKind::kString && IsMoneyText(m->text())) cents = ScaledFromNumber(m->text(), 2);
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
          if (m->text_escaped) event.texts[f] = m->text_buf;
          out = Value::Text(m->text_escaped ? std::string_view(event.texts[f]) : m->text_view);
          ok = true;
        }
        break;
      case check::TypeKind::kEnum:
        if (m->kind == JsonKind::kString) {
          int64_t member = members_[t.enum_id].Find(m->text(), member_hints_[t.enum_id]);
          if (member < 0) return fail("unknown_member", info.fields[f].name);  // D8, E10
          out = Value::Enum(member);
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

void Event::Own() {
  texts.resize(fields.size());
  for (size_t f = 0; f < fields.size(); ++f) {
    Value& v = fields[f];
    if (v.kind != ValueKind::kText || v.text.data() == texts[f].data()) continue;
    texts[f] = v.text;
    v = Value::Text(texts[f]);
  }
}

std::optional<int64_t> ParseTimeArgument(std::string_view text) {
  if (std::optional<int64_t> t = ParseRfc3339(text)) return t;
  return EpochMillisFromNumber(text);
}

}  // namespace qm::event

namespace qm::event {

bool ObjectMembers(std::string_view line, std::vector<std::pair<std::string, std::string>>& members) {
  std::vector<event_internal::Member> read;
  size_t count = 0;
  bool is_object = false;
  if (!JsonReader(line).ReadTop(is_object, read, count) || !is_object) return false;
  members.clear();
  for (size_t m = 0; m < count; ++m) {
    const event_internal::Member& member = read[m];
    std::string value;
    switch (member.kind) {
      case event_internal::JsonKind::kString: value = "\"" + std::string(member.text()); break;
      case event_internal::JsonKind::kNumber: value = std::string(member.raw); break;
      case event_internal::JsonKind::kTrue: value = "true"; break;
      case event_internal::JsonKind::kFalse: value = "false"; break;
      case event_internal::JsonKind::kNull: value = "null"; break;
      case event_internal::JsonKind::kObject: value = "{}"; break;
      case event_internal::JsonKind::kArray: value = "[]"; break;
    }
    members.emplace_back(std::string(member.key()), std::move(value));
  }
  return true;
}

void AppendRejectLine(std::string& out, int64_t line, std::string_view reason, std::string_view field,
                      std::string_view customer) {
  out += "{\"line\":";
  out += std::to_string(line);
  if (!customer.empty()) {
    out += ",\"customer\":";
    AppendJsonString(out, customer);
  }
  out += ",\"reason\":\"";
  out += reason;
  out += '"';
  if (!field.empty()) {
    out += ",\"field\":";
    AppendJsonString(out, field);
  }
  out += "}\n";
}

std::string CustomerOf(std::string_view line) {
  std::vector<event_internal::Member> members;
  size_t count = 0;
  bool is_object = false;
  event_internal::JsonReader reader(line);
  if (!reader.ReadTop(is_object, members, count) || !is_object) return "";
  for (size_t i = 0; i < count; ++i)
    if (members[i].key() == "customer" && members[i].kind == event_internal::JsonKind::kString) return std::string(members[i].text());
  return "";
}

}  // namespace qm::event
