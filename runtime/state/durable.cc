// The durable store: customer states in memory, committed to RocksDB.
//
// Layout of a state directory (one RocksDB database):
//   m:version     format version, decimal text ("1")
//   m:schema      the Schema the states are encoded against
//   m:checkpoint  the last committed Checkpoint
//   c:<id>        one customer's state, encoded by position in m:schema
// A commit writes the touched customers and the checkpoint in one synced
// write batch: after a crash the directory holds exactly some commit.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "runtime/state/state.h"
#include "runtime/state/internal/record.h"

namespace qm::state {
namespace {

constexpr int64_t kFormatVersion = 1;
constexpr std::string_view kVersionKey = "m:version";
constexpr std::string_view kSchemaKey = "m:schema";
constexpr std::string_view kCheckpointKey = "m:checkpoint";
constexpr std::string_view kCustomerPrefix = "c:";

// ------------------------------------------------------------------ bytes

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void U(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I(int64_t v) { U((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void D(double v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out_.append(b, 8);
  }
  void S(std::string_view s) {
    U(s.size());
    out_.append(s);
  }
  void Strings(const std::vector<std::string>& v) {
    U(v.size());
    for (const std::string& s : v) S(s);
  }

 private:
  std::string& out_;
};

// Reads what Writer wrote; any overrun or malformed varint sets `ok` false
// and yields zeros, so a corrupt record is detected, never trusted.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint64_t U() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail();
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  int64_t I() {
    uint64_t u = U();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  double D() {
    if (in_.size() - pos_ < 8) return static_cast<double>(Fail());
    double v;
    std::memcpy(&v, in_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  std::string S() {
    uint64_t n = U();
    if (n > in_.size() - pos_) return Fail(), std::string();
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> Strings() {
    std::vector<std::string> v(Count());
    for (std::string& s : v) s = S();
    return v;
  }
  // A count of following items, each at least one byte long.
  size_t Count() {
    uint64_t n = U();
    if (n > in_.size() - pos_) return Fail();
    return n;
  }
  // An index below `limit`.
  size_t Index(size_t limit) {
    uint64_t i = U();
    if (i >= limit) return Fail();
    return i;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  uint64_t Fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// ----------------------------------------------------------------- values

void PutStored(Writer& w, const Stored& v) {
  w.U(static_cast<uint8_t>(v.kind));
  switch (v.kind) {
    case ValueKind::kUnset: break;
    case ValueKind::kNumber: w.D(v.d); break;
    case ValueKind::kText: w.S(v.text); break;
    default: w.I(v.i); break;
  }
}

Stored GetStored(Reader& r) {
  Stored v;
  uint64_t kind = r.U();
  if (kind > static_cast<uint64_t>(ValueKind::kEnum) || kind == static_cast<uint64_t>(ValueKind::kRatio)) {
    r.Index(0);  // fails the reader
    return v;
  }
  v.kind = static_cast<ValueKind>(kind);
  switch (v.kind) {
    case ValueKind::kUnset: break;
    case ValueKind::kNumber: v.d = r.D(); break;
    case ValueKind::kText: v.text = r.S(); break;
    default: v.i = r.I(); break;
  }
  return v;
}

// The kind a profile field of type `type` (as the schema spells it) holds.
ValueKind KindOfType(const std::string& type) {
  static const std::map<std::string, ValueKind, std::less<>> kinds = {
      {"int", ValueKind::kInt},   {"number", ValueKind::kNumber}, {"money", ValueKind::kMoney},
      {"bool", ValueKind::kBool}, {"text", ValueKind::kText},     {"time", ValueKind::kTime},
      {"duration", ValueKind::kDuration}};
  auto it = kinds.find(type);
  return it == kinds.end() ? ValueKind::kEnum : it->second;
}

// Every time a run can store lies within ±2^60 ms (an event's ts within
// years 1-9999, plus at most 10^9 days): differences of two never overflow.
bool SaneTime(int64_t t) { return t >= -(int64_t{1} << 60) && t <= (int64_t{1} << 60); }

// What decoding alone cannot check: values of the kinds their fields hold,
// enum members that exist, actions that exist. A record that passes is safe
// for the engine and `qm state` to read.
bool Consistent(const CustomerState& s, const Schema& schema) {
  for (size_t f = 0; f < s.profile.size(); ++f) {
    const Stored& v = s.profile[f];
    if (v.kind == ValueKind::kUnset) continue;
    if (v.kind != KindOfType(schema.fields[f].type)) return false;
    if (v.kind == ValueKind::kEnum) {
      const Schema::Enum* e = schema.FindEnum(schema.fields[f].type);
      if (e == nullptr || v.i < 0 || static_cast<size_t>(v.i) >= e->members.size()) return false;
    }
  }
  for (const PendingAfter& a : s.afters)
    if (a.action < 0 || static_cast<size_t>(a.action) >= schema.rules[a.rule].actions.size() || !SaneTime(a.due))
      return false;
  // Times and counts the engine computes with: a hostile record must not make
  // `now - t` overflow or an average's denominator (count, or count * 100
  // for money) zero or negative, in either engine.
  for (const Stored& v : s.profile)
    if ((v.kind == ValueKind::kTime || v.kind == ValueKind::kDuration) && !SaneTime(v.i)) return false;
  for (const AggregateState& a : s.aggregates) {
    if (a.count < 0 || a.count > std::numeric_limits<int64_t>::max() / 100) return false;
    for (const AggregateState::Entry& e : a.window)
      if (!SaneTime(e.ts)) return false;
  }
  auto sane_or_never = [](int64_t t) { return t == kNever || SaneTime(t); };
  if (!sane_or_never(s.clock) || !sane_or_never(s.last_any)) return false;
  for (int64_t t : s.last_event) if (!sane_or_never(t)) return false;
  for (int64_t t : s.quiet_due) if (!sane_or_never(t)) return false;
  for (const auto& [target, last] : s.pushes) if (!SaneTime(last)) return false;
  return true;
}

// ------------------------------------------------------------ one customer

// Sizes of the per-schema vectors of a CustomerState.
struct Shape {
  size_t fields, tags, aggregates, events, quiet, targets, rules;
  explicit Shape(const Schema& s)
      : fields(s.fields.size()), tags(s.tags.size()), aggregates(s.aggregates.size()), events(s.events.size()),
        quiet(s.quiet_rules.size()), targets(s.targets.size()), rules(s.rules.size()) {}
};

void EncodeState(const CustomerState& s, std::string& out) {
  Writer w(out);
  w.U(s.seen);
  w.I(s.clock);
  w.I(s.last_any);
  for (const Stored& v : s.profile) PutStored(w, v);
  size_t tagged = 0;
  for (uint8_t t : s.tags) tagged += t != 0;
  w.U(tagged);
  for (size_t t = 0; t < s.tags.size(); ++t)
    if (s.tags[t]) w.U(t);
  size_t live = 0;
  for (const AggregateState& a : s.aggregates) live += a.count != 0 || a.head < a.window.size();
  w.U(live);
  for (size_t i = 0; i < s.aggregates.size(); ++i) {
    const AggregateState& a = s.aggregates[i];
    if (a.count == 0 && a.head >= a.window.size()) continue;
    w.U(i);
    w.I(a.count);
    w.I(static_cast<int64_t>(static_cast<unsigned __int128>(a.sum) >> 64));
    w.U(static_cast<uint64_t>(a.sum));
    w.D(a.dsum);
    w.I(a.min_i);
    w.I(a.max_i);
    w.D(a.min_d);
    w.D(a.max_d);
    w.U(a.window.size() - a.head);
    int64_t previous = 0;
    for (size_t e = a.head; e < a.window.size(); ++e) {
      w.I(a.window[e].ts - previous);  // sorted: small deltas
      previous = a.window[e].ts;
      w.I(a.window[e].i);
      w.D(a.window[e].d);
    }
  }
  size_t seen_events = 0;
  for (int64_t t : s.last_event) seen_events += t != kNever;
  w.U(seen_events);
  for (size_t e = 0; e < s.last_event.size(); ++e)
    if (s.last_event[e] != kNever) w.U(e), w.I(s.last_event[e]);
  size_t armed = 0;
  for (int64_t t : s.quiet_due) armed += t != kNever;
  w.U(armed);
  for (size_t q = 0; q < s.quiet_due.size(); ++q)
    if (s.quiet_due[q] != kNever) w.U(q), w.I(s.quiet_due[q]);
  w.U(s.pushes.size());
  for (const auto& [target, last] : s.pushes) w.U(static_cast<uint64_t>(target)), w.I(last);
  w.U(s.afters.size());
  for (const PendingAfter& a : s.afters) {
    w.U(a.seq);
    w.I(a.due);
    w.U(static_cast<uint64_t>(a.rule));
    w.U(static_cast<uint64_t>(a.action));
    w.I(a.unless);
    PutStored(w, a.value);
  }
}

// Decodes a state written against `schema`; returns false for bytes that are
// not such a state.
bool DecodeState(std::string_view bytes, const Schema& schema, CustomerState& s) {
  Shape shape(schema);
  Reader r(bytes);
  s.seen = r.U() != 0;
  s.clock = r.I();
  s.last_any = r.I();
  s.profile.resize(shape.fields);
  for (Stored& v : s.profile) v = GetStored(r);
  s.tags.assign(shape.tags, 0);
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t t = r.Index(shape.tags);
    if (r.ok()) s.tags[t] = 1;
  }
  s.aggregates.assign(shape.aggregates, AggregateState{});
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t index = r.Index(shape.aggregates);
    if (!r.ok()) break;
    AggregateState& a = s.aggregates[index];
    a.count = r.I();
    int64_t high = r.I();
    uint64_t low = r.U();
    a.sum = static_cast<__int128>((static_cast<unsigned __int128>(static_cast<uint64_t>(high)) << 64) | low);
    a.dsum = r.D();
    a.min_i = r.I();
    a.max_i = r.I();
    a.min_d = r.D();
    a.max_d = r.D();
    a.window.resize(r.Count());
    int64_t previous = 0;
    for (AggregateState::Entry& e : a.window) {
      int64_t delta = r.I();  // the window is sorted: deltas after the first are never negative
      if ((delta < 0 && &e != &a.window.front()) || __builtin_add_overflow(previous, delta, &e.ts)) return false;
      previous = e.ts;
      e.i = r.I();
      e.d = r.D();
    }
  }
  s.last_event.assign(shape.events, kNever);
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t e = r.Index(shape.events);
    if (r.ok()) s.last_event[e] = r.I();
  }
  s.quiet_due.assign(shape.quiet, kNever);
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t q = r.Index(shape.quiet);
    if (r.ok()) s.quiet_due[q] = r.I();
  }
  s.pushes.resize(r.Count());
  for (auto& [target, last] : s.pushes) {
    target = static_cast<int32_t>(r.Index(shape.targets));
    last = r.I();
  }
  s.afters.clear();
  for (size_t n = r.Count(), k = 0; k < n && r.ok(); ++k) {
    PendingAfter a;
    a.seq = r.U();
    a.due = r.I();
    a.rule = static_cast<int32_t>(r.Index(shape.rules));
    a.action = static_cast<int32_t>(r.U());
    a.unless = static_cast<int32_t>(r.I());
    a.value = GetStored(r);
    if (!s.afters.insert(std::move(a)).second) return false;  // one seq twice: not a record we wrote
  }
  return r.done() && Consistent(s, schema);
}

// -------------------------------------------------------------- checkpoint

std::string EncodeCheckpoint(const Checkpoint& c) {
  std::string out;
  Writer w(out);
  w.I(c.input_bytes);
  w.I(c.input_lines);
  w.U(c.input_ends_mid_line);
  w.U(c.input_head_hash);
  w.U(c.input_tail_hash);
  w.I(c.actions_bytes);
  w.I(c.rejects_bytes);
  w.I(c.tz_minutes);
  return out;
}

std::optional<Checkpoint> DecodeCheckpoint(std::string_view bytes) {
  Reader r(bytes);
  Checkpoint c;
  c.input_bytes = r.I();
  c.input_lines = r.I();
  c.input_ends_mid_line = r.U() != 0;
  c.input_head_hash = r.U();
  c.input_tail_hash = r.U();
  c.actions_bytes = r.I();
  c.rejects_bytes = r.I();
  c.tz_minutes = static_cast<int32_t>(r.I());
  if (!r.done()) return std::nullopt;
  return c;
}

// ------------------------------------------------------------------ schema

// An action as the language writes it (`after 2d push 关怀 unless order`):
// a pending `after` survives a rule set change only if its action reads the same.
std::string ActionKey(const check::Program& p, const check::Action& a) {
  static const char* const kKinds[] = {"set", "add", "tag", "untag", "push", "invite", "notify"};
  std::string key = a.after_ms ? "after " + FormatDuration(a.after_ms) + " " : "";
  key += kKinds[static_cast<int>(a.kind)];
  switch (a.kind) {
    case check::ActionKind::kSet:
    case check::ActionKind::kAdd: key += " " + p.profile[a.target].name; break;
    case check::ActionKind::kTag:
    case check::ActionKind::kUntag: key += " " + p.tags[a.target].name; break;
    case check::ActionKind::kNotify: key += " " + a.text + " "; AppendJsonString(key, a.message); break;
    default: key += " " + a.text; break;
  }
  if (a.every_ms) key += " every " + FormatDuration(a.every_ms);
  if (a.unless != -2) key += " unless " + (a.unless == check::kAnyEvent ? std::string("any") : p.events[a.unless].name);
  return key;
}

template <typename T, typename Key>
std::map<std::string, int32_t> IndexBy(const std::vector<T>& items, Key key) {
  std::map<std::string, int32_t> index;
  for (size_t i = 0; i < items.size(); ++i) index.emplace(key(items[i]), static_cast<int32_t>(i));
  return index;
}

int32_t Lookup(const std::map<std::string, int32_t>& index, const std::string& key) {
  auto it = index.find(key);
  return it == index.end() ? -1 : it->second;
}

// How states written under `old` map onto `program` (indexes old -> new, -1
// where the new rule set has no such thing).
struct Remap {
  std::vector<int32_t> fields, tags, aggregates, events, quiet, targets, rules;
  std::vector<std::vector<int32_t>> members;  // per old field: its enum's members, old -> new
  std::vector<std::vector<bool>> after_kept;  // per old rule, per action: same action in the new rule
  std::vector<int32_t> new_quiet;             // quiet rules the old schema did not have
};

const std::string kAny = "any";

Remap MakeRemap(const Schema& old, const Schema& now) {
  auto name = [](const std::string& s) { return s; };
  auto map_all = [&](const std::vector<std::string>& from, const std::vector<std::string>& to) {
    std::map<std::string, int32_t> index = IndexBy(to, name);
    std::vector<int32_t> out;
    for (const std::string& s : from) out.push_back(Lookup(index, s));
    return out;
  };
  Remap m;
  auto field_index = IndexBy(now.fields, [](const Schema::Field& f) { return f.name; });
  for (const Schema::Field& f : old.fields) {
    int32_t to = Lookup(field_index, f.name);
    if (to >= 0 && now.fields[to].type != f.type) to = -1;
    m.fields.push_back(to);
    std::vector<int32_t> members;
    const Schema::Enum* from_enum = old.FindEnum(f.type);
    const Schema::Enum* to_enum = now.FindEnum(f.type);
    if (from_enum != nullptr && to_enum != nullptr) members = map_all(from_enum->members, to_enum->members);
    m.members.push_back(std::move(members));
  }
  m.tags = map_all(old.tags, now.tags);
  m.aggregates = map_all(old.aggregates, now.aggregates);
  m.events = map_all(old.events, now.events);
  m.quiet = map_all(old.quiet_rules, now.quiet_rules);
  m.targets = map_all(old.targets, now.targets);
  auto rule_index = IndexBy(now.rules, [](const Schema::Rule& r) { return r.name; });
  for (const Schema::Rule& r : old.rules) {
    int32_t to = Lookup(rule_index, r.name);
    m.rules.push_back(to);
    std::vector<bool> kept;
    for (size_t a = 0; a < r.actions.size(); ++a)
      kept.push_back(to >= 0 && a < now.rules[to].actions.size() && now.rules[to].actions[a] == r.actions[a]);
    m.after_kept.push_back(std::move(kept));
  }
  std::vector<bool> had(now.quiet_rules.size());
  for (int32_t q : m.quiet)
    if (q >= 0) had[q] = true;
  for (size_t q = 0; q < had.size(); ++q)
    if (!had[q]) m.new_quiet.push_back(static_cast<int32_t>(q));
  return m;
}

Stored RemapValue(Stored v, const std::vector<int32_t>& members) {
  if (v.kind == ValueKind::kEnum) {
    if (v.i < 0 || static_cast<size_t>(v.i) >= members.size() || members[v.i] < 0) return Stored{};
    v.i = members[v.i];
  }
  return v;
}

// Moves `old` (decoded under the old schema) into `to` (a fresh state of the
// new rule set). Returns the number of pending `after` actions dropped
// because their rule changed.
int64_t RemapState(CustomerState&& old, const Remap& m, const ir::Program& program, CustomerState& to) {
  to.seen = old.seen;
  to.clock = old.clock;
  to.last_any = old.last_any;
  for (size_t f = 0; f < old.profile.size(); ++f)
    if (m.fields[f] >= 0 && old.profile[f].kind != ValueKind::kUnset)
      to.profile[m.fields[f]] = RemapValue(std::move(old.profile[f]), m.members[f]);
  for (size_t t = 0; t < old.tags.size(); ++t)
    if (m.tags[t] >= 0) to.tags[m.tags[t]] = old.tags[t];
  for (size_t a = 0; a < old.aggregates.size(); ++a)
    if (m.aggregates[a] >= 0) to.aggregates[m.aggregates[a]] = std::move(old.aggregates[a]);
  for (size_t e = 0; e < old.last_event.size(); ++e)
    if (m.events[e] >= 0) to.last_event[m.events[e]] = old.last_event[e];
  for (size_t q = 0; q < old.quiet_due.size(); ++q)
    if (m.quiet[q] >= 0) to.quiet_due[m.quiet[q]] = old.quiet_due[q];
  // A `no` rule new to this state is armed from the customer's latest event
  // it watches, or from the customer's clock (docs/state.md).
  if (to.seen) {
    for (int32_t q : m.new_quiet) {
      const check::Trigger& t = program.checked.rules[program.quiet_rules[q]].trigger;
      int64_t from = t.id == check::kAnyEvent ? to.last_any : to.last_event[t.id];
      if (from == kNever) from = to.clock;
      to.quiet_due[q] = from + t.duration_ms;
    }
  }
  for (auto& [target, last] : old.pushes)
    if (m.targets[target] >= 0) to.pushes.emplace_back(m.targets[target], last);
  int64_t dropped = 0;
  while (!old.afters.empty()) {
    PendingAfter a = std::move(old.afters.extract(old.afters.begin()).value());
    bool kept = a.action >= 0 && static_cast<size_t>(a.action) < m.after_kept[a.rule].size() &&
                m.after_kept[a.rule][a.action];
    if (!kept) {
      ++dropped;
      continue;
    }
    a.rule = m.rules[a.rule];
    const check::Action& action = program.checked.rules[a.rule].actions[a.action];
    a.unless = action.unless;
    if (action.kind == check::ActionKind::kSet || action.kind == check::ActionKind::kAdd) {
      // The field is compatible (checked before), so only its enum members move.
      for (size_t f = 0; f < m.fields.size(); ++f)
        if (m.fields[f] == action.target) a.value = RemapValue(std::move(a.value), m.members[f]);
    }
    to.afters.insert(std::move(a));
  }
  return dropped;
}

std::string BaseName(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// A pending set/add holds a value its field can take (enums: a member).
bool Runnable(const CustomerState& s, const ir::Program& program) {
  const check::Program& p = program.checked;
  for (const PendingAfter& a : s.afters) {
    const check::Action& action = p.rules[a.rule].actions[a.action];
    if (action.kind != check::ActionKind::kSet && action.kind != check::ActionKind::kAdd) continue;
    const check::Type& type = p.profile[action.target].type;
    if (a.value.kind == ValueKind::kUnset) continue;
    bool is_enum = type.kind == check::TypeKind::kEnum;
    if (is_enum != (a.value.kind == ValueKind::kEnum)) return false;
    if (is_enum && (a.value.i < 0 || static_cast<size_t>(a.value.i) >= p.enums[type.enum_id].members.size()))
      return false;
  }
  return true;
}


}  // namespace

}  // namespace qm::state

namespace qm::state_internal {

std::string EncodeRecord(const state::CustomerState& s) {
  std::string out;
  state::EncodeState(s, out);
  return out;
}

bool DecodeRecord(std::string_view bytes, const ir::Program& program, state::CustomerState& s) {
  return state::DecodeState(bytes, state::Schema::Of(program), s) && state::Runnable(s, program);
}

}  // namespace qm::state_internal

namespace qm::state {

uint64_t StableHash(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

Schema Schema::Of(const ir::Program& program) {
  const check::Program& p = program.checked;
  Schema s;
  auto add_file = [&](const Source* source) {
    if (source == nullptr) return;
    std::string name = BaseName(source->name());
    if (std::find(s.rule_files.begin(), s.rule_files.end(), name) == s.rule_files.end()) s.rule_files.push_back(name);
  };
  for (const check::EventInfo& e : p.events) {
    s.events.push_back(e.name);
    add_file(e.source);
  }
  for (const check::FieldInfo& f : p.profile) s.fields.push_back({f.name, p.TypeName(f.type)});
  for (size_t e = 0; e < p.enums.size(); ++e)
    s.enums.push_back({p.TypeName(check::Type{check::TypeKind::kEnum, static_cast<int32_t>(e)}), p.enums[e].members});
  for (const check::TagInfo& t : p.tags) s.tags.push_back(t.name);
  for (const check::AggregateInfo& a : p.aggregates) {
    check::Type type = a.field >= 0 ? p.events[a.event].fields[a.field].type : check::Type{check::TypeKind::kInt};
    s.aggregates.push_back(a.spelling + " : " + p.TypeName(type));
    s.aggregate_windows.push_back(a.within_ms);
  }
  for (int32_t r : program.quiet_rules) {
    const check::Trigger& t = p.rules[r].trigger;
    s.quiet_rules.push_back(p.rules[r].name + " : no " + (t.id == check::kAnyEvent ? kAny : p.events[t.id].name) +
                            " for " + FormatDuration(t.duration_ms));
  }
  s.targets = program.targets;
  for (const check::Rule& r : p.rules) {
    add_file(r.source);
    Rule rule{r.name, {}};
    for (const check::Action& a : r.actions) rule.actions.push_back(ActionKey(p, a));
    s.rules.push_back(std::move(rule));
  }
  return s;
}

std::string Schema::Encode() const {
  std::string out;
  Writer w(out);
  w.Strings(rule_files);
  w.Strings(events);
  w.U(fields.size());
  for (const Field& f : fields) w.S(f.name), w.S(f.type);
  w.U(enums.size());
  for (const Enum& e : enums) w.S(e.name), w.Strings(e.members);
  w.Strings(tags);
  w.Strings(aggregates);
  for (int64_t within : aggregate_windows) w.I(within);
  w.Strings(quiet_rules);
  w.Strings(targets);
  w.U(rules.size());
  for (const Rule& r : rules) w.S(r.name), w.Strings(r.actions);
  return out;
}

std::optional<Schema> Schema::Decode(std::string_view bytes) {
  Reader r(bytes);
  Schema s;
  s.rule_files = r.Strings();
  s.events = r.Strings();
  s.fields.resize(r.Count());
  for (Field& f : s.fields) f.name = r.S(), f.type = r.S();
  s.enums.resize(r.Count());
  for (Enum& e : s.enums) e.name = r.S(), e.members = r.Strings();
  s.tags = r.Strings();
  s.aggregates = r.Strings();
  for (size_t a = 0; a < s.aggregates.size(); ++a) s.aggregate_windows.push_back(r.I());
  s.quiet_rules = r.Strings();
  s.targets = r.Strings();
  s.rules.resize(r.Count());
  for (Rule& rule : s.rules) rule.name = r.S(), rule.actions = r.Strings();
  if (!r.done()) return std::nullopt;
  for (const std::string& t : s.targets)
    if (t.rfind("p:", 0) != 0 && t.rfind("i:", 0) != 0) return std::nullopt;
  for (const auto* keys : {&s.aggregates, &s.quiet_rules})
    for (const std::string& k : *keys)
      if (k.find(" : ") == std::string::npos) return std::nullopt;
  for (int64_t within : s.aggregate_windows)
    if (within < 0) return std::nullopt;
  return s;
}

const Schema::Enum* Schema::FindEnum(std::string_view name) const {
  for (const Enum& e : enums)
    if (e.name == name) return &e;
  return nullptr;
}

namespace {

// ------------------------------------------------------------ the database

std::string Describe(const rocksdb::Status& status) { return status.ToString(); }

struct Opened {
  std::unique_ptr<rocksdb::DB> db;
  std::optional<Schema> schema;  // none for a new directory
  std::string schema_bytes;
  std::optional<Checkpoint> checkpoint;
  std::string error;
};

// Whether every file in `dir` is one RocksDB makes. A directory whose
// creation was interrupted has some of them but no CURRENT yet.
// Why `dir` cannot hold a qm state: a file RocksDB would not have written,
// or one that is not a regular file (a FIFO there would block every reader).
std::optional<std::string> ForeignEntry(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    auto starts = [&](std::string_view p) { return name.rfind(p, 0) == 0; };
    auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
    if (!(name == "CURRENT" || name == "LOCK" || name == "IDENTITY" || starts("LOG") || starts("MANIFEST-") ||
          starts("OPTIONS-") || ends(".log") || ends(".sst") || ends(".dbtmp")))
      return "it holds other files (`" + name + "`)";
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec) || entry.is_symlink(type_ec))
      return "`" + name + "` is not a regular file";
  }
  if (ec) return "cannot read it: " + ec.message();
  return std::nullopt;
}

// Whether `dir` holds committed data: a table file or a non-empty
// write-ahead log. A creation killed before RocksDB wrote `CURRENT` leaves
// neither (qm writes nothing before its first commit), so such a directory is
// simply created anew; one that lost `CURRENT` after a commit is damaged.
bool HoldsCommittedData(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
    std::error_code size_ec;
    if (ends(".sst") || (ends(".log") && entry.file_size(size_ec) > 0)) return true;
  }
  return false;
}

class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// How a state directory is opened: kShow and kInspect never write anything
// (kInspect takes a missing or empty directory for a new one; kShow refuses
// it); kWrite creates what is missing.
enum class Access { kShow, kInspect, kWrite };

// Opens `dir` and reads its metadata.
Opened OpenDatabase(const std::string& dir, Access access) {
  namespace fs = std::filesystem;
  const bool read_only = access != Access::kWrite;
  Opened o;
  std::error_code ec;
  bool exists = fs::exists(dir, ec);
  if (access == Access::kInspect && !exists && !ec) return o;  // a new directory
  if (access == Access::kShow && !exists) {
    o.error = "no state directory `" + dir + "`";
    return o;
  }
  if (exists && !fs::is_directory(dir, ec)) {
    o.error = "`" + dir + "` is not a directory";
    return o;
  }
  bool has_database = exists && fs::exists(fs::path(dir) / "CURRENT", ec);
  if (ec) {
    o.error = "cannot read state directory `" + dir + "`: " + ec.message();
    return o;
  }
  if (exists) {
    if (std::optional<std::string> foreign = ForeignEntry(dir)) {
      o.error = "`" + dir + "` is not a qm state directory: " + *foreign;
      return o;
    }
    // Refused without writing: RocksDB would create a new, empty database
    // beside the old files, and the next run would start from scratch.
    if (!has_database && HoldsCommittedData(dir)) {
      o.error = "state directory `" + dir + "` is damaged: its `CURRENT` file is missing; restore it from a " +
                "backup, or give --state a new directory";
      return o;
    }
  }
  if (access == Access::kInspect && !has_database) return o;  // nothing committed yet: a new directory
  if (access == Access::kShow && !has_database) {
    o.error = "`" + dir + "` is not a qm state directory: it has no database";
    return o;
  }
  rocksdb::Options options;
  options.create_if_missing = !read_only;
  options.paranoid_checks = true;
  // No LOG file: on a full disk RocksDB's file logger asserts on its next
  // line (SIGABRT in a background thread). qm reports errors itself.
  options.info_log = std::make_shared<SilentLogger>();
  options.keep_log_file_num = 2;
  options.compression = rocksdb::kLZ4Compression;
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = read_only ? rocksdb::DB::OpenForReadOnly(options, dir, &db)
                                     : rocksdb::DB::Open(options, dir, &db);
  if (!status.ok()) {
    if (status.IsIOError() && status.ToString().find("While lock file") != std::string::npos)
      o.error = "state directory `" + dir + "` is in use by another qm process";
    else if (status.IsCorruption() || status.IsInvalidArgument())
      o.error = "state directory `" + dir + "` is corrupt: " + Describe(status);
    else
      o.error = "cannot open state directory `" + dir + "`: " + Describe(status);
    return o;
  }
  o.db.reset(db);
  auto corrupt = [&](const std::string& what) {
    o.error = "state directory `" + dir + "` is corrupt: " + what;
    o.db.reset();
  };
  std::string version;
  status = db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kVersionKey.data(), kVersionKey.size()), &version);
  if (status.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    bool has_keys = it->Valid();
    it.reset();  // before the database
    if (has_keys) {
      o.error = "`" + dir + "` is not a qm state directory: a RocksDB database without qm's metadata";
      o.db.reset();
    } else if (access == Access::kShow) {
      o.error = "state directory `" + dir + "` is empty: no run has committed to it yet";
      o.db.reset();
    }
    return o;  // a new directory
  }
  if (!status.ok()) {
    corrupt(Describe(status));
    return o;
  }
  char* end = nullptr;
  long long v = std::strtoll(version.c_str(), &end, 10);
  if (version.empty() || *end != '\0' || v < 1) {
    corrupt("unreadable format version `" + version + "`");
    return o;
  }
  if (v > kFormatVersion) {
    o.error = "state directory `" + dir + "` was written by a newer qm (state format " + version +
              "; this qm reads format " + std::to_string(kFormatVersion) + ")";
    o.db.reset();
    return o;
  }
  std::string checkpoint;
  if (!db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kSchemaKey.data(), kSchemaKey.size()), &o.schema_bytes).ok() ||
      !(o.schema = Schema::Decode(o.schema_bytes))) {
    corrupt("the schema record is missing or unreadable");
    return o;
  }
  if (!db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kCheckpointKey.data(), kCheckpointKey.size()), &checkpoint).ok() ||
      !(o.checkpoint = DecodeCheckpoint(checkpoint))) {
    corrupt("the checkpoint record is missing or unreadable");
    return o;
  }
  return o;
}

