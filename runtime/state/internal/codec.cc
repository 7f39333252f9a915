#include "runtime/state/internal/codec.h"

#include <limits>
#include <map>

namespace qm::state_internal {

using state::Emission;
using state::HeldLine;
using state::AggregateState;
using state::kNever;
using state::PendingAfter;
using state::Totals;

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
static bool SaneTime(int64_t t) { return t >= -(int64_t{1} << 60) && t <= (int64_t{1} << 60); }

// What decoding alone cannot check: values of the kinds their fields hold,
// enum members that exist, actions that exist. A record that passes is safe
// for the engine and `qm state` to read.
static bool Consistent(const CustomerState& s, const Schema& schema) {
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
  for (size_t i = 0; i < s.aggregates.size(); ++i) {
    const AggregateState& a = s.aggregates[i];
    if (a.count < 0 || a.count > std::numeric_limits<int64_t>::max() / 100) return false;
    // A distinct window holds one value per entry; other aggregates none (D10).
    size_t values = a.distinct() ? a.distinct()->window.size() : 0;
    if (schema.IsDistinct(i) ? values != a.window().size() : a.distinct() != nullptr) return false;
    for (const AggregateState::Entry& e : a.window())
      if (!SaneTime(e.ts)) return false;
  }
  auto sane_or_never = [](int64_t t) { return t == kNever || SaneTime(t); };
  if (!sane_or_never(s.clock) || !sane_or_never(s.last_any)) return false;
  for (int64_t t : s.last_event) if (!sane_or_never(t)) return false;
  for (int64_t t : s.quiet_due) if (!sane_or_never(t)) return false;
  auto target_key = [](const std::string& k) { return k.size() >= 2 && (k[0] == 'p' || k[0] == 'i') && k[1] == ':'; };
  for (const auto& [key, last] : s.pushes) if (!SaneTime(last) || !target_key(key)) return false;
  for (const Emission& e : s.emissions) if (!SaneTime(e.ts) || !target_key(e.key)) return false;
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
  for (size_t t = 0; t < s.tags.size(); ++t) tagged += s.tags[t];
  w.U(tagged);
  for (size_t t = 0; t < s.tags.size(); ++t)
    if (s.tags[t]) w.U(t);
  size_t live = 0;
  for (const AggregateState& a : s.aggregates) live += !a.empty();
  w.U(live);
  for (size_t i = 0; i < s.aggregates.size(); ++i) {
    const AggregateState& a = s.aggregates[i];
    if (a.empty()) continue;
    w.U(i);
    const Totals t = a.Whole();
    w.I(t.count);
    w.I(static_cast<int64_t>(static_cast<unsigned __int128>(t.sum) >> 64));
    w.U(static_cast<uint64_t>(t.sum));
    w.D(t.dsum);
    w.I(t.min_i);
    w.I(t.max_i);
    w.D(t.min_d);
    w.D(t.max_d);
    const std::vector<AggregateState::Entry>& window = a.window();
    w.U(window.size() - a.head());
    int64_t previous = 0;
    for (size_t e = a.head(); e < window.size(); ++e) {
      w.I(window[e].ts - previous);  // sorted: small deltas
      previous = window[e].ts;
      w.I(window[e].i);
      w.D(window[e].d);
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
  w.U(0);  // format 2's pushes by target id; format 3 keeps them by name, below
  w.U(s.afters.size());
  for (const PendingAfter& a : s.afters) {
    w.U(a.seq);
    w.I(a.due);
    w.U(static_cast<uint64_t>(a.rule));
    w.U(static_cast<uint64_t>(a.action));
    w.I(a.unless);
    PutStored(w, a.value);
  }
  // Format 3 from here on; a format 2 record ends above.
  size_t distinct = 0;
  for (const AggregateState& a : s.aggregates) distinct += a.distinct() != nullptr;
  w.U(distinct);
  for (size_t i = 0; i < s.aggregates.size(); ++i) {  // count(distinct …) values (D10)
    const AggregateState& a = s.aggregates[i];
    if (!a.distinct()) continue;
    const AggregateState::Distinct& d = *a.distinct();
    w.U(i);
    w.U(d.seen.size());
    for (const std::string& v : d.seen) w.S(v);
    w.U(d.window.size() - std::min<size_t>(a.head(), d.window.size()));
    for (size_t e = a.head(); e < d.window.size(); ++e) w.S(d.window[e]);
  }
  w.U(s.pushes.size());  // A26, by check::TargetKey
  for (const auto& [key, last] : s.pushes) w.S(key), w.I(last);
  w.U(s.emissions.size());  // D4
  for (const Emission& e : s.emissions) w.I(e.ts), w.S(e.key);
  for (const PendingAfter& a : s.afters) {  // D5, D6: in the order written above
    w.U(a.deferred);
    w.U(a.target.has_value());
    if (a.target) w.S(*a.target);
    w.U(a.message.has_value());
    if (a.message) w.S(*a.message);
  }
  w.U(s.first_seq);  // format 6 (D11, D12); a format 3-5 record ends above
  w.Strings(*s.aliases);
  w.U(s.keys.size());
  for (const auto& [key, value] : s.keys) w.S(key), w.S(value);
  size_t merged = 0;  // format 7 (E16): merged windows' histories; a format 6 record ends above
  for (const AggregateState& a : s.aggregates) merged += a.merged() != nullptr;
  w.U(merged);
  for (size_t i = 0; i < s.aggregates.size(); ++i) {
    const AggregateState& a = s.aggregates[i];
    if (!a.merged()) continue;
    const AggregateState::Merged& m = *a.merged();
    w.U(i);
    w.U(m.histories.size());
    for (const AggregateState::Merged::History& h : m.histories) w.U(h.parent), w.U(h.position);
    w.U(m.next);
    for (size_t e = a.head(); e < a.window().size(); ++e) w.U(m.history[e]), w.U(m.order[e]);  // the live entries'
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
  s.Shape(shape.fields, shape.aggregates, shape.events, shape.quiet);
  for (Stored& v : s.profile) v = GetStored(r);
  s.tags = state::TagSet(shape.tags);
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t t = r.Index(shape.tags);
    if (r.ok()) s.tags.Set(t, true);
  }
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t index = r.Index(shape.aggregates);
    if (!r.ok()) break;
    AggregateState& a = s.aggregates[index];
    Totals t;
    t.count = r.I();
    int64_t high = r.I();
    uint64_t low = r.U();
    t.sum = static_cast<__int128>((static_cast<unsigned __int128>(static_cast<uint64_t>(high)) << 64) | low);
    t.dsum = r.D();
    t.min_i = r.I();
    t.max_i = r.I();
    t.min_d = r.D();
    t.max_d = r.D();
    a.SetWhole(t);
    size_t entries = r.Count();
    if (entries == 0) continue;
    std::vector<AggregateState::Entry>& window = a.rest.Make().window;
    window.resize(entries);
    int64_t previous = 0;
    for (AggregateState::Entry& e : window) {
      int64_t delta = r.I();  // the window is sorted: deltas after the first are never negative
      if ((delta < 0 && &e != &window.front()) || __builtin_add_overflow(previous, delta, &e.ts)) return false;
      previous = e.ts;
      e.i = r.I();
      e.d = r.D();
    }
  }
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t e = r.Index(shape.events);
    if (r.ok()) s.last_event[e] = r.I();
  }
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t q = r.Index(shape.quiet);
    if (r.ok()) s.quiet_due[q] = r.I();
  }
  s.pushes.resize(r.Count());
  for (auto& [key, last] : s.pushes) {
    size_t target = r.Index(shape.targets);
    if (!r.ok()) return false;
    key = schema.targets[target];  // `p:VIP群`: format 2 wrote an index into these
    last = r.I();
  }
  s.afters.clear();
  std::vector<PendingAfter> afters(r.Count());
  for (PendingAfter& a : afters) {
    if (!r.ok()) return false;
    a.seq = r.U();
    a.due = r.I();
    a.rule = static_cast<int32_t>(r.Index(shape.rules));
    a.action = static_cast<int32_t>(r.U());
    a.unless = static_cast<int32_t>(r.I());
    a.value = GetStored(r);
  }
  auto keep_afters = [&] {
    for (PendingAfter& a : afters)
      if (!s.afters.Make().insert(std::move(a)).second) return false;  // one seq twice: not a record we wrote
    return true;
  };
  if (r.done()) return keep_afters() && Consistent(s, schema);  // format 2
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    size_t index = r.Index(shape.aggregates);
    if (!r.ok()) break;
    AggregateState& a = s.aggregates[index];
    AggregateState::Distinct& d = a.rest.Make().distinct.Make();
    for (size_t k = r.Count(); k > 0 && r.ok(); --k) d.seen.insert(r.S());
    d.window.resize(r.Count());
    for (std::string& v : d.window) ++d.counts[v = r.S()];
  }
  for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
    std::string key = r.S();
    s.pushes.emplace_back(std::move(key), r.I());
  }
  std::vector<Emission> emissions(r.Count());
  for (Emission& e : emissions) e.ts = r.I(), e.key = r.S();
  s.emissions = std::move(emissions);
  for (PendingAfter& a : afters) {
    a.deferred = r.U() != 0;
    if (r.U() != 0) a.target = r.S();
    if (r.U() != 0) a.message = r.S();
  }
  if (!r.done()) {  // format 6
    s.first_seq = r.U();
    s.aliases = r.Strings();
    std::vector<std::pair<std::string, std::string>> keys(r.Count());
    for (auto& [key, value] : keys) key = r.S(), value = r.S();
    s.keys = std::move(keys);
  }
  if (!r.done()) {  // format 7
    for (size_t n = r.Count(); n > 0 && r.ok(); --n) {
      size_t index = r.Index(shape.aggregates);
      if (!r.ok()) break;
      AggregateState& a = s.aggregates[index];
      AggregateState::Merged& m = a.rest.Make().merged.Make();
      m.histories.resize(r.Count());
      for (size_t h = 0; h < m.histories.size() && r.ok(); ++h) {
        m.histories[h].parent = static_cast<uint32_t>(h == 0 ? r.Index(1) : r.Index(h));  // a parent comes first
        m.histories[h].position = r.U();
      }
      if (m.histories.empty()) return false;
      m.next = r.U();
      m.history.resize(a.window().size());  // decoded windows start at head 0
      m.order.resize(a.window().size());
      for (size_t e = 0; e < a.window().size() && r.ok(); ++e)
        m.history[e] = static_cast<uint32_t>(r.Index(m.histories.size())), m.order[e] = r.U();
    }
  }
  return r.done() && keep_afters() && Consistent(s, schema);
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
  w.I(c.lateness_ms);  // format 3 (D9)
  w.I(c.high_mark);
  w.U(c.held.size());
  for (const HeldLine& h : c.held) w.I(h.ts), w.I(h.line_number), w.S(h.text);
  w.U(c.host_position.has_value());  // format 4: kept by a host through the API
  if (c.host_position) w.S(*c.host_position);
  w.U(c.segments.size());  // format 5 (D13)
  for (const state::SegmentStatus& g : c.segments)
    w.S(g.name), w.I(g.next), w.I(g.last), w.I(g.ranked), w.I(g.members), w.S(g.threshold);
  for (const auto* counts : {&c.tallies.fired, &c.tallies.actions, &c.tallies.suppressed}) {  // format 8
    w.U(counts->size());
    for (const auto& [key, n] : *counts) w.S(key), w.I(n);
  }
  w.U(c.tallies.tag_descriptions.size());
  for (const auto& [tag, description] : c.tallies.tag_descriptions) w.S(tag), w.S(description);
  return out;
}

