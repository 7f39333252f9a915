// One person across channels: identity keys link ids (D11), and two persons
// merge into one state (D12, E4, E12-E17).
#include "runtime/engine/internal/impl.h"

#include <algorithm>

#include "compiler/diag/diag.h"

namespace qm::engine {

namespace {

// Whether `a` had its first accepted event before `b` (E12). States kept
// before v0.2's identity have no order (0): they came before any later one,
// and among themselves the smaller id counts as first.
bool FirstCame(const CustomerState& a, const CustomerState& b) {
  if (a.first_seq != b.first_seq) {
    if (a.first_seq == 0 || b.first_seq == 0) return a.first_seq == 0;
    return a.first_seq < b.first_seq;
  }
  return *a.id < *b.id;
}

// D12, E15: a profile field's merged value under its policy; an unset side
// takes the other's.
Stored MergeField(const Stored& kept, const Stored& other, const check::FieldInfo& field) {
  if (other.kind == ValueKind::kUnset) return kept;
  if (kept.kind == ValueKind::kUnset) return other;
  switch (field.merge) {
    case ast::MergePolicy::kKeep: return kept;
    case ast::MergePolicy::kSum: return Stored::Of(AddValues(kept.view(), other.view(), field.type.kind));
    case ast::MergePolicy::kMax:
    case ast::MergePolicy::kMin: {
      std::optional<int> order = CompareValues(other.view(), kept.view());
      if (!order) return kept;  // a NaN orders nothing: the survivor's stays
      bool take = field.merge == ast::MergePolicy::kMax ? *order > 0 : *order < 0;
      return take ? other : kept;
    }
  }
  return kept;
}

// D12, E16: as if one customer had accepted both histories. Running totals
// add (a double sum as the survivor's plus the absorbed's); windows and
// distinct values hold both sets, the survivor's first among equal times.
void MergeAggregate(AggregateState& into, const AggregateState& from) {
  if (from.count > 0) {
    state::Totals t = into.Whole();
    const state::Totals f = from.Whole();
    if (t.count == 0) {
      t.min_i = f.min_i, t.max_i = f.max_i, t.min_d = f.min_d, t.max_d = f.max_d;
    } else {
      t.min_i = std::min(t.min_i, f.min_i), t.max_i = std::max(t.max_i, f.max_i);
      t.min_d = std::min(t.min_d, f.min_d), t.max_d = std::max(t.max_d, f.max_d);
    }
    t.count += f.count;
    t.sum += f.sum;
    t.dsum += f.dsum;
    into.SetWhole(t);
  }
  if (from.head() < from.window().size()) {
    using Entry = AggregateState::Entry;
    using Merged = AggregateState::Merged;
    AggregateState::Rest& rest = into.rest.Make();
    const std::vector<Entry>& from_window = from.rest->window;
    const uint32_t from_head = from.rest->head;
    const AggregateState::Distinct* fd = from.distinct();
    AggregateState::Distinct* id = rest.distinct.get();
    const Merged* fm = from.merged();
    const Merged* im = rest.merged.get();
    // E16: the absorbed histories hang under the survivor's own, after its
    // entries processed so far; a person never merged processed its live
    // entries in window order.
    Merged m;
    if (im != nullptr) m.histories = im->histories, m.next = im->next;
    else m.next = rest.window.size() - rest.head;
    const uint32_t offset = static_cast<uint32_t>(m.histories.size());
    if (fm == nullptr) {
      m.histories.push_back({0, m.next});
    } else {
      for (size_t h = 0; h < fm->histories.size(); ++h) {
        Merged::History x = fm->histories[h];
        if (h == 0) x = {0, m.next};
        else x.parent += offset;
        m.histories.push_back(x);
      }
    }
    std::vector<Entry> window;
    std::vector<std::string> values;
    size_t a = rest.head, b = from_head;
    while (a < rest.window.size() || b < from_window.size()) {
      bool mine = b == from_window.size() || (a < rest.window.size() && rest.window[a].ts <= from_window[b].ts);
      if (mine) {
        window.push_back(rest.window[a]);
        if (id != nullptr) values.push_back(std::move(id->window[a]));
        m.history.push_back(im != nullptr ? im->history[a] : 0);
        m.order.push_back(im != nullptr ? im->order[a] : a - rest.head);
        ++a;
      } else {
        window.push_back(from_window[b]);
        if (fd != nullptr) values.push_back(fd->window[b]);
        m.history.push_back(offset + (fm != nullptr ? fm->history[b] : 0));
        m.order.push_back(fm != nullptr ? fm->order[b] : b - from_head);
        ++b;
      }
    }
    rest.window = std::move(window);
    rest.head = 0;
    rest.merged.Make() = std::move(m);
    if (fd != nullptr || id != nullptr) {
      AggregateState::Distinct& d = rest.distinct.Make();
      d.window = std::move(values);
      d.counts.clear();
      for (const std::string& v : d.window) ++d.counts[v];
    }
  }
  if (from.distinct() && !from.distinct()->seen.empty()) {
    const std::set<std::string>& seen = from.distinct()->seen;
    into.rest.Make().distinct.Make().seen.insert(seen.begin(), seen.end());
  }
}

}  // namespace

std::vector<TimerKey> Engine::Impl::TimersOf(CustomerState& s) const {
  std::vector<TimerKey> mine;
  for (size_t q = 0; q < s.quiet_due.size(); ++q)
    if (s.quiet_due[q] != kNever) mine.push_back(TimerKey{s.quiet_due[q], s.id, &s, 0, q});
  for (const PendingAfter& a : s.afters) mine.push_back(TimerKey{a.due, s.id, &s, 1, a.seq, a.unless, a.deferred});
  return mine;
}

void Engine::Impl::IndexPersons() {
  alias_.clear();
  owner_.clear();
  store_.ForEach([&](CustomerState& s) {
    for (const std::string& alias : s.aliases) alias_[alias] = *s.id;
    for (const auto& [key, value] : s.keys) owner_[key + '\0' + value] = *s.id;
    next_person_ = std::max(next_person_, s.first_seq + 1);
  });
}

bool Engine::Impl::Link(CustomerState*& s, const event::Event& e) {
  const std::vector<check::FieldId>& fields = p_.events[e.type].keys;
  bool merged = false;
  for (size_t k = 0; k < fields.size(); ++k) {  // D11: in declaration order
    if (fields[k] < 0) continue;
    const Value& v = e.fields[fields[k]];
    if (v.unset() || v.text.empty()) continue;
    std::string slot = p_.identity[k] + '\0' + std::string(v.text);
    auto it = owner_.find(slot);
    CustomerState* other = it == owner_.end() ? nullptr : Lookup(PersonOf(it->second));
    if (other == s) continue;
    if (other == nullptr) {  // unknown (or its person was forgotten): it names this one now
      Save(*s);
      store_.Touch(*s);
      s->keys.Make().emplace_back(p_.identity[k], std::string(v.text));
      SetIndex(owner_, slot, *s->id);
      continue;
    }
    bool mine_first = FirstCame(*s, *other);
    CustomerState& survivor = mine_first ? *s : *other;
    if (observer_ != nullptr && (!merged || !mine_first)) [[unlikely]]  // the step is the survivor's, merge lines first
      observer_->OnStep({Observer::StepKind::kEvent, *survivor.id, e.ts, line_number_, e.type});
    Merge(survivor, mine_first ? *other : *s, p_.identity[k], e.ts);
    s = &survivor;
    merged = true;
  }
  return merged;
}

void Engine::Impl::Merge(CustomerState& survivor, CustomerState& absorbed, const std::string& key, int64_t ts) {
  Save(survivor);
  store_.Touch(survivor);
  const std::string absorbed_id = *absorbed.id;
  if (undo_ != nullptr) [[unlikely]] {
    bool created_now = std::find(undo_->created.begin(), undo_->created.end(), absorbed_id) != undo_->created.end();
    if (!created_now) {  // as it was at Mark(): its saved copy when it has one
      const CustomerState* before = &absorbed;
      for (size_t i = 0; i < undo_->saved_count; ++i)
        if (undo_->saved[i].first == &absorbed) before = &undo_->saved[i].second;
      undo_->absorbed.emplace_back(absorbed_id, *before);
    }
    for (size_t i = 0; i < undo_->saved_count; ++i)  // its memory goes: Undo recreates it instead
      if (undo_->saved[i].first == &absorbed) undo_->saved[i].first = nullptr;
  }
  line_.assign("{\"ts\":\"");
  AppendTime(line_, ts, options_.tz_minutes);
  line_ += "\",\"customer\":";
  AppendJsonString(line_, *survivor.id);
  line_ += ",\"action\":\"merge\",\"from\":";
  AppendJsonString(line_, absorbed_id);
  line_ += ",\"key\":";
  AppendJsonString(line_, key);
  line_ += "}\n";
  Emit("merge");

  Dequeue(survivor);
  Dequeue(absorbed);
  CustomerState& s = survivor;
  const CustomerState& a = absorbed;
  for (size_t f = 0; f < s.profile.size(); ++f) s.profile[f] = MergeField(s.profile[f], a.profile[f], p_.profile[f]);
  s.tags |= a.tags;
  for (size_t g = 0; g < s.aggregates.size(); ++g) MergeAggregate(s.aggregates[g], a.aggregates[g]);
  for (size_t e = 0; e < s.last_event.size(); ++e) s.last_event[e] = std::max(s.last_event[e], a.last_event[e]);
  s.last_any = std::max(s.last_any, a.last_any);
  for (size_t q = 0; q < s.quiet_due.size(); ++q) s.quiet_due[q] = std::max(s.quiet_due[q], a.quiet_due[q]);
  for (const auto& [target, last] : a.pushes) {  // per target, the later emission
    auto mine = std::find_if(s.pushes.begin(), s.pushes.end(), [&](const auto& p) { return p.first == target; });
    if (mine == s.pushes.end()) s.pushes.emplace_back(target, last);
    else mine->second = std::max(mine->second, last);
  }
  std::vector<state::Emission> emissions;  // caps count both (D4), in time order
  std::merge(s.emissions.begin(), s.emissions.end(), a.emissions.begin(), a.emissions.end(),
             std::back_inserter(emissions), [](const state::Emission& x, const state::Emission& y) { return x.ts < y.ts; });
  s.emissions = std::move(emissions);
  std::vector<PendingAfter> theirs(a.afters.begin(), a.afters.end());
  std::sort(theirs.begin(), theirs.end(), [](const PendingAfter& x, const PendingAfter& y) { return x.seq < y.seq; });
  for (PendingAfter& p : theirs) {  // after the survivor's, in their order
    p.seq = next_seq_++;
    s.afters.Make().insert(std::move(p));
  }
  s.clock = std::max(s.clock, a.clock);
  s.seen = s.seen || a.seen;
  std::vector<std::string>& aliases = s.aliases.Make();
  aliases.push_back(absorbed_id);
  aliases.insert(aliases.end(), a.aliases.begin(), a.aliases.end());
  if (!a.keys.empty()) {
    auto& keys = s.keys.Make();
    keys.insert(keys.end(), a.keys.begin(), a.keys.end());
  }
  SetIndex(alias_, absorbed_id, *s.id);
  for (const std::string& alias : a.aliases) SetIndex(alias_, alias, *s.id);
  store_.Absorb(absorbed_id);
  Enqueue(s);
}

}  // namespace qm::engine