// Visits every customer record in id order.
std::optional<std::string> ForEachRecord(rocksdb::DB& db, const std::string& dir,
                                         const std::function<void(const std::string&, std::string_view)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice prefix(kCustomerPrefix.data(), kCustomerPrefix.size());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string id = it->key().ToString().substr(kCustomerPrefix.size());
    visit(id, std::string_view(it->value().data(), it->value().size()));
  }
  if (!it->status().ok()) return "state directory `" + dir + "` is corrupt: " + Describe(it->status());
  return std::nullopt;
}

std::string CorruptRecord(const std::string& dir, const std::string& id) {
  std::string quoted;
  AppendJsonString(quoted, id);
  return "state directory `" + dir + "` is corrupt: the record of customer " + quoted + " cannot be read";
}

// The schema changes that would lose what states keep (E0501).
std::vector<Diagnostic> IncompatibleChanges(const Schema& old, const ir::Program& program, const std::string& dir) {
  const check::Program& p = program.checked;
  Diagnostics diags;
  std::set<std::string> enums_in_use;
  for (const Schema::Field& f : old.fields) {
    int32_t now = p.FindProfileField(f.name);
    if (now < 0) {
      diags.Add(DiagKind::kStateFieldRemoved, nullptr, {}, {f.name, f.type, dir}).help = Help{HelpKind::kKeepOrNewState, {}};
      continue;
    }
    const check::FieldInfo& field = p.profile[now];
    std::string type = p.TypeName(field.type);
    if (type != f.type) {
      diags.Add(DiagKind::kStateFieldRetyped, field.source, field.span, {f.name, f.type, dir, type}).help =
          Help{HelpKind::kKeepOrNewState, {}};
      continue;
    }
    if (field.type.kind != check::TypeKind::kEnum || !enums_in_use.insert(type).second) continue;
    const Schema::Enum* before = old.FindEnum(type);
    const check::EnumInfo& info = p.enums[field.type.enum_id];
    for (const std::string& member : before != nullptr ? before->members : std::vector<std::string>{}) {
      if (std::find(info.members.begin(), info.members.end(), member) == info.members.end())
        diags.Add(DiagKind::kStateMemberRemoved, info.source, info.span, {type, member, dir}).help =
            Help{HelpKind::kKeepOrNewState, {}};
    }
  }
  for (const std::string& tag : old.tags)
    if (p.FindTag(tag) < 0)
      diags.Add(DiagKind::kStateTagRemoved, nullptr, {}, {tag, dir}).help = Help{HelpKind::kKeepOrNewState, {}};
  return diags.all();
}