std::optional<Checkpoint> DecodeCheckpoint(std::string_view bytes, int64_t format) {
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
  if (r.done()) return c;  // format 2: nothing held
  c.lateness_ms = r.I();
  c.high_mark = r.I();
  c.held.resize(r.Count());
  for (HeldLine& h : c.held) h.ts = r.I(), h.line_number = r.I(), h.text = r.S();
  if (format < 5) {
    if (!r.done()) c.host_position = r.S();
  } else {
    if (r.U() != 0) c.host_position = r.S();
    c.segments.resize(r.Count());
    for (state::SegmentStatus& g : c.segments)
      g.name = r.S(), g.next = r.I(), g.last = r.I(), g.ranked = r.I(), g.members = r.I(), g.threshold = r.S();
  }
  if (format >= 8) {
    for (auto* counts : {&c.tallies.fired, &c.tallies.actions, &c.tallies.suppressed}) {
      for (size_t k = r.Count(); k > 0 && r.ok(); --k) {
        std::string key = r.S();
        int64_t n = r.I();
        if (n < 0) return std::nullopt;
        (*counts)[key] = n;
      }
    }
    c.tallies.tag_descriptions.resize(r.Count());
    for (auto& [tag, description] : c.tallies.tag_descriptions) tag = r.S(), description = r.S();
  }
  if (!r.done() || c.lateness_ms < 0) return std::nullopt;
  return c;
}

// A pending set/add holds a value its field can take (enums: a member).
bool Runnable(const CustomerState& s, const ir::Program& program) {
  const check::Program& p = program.checked;
  for (const PendingAfter& a : s.afters) {
    const check::Action& action = p.rules[a.rule].actions[a.action];
    if (action.kind != check::ActionKind::kSet && action.kind != check::ActionKind::kAdd) continue;
    const check::Type& type = p.profile[action.field].type;
    if (a.value.kind == ValueKind::kUnset) continue;
    bool is_enum = type.kind == check::TypeKind::kEnum;
    if (is_enum != (a.value.kind == ValueKind::kEnum)) return false;
    if (is_enum && (a.value.i < 0 || static_cast<size_t>(a.value.i) >= p.enums[type.enum_id].members.size()))
      return false;
  }
  return true;
}

std::string EncodeRecord(const CustomerState& s) {
  std::string out;
  EncodeState(s, out);
  return out;
}

bool DecodeRecord(std::string_view bytes, const ir::Program& program, CustomerState& s) {
  return DecodeState(bytes, Schema::Of(program), s) && Runnable(s, program);
}

}  // namespace qm::state_internal