bool SharesAnything(const Schema& a, const Schema& b) {
  auto common = [](const std::vector<std::string>& x, const std::vector<std::string>& y) {
    for (const std::string& s : x)
      if (std::find(y.begin(), y.end(), s) != y.end()) return true;
    return false;
  };
  for (const Schema::Field& f : a.fields)
    for (const Schema::Field& g : b.fields)
      if (f.name == g.name) return true;
  return common(a.events, b.events) || common(a.tags, b.tags);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class DurableStoreImpl final : public DurableStore {
 public:
  // `db` is open read-only (or null for a new directory) until BeginWriting.
  DurableStoreImpl(std::string dir, std::unique_ptr<rocksdb::DB> db, const ir::Program& program,
                   std::optional<Checkpoint> checkpoint, std::string schema_bytes, bool schema_changed)
      : dir_(std::move(dir)), db_(std::move(db)), memory_(MakeMemoryStore(program)),
        checkpoint_(std::move(checkpoint)), schema_bytes_(std::move(schema_bytes)), write_schema_(schema_changed) {}

  // The committed state goes from the write-ahead log into a compressed
  // table, so the directory is compact and the next open replays no log.
  // Nothing is lost if this fails: the log holds every commit.
  ~DurableStoreImpl() override {
    if (writable_) db_->Flush(rocksdb::FlushOptions());
  }

  std::optional<std::string> BeginWriting() override {
    db_.reset();  // the read-only handle
    Opened o = OpenDatabase(dir_, Access::kWrite);
    if (!o.db) return o.error;
    // Another process may have committed between the two opens.
    auto encoded = [](const std::optional<Checkpoint>& c) { return c ? EncodeCheckpoint(*c) : std::string(); };
    if (encoded(o.checkpoint) != encoded(checkpoint_))
      return "state directory `" + dir_ + "` changed while it was being opened: is another qm using it?";
    db_ = std::move(o.db);
    writable_ = true;
    return std::nullopt;
  }

  CustomerState* Find(const std::string& customer) override { return memory_->Find(customer); }
  CustomerState& Create(const std::string& customer) override {
    CustomerState& s = memory_->Create(customer);
    Touch(s);
    return s;
  }
  size_t size() const override { return memory_->size(); }
  void ForEach(const std::function<void(CustomerState&)>& visit) override { memory_->ForEach(visit); }
  void Touch(CustomerState& s) override {
    if (!s.dirty) {
      s.dirty = true;
      dirty_.push_back(&s);
    }
  }

  const std::optional<Checkpoint>& checkpoint() const override { return checkpoint_; }

  std::optional<std::string> Commit(const Checkpoint& checkpoint) override {
    // In key order, the memtable's skip list inserts each key next to the
    // previous one (a third of a commit's cost when unsorted).
    std::sort(dirty_.begin(), dirty_.end(), [](const CustomerState* a, const CustomerState* b) { return *a->id < *b->id; });
    rocksdb::WriteBatch batch(last_batch_bytes_ + last_batch_bytes_ / 4);
    std::string key(kCustomerPrefix), value;
    for (CustomerState* s : dirty_) {
      key.resize(kCustomerPrefix.size());
      key += *s->id;
      value.clear();
      EncodeState(*s, value);
      batch.Put(key, value);
      s->dirty = false;
    }
    dirty_.clear();
    if (write_schema_) {
      batch.Put(rocksdb::Slice(kVersionKey.data(), kVersionKey.size()), std::to_string(kFormatVersion));
      batch.Put(rocksdb::Slice(kSchemaKey.data(), kSchemaKey.size()), schema_bytes_);
    }
    batch.Put(rocksdb::Slice(kCheckpointKey.data(), kCheckpointKey.size()), EncodeCheckpoint(checkpoint));
    rocksdb::WriteOptions options;
    options.sync = true;
    rocksdb::Status status = db_->Write(options, &batch);
    if (!status.ok()) return "committing to the state directory failed: " + Describe(status);
    last_batch_bytes_ = batch.GetDataSize();
    write_schema_ = false;
    checkpoint_ = checkpoint;
    return std::nullopt;
  }

  // Loads every stored customer, remapped when the schema changed.
  std::optional<std::string> Load(const std::string& dir, const ir::Program& program, const Schema& old,
                                  bool changed, std::vector<std::string>& notices) {
    Remap remap;
    if (changed) remap = MakeRemap(old, Schema::Of(program));
    int64_t dropped = 0;
    std::optional<std::string> error;
    CustomerState decoded;
    auto status = ForEachRecord(*db_, dir, [&](const std::string& id, std::string_view bytes) {
      if (error) return;
      CustomerState& s = memory_->Create(id);
      // Unchanged schema: decode in place, into the new state's vectors.
      if (!DecodeState(bytes, old, changed ? decoded : s)) {
        error = CorruptRecord(dir, id);
        return;
      }
      if (changed) {
        dropped += RemapState(std::move(decoded), remap, program, s);
        Touch(s);  // rewritten under the new schema at the next commit
      }
      if (!Runnable(s, program)) error = CorruptRecord(dir, id);
    });
    if (status) return status;
    if (error) return error;
    if (dropped > 0)
      notices.push_back(std::to_string(dropped) +
                        " pending delayed actions were dropped: their rules were removed or their actions changed");
    return std::nullopt;
  }

 private:
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  bool writable_ = false;
  std::unique_ptr<Store> memory_;
  std::vector<CustomerState*> dirty_;
  size_t last_batch_bytes_ = 0;
  std::optional<Checkpoint> checkpoint_;
  std::string schema_bytes_;
  bool write_schema_;
};

// What a compatible schema change does to state, for the run's notices.
void DescribeChanges(const Schema& old, const Schema& now, std::vector<std::string>& notices) {
  auto missing = [](const std::vector<std::string>& from, const std::vector<std::string>& in) {
    std::vector<std::string> out;
    for (const std::string& s : from)
      if (std::find(in.begin(), in.end(), s) == in.end()) out.push_back("`" + s.substr(0, s.find(" : ")) + "`");
    return out;
  };
  if (auto added = missing(now.aggregates, old.aggregates); !added.empty())
    notices.push_back("new aggregates start empty and count events from now on: " + Join(added));
  if (auto dropped = missing(old.aggregates, now.aggregates); !dropped.empty())
    notices.push_back("aggregates no rule uses any more are dropped from state: " + Join(dropped));
  if (auto added = missing(now.quiet_rules, old.quiet_rules); !added.empty())
    notices.push_back("new `no` rules are armed from each customer's latest event they watch: " + Join(added));
}

class StateReaderImpl final : public StateReader {
 public:
  StateReaderImpl(Opened o, std::string dir)
      : db_(std::move(o.db)), schema_(std::move(*o.schema)), checkpoint_(o.checkpoint), dir_(std::move(dir)) {}
  const Schema& schema() const override { return schema_; }
  const std::optional<Checkpoint>& checkpoint() const override { return checkpoint_; }

  std::optional<std::string> ForEach(
      const std::function<void(const std::string&, const CustomerState&)>& visit) override {
    std::optional<std::string> error;
    CustomerState s;
    auto status = ForEachRecord(*db_, dir_, [&](const std::string& id, std::string_view bytes) {
      if (error) return;
      if (!DecodeState(bytes, schema_, s)) error = CorruptRecord(dir_, id);
      else visit(id, s);
    });
    return status ? status : error;
  }

  std::optional<std::string> Get(const std::string& id, std::optional<CustomerState>& state) override {
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), std::string(kCustomerPrefix) + id, &value);
    state.reset();
    if (status.IsNotFound()) return std::nullopt;
    if (!status.ok()) return "state directory `" + dir_ + "` is corrupt: " + Describe(status);
    state.emplace();
    if (!DecodeState(value, schema_, *state)) return CorruptRecord(dir_, id);
    return std::nullopt;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  Schema schema_;
  std::optional<Checkpoint> checkpoint_;
  std::string dir_;
};

}  // namespace

DurableStore::OpenResult DurableStore::Open(const std::string& dir, const ir::Program& program) {
  OpenResult result;
  // Everything a run may refuse is decided on a read-only handle, so a refused
  // directory is never written (BeginWriting opens it for writing).
  Opened o = OpenDatabase(dir, Access::kInspect);
  if (!o.error.empty()) {
    result.error = o.error;
    return result;
  }
  Schema now = Schema::Of(program);
  std::string now_bytes = now.Encode();
  bool fresh = !o.schema.has_value();
  bool changed = !fresh && o.schema_bytes != now_bytes;
  if (changed) {
    if (!SharesAnything(*o.schema, now)) {
      result.error = "state directory `" + dir + "` belongs to another rule set (" + Join(o.schema->rule_files) +
                     "): it shares no event, profile field or tag with these rules";
      return result;
    }
    result.changes = IncompatibleChanges(*o.schema, program, dir);
    if (!result.changes.empty()) return result;
    DescribeChanges(*o.schema, now, result.notices);
  }
  auto store = std::make_unique<DurableStoreImpl>(dir, std::move(o.db), program, o.checkpoint, std::move(now_bytes),
                                                  fresh || changed);
  if (!fresh) {
    if (auto error = store->Load(dir, program, *o.schema, changed, result.notices)) {
      result.error = *error;
      return result;
    }
  }
  result.store = std::move(store);
  return result;
}

std::unique_ptr<StateReader> StateReader::Open(const std::string& dir, std::string* error) {
  Opened o = OpenDatabase(dir, Access::kShow);
  if (!o.db) {
    *error = o.error;
    return nullptr;
  }
  return std::make_unique<StateReaderImpl>(std::move(o), dir);
}

}  // namespace qm::state
