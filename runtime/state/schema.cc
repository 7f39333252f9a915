// Schemas: what a rule set keeps in state, by name (Schema::Of, its
// encoding), and how a state written under one schema continues under the
// next (remapping, E0501 changes, notes).
#include <filesystem>
#include <map>

#include "runtime/state/internal/codec.h"
#include "runtime/state/internal/schema_changes.h"

namespace qm::state_internal {

using state::kNever;
using state::PendingAfter;

namespace {

// An action as the language writes it (`after 2d push 关怀 unless order`):
// a pending `after` survives a rule set change only if its action reads the same.
std::string ActionKey(const check::Program& p, const check::Action& a) {
  std::string key = a.after_ms ? "after " + FormatDuration(a.after_ms) + " " : "";
  key += check::Spelling(a.kind);
  switch (a.kind) {
    case check::ActionKind::kSet:
    case check::ActionKind::kAdd: key += " " + p.profile[a.field].name; break;
    case check::ActionKind::kTag:
    case check::ActionKind::kUntag: key += " " + p.tags[a.tag].name; break;
    case check::ActionKind::kNotify: key += " " + a.text + " "; AppendJsonString(key, a.message); break;
    default: key += " " + a.text; break;
  }
  if (a.every_ms) key += " every " + FormatDuration(a.every_ms);
  if (a.unless != check::kNoUnless) key += " unless " + (a.unless == check::kAnyEvent ? std::string("any") : p.events[a.unless].name);
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



const std::string kAny = "any";

Stored RemapValue(Stored v, const std::vector<int32_t>& members) {
  if (v.kind == ValueKind::kEnum) {
    if (v.i < 0 || static_cast<size_t>(v.i) >= members.size() || members[v.i] < 0) return Stored{};
    v.i = members[v.i];
  }
  return v;
}

std::string BaseName(const std::string& path) { return std::filesystem::path(path).filename().string(); }

}  // namespace

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

// Moves `old` (decoded under the old schema) into `to` (a fresh state of the
// new rule set). Returns the number of pending `after` actions dropped
// because their rule changed.
int64_t RemapState(CustomerState&& old, const Remap& m, const ir::Program& program, CustomerState& to) {
  to.seen = old.seen;
  to.clock = old.clock;
  to.last_any = old.last_any;
  to.first_seq = old.first_seq;  // D11, D12: who is who does not depend on the rules
  to.aliases = std::move(old.aliases);
  to.keys = std::move(old.keys);
  for (size_t f = 0; f < old.profile.size(); ++f)
    if (m.fields[f] >= 0 && old.profile[f].kind != ValueKind::kUnset)
      to.profile[m.fields[f]] = RemapValue(std::move(old.profile[f]), m.members[f]);
  for (size_t t = 0; t < old.tags.size(); ++t)
    if (m.tags[t] >= 0) to.tags.Set(m.tags[t], old.tags[t]);
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
      int64_t from = t.event == check::kAnyEvent ? to.last_any : to.last_event[t.event];
      if (from == kNever) from = to.clock;
      to.quiet_due[q] = from + t.duration_ms;
    }
  }
  // Push histories are kept by target name, whatever the rules now say: a
  // target pushed once stays pushed if a rule names it again (A26).
  to.pushes = std::move(old.pushes);
  to.emissions = std::move(old.emissions);
  if (!m.target_keys.empty()) {  // D14: histories carry over under the new names
    auto rename = [&](std::string& key) {
      if (auto it = m.target_keys.find(key); it != m.target_keys.end()) key = it->second;
    };
    for (auto& [key, last] : to.pushes) rename(key);
    if (!to.emissions.empty())
      for (state::Emission& e : to.emissions.Make()) rename(e.key);
    // A customer pushed to both names keeps one history: the later emission.
    for (size_t i = 0; i < to.pushes.size(); ++i)
      for (size_t j = i + 1; j < to.pushes.size();) {
        if (to.pushes[j].first != to.pushes[i].first) {
          ++j;
          continue;
        }
        to.pushes[i].second = std::max(to.pushes[i].second, to.pushes[j].second);
        to.pushes.erase(to.pushes.begin() + j);
      }
  }
  int64_t dropped = 0;
  while (!old.afters.empty()) {
    state::PendingAfters& pending = old.afters.Make();
    PendingAfter a = std::move(pending.extract(pending.begin()).value());
    bool kept = a.action >= 0 && static_cast<size_t>(a.action) < m.after_kept[a.rule].size() &&
                m.after_kept[a.rule][a.action];
    if (!kept) {
      ++dropped;
      continue;
    }
    a.rule = m.rules[a.rule];
    const check::Action& action = program.checked.rules[a.rule].actions[a.action];
    a.unless = action.unless;
    if ((action.kind == check::ActionKind::kPush || action.kind == check::ActionKind::kInvite) && a.target) {
      // Resolved when scheduled: a renamed target is sent under its new name (D14).
      auto it = m.target_keys.find(check::TargetKey(action.kind, *a.target));
      if (it != m.target_keys.end()) a.target = it->second.substr(2);  // after `p:`/`i:`
    }
    if (action.kind == check::ActionKind::kSet || action.kind == check::ActionKind::kAdd) {
      // The field is compatible (checked before), so only its enum members move.
      for (size_t f = 0; f < m.fields.size(); ++f)
        if (m.fields[f] == action.field) a.value = RemapValue(std::move(a.value), m.members[f]);
    }
    to.afters.Make().insert(std::move(a));
  }
  return dropped;
}

// The schema changes that would lose what states keep (E0501).
std::vector<Diagnostic> IncompatibleChanges(const Schema& old, const ir::Program& program, const std::string& dir) {
  const check::Program& p = program.checked;
  Diagnostics diags;
  std::set<std::string> enums_in_use;
  for (const Schema::Field& f : old.fields) {
    int32_t now = p.FindProfileField(f.name);
    if (now < 0) {
      diags.Add<DiagKind::kStateFieldRemoved>(nullptr, {}, {f.name, f.type, dir}).help = Help::Of<HelpKind::kKeepOrNewState>({});
      continue;
    }
    const check::FieldInfo& field = p.profile[now];
    std::string type = p.TypeName(field.type);
    if (type != f.type) {
      diags.Add<DiagKind::kStateFieldRetyped>(field.source, field.span, {f.name, f.type, dir, type}).help =
          Help::Of<HelpKind::kKeepOrNewState>({});
      continue;
    }
    if (field.type.kind != check::TypeKind::kEnum || !enums_in_use.insert(type).second) continue;
    const Schema::Enum* before = old.FindEnum(type);
    const check::EnumInfo& info = p.enums[field.type.enum_id];
    for (const std::string& member : before != nullptr ? before->members : std::vector<std::string>{}) {
      if (std::find(info.members.begin(), info.members.end(), member) == info.members.end())
        diags.Add<DiagKind::kStateMemberRemoved>(info.source, info.span, {type, member, dir}).help =
            Help::Of<HelpKind::kKeepOrNewState>({});
    }
  }
  for (const std::string& tag : old.tags)
    if (p.FindTag(tag) < 0)
      diags.Add<DiagKind::kStateTagRemoved>(nullptr, {}, {tag, dir}).help = Help::Of<HelpKind::kKeepOrNewState>({});
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

// What a compatible schema change does to state, for the run's notices.
void DescribeChanges(const Schema& old, const Schema& now, std::vector<Error>& notices) {
  auto missing = [](const std::vector<std::string>& from, const std::vector<std::string>& in) {
    std::vector<std::string> out;
    for (const std::string& s : from)
      if (std::find(in.begin(), in.end(), s) == in.end()) out.push_back("`" + s.substr(0, s.find(" : ")) + "`");
    return out;
  };
  if (auto added = missing(now.aggregates, old.aggregates); !added.empty())
    notices.push_back(Error::Of<ErrorKind::kAggregatesAdded>({Join(added)}));
  if (auto dropped = missing(old.aggregates, now.aggregates); !dropped.empty())
    notices.push_back(Error::Of<ErrorKind::kAggregatesDropped>({Join(dropped)}));
  if (auto added = missing(now.quiet_rules, old.quiet_rules); !added.empty())
    notices.push_back(Error::Of<ErrorKind::kQuietRulesAdded>({Join(added)}));
}

namespace {

// The name an action key (ActionKey) names after its kind word, or npos:
// `[after D ]KIND NAME[ every D][ unless E]`.
size_t NameInActionKey(const std::string& key, std::initializer_list<std::string_view> kinds) {
  size_t at = 0;
  if (key.rfind("after ", 0) == 0) at = key.find(' ', 6) + 1;
  for (std::string_view kind : kinds)
    if (key.compare(at, kind.size(), kind) == 0 && key.compare(at + kind.size(), 1, " ") == 0)
      return at + kind.size() + 1;
  return std::string::npos;
}

void RenameInActionKey(std::string& key, std::initializer_list<std::string_view> kinds, const std::string& from,
                       const std::string& to) {
  size_t at = NameInActionKey(key, kinds);
  if (at == std::string::npos || key.compare(at, from.size(), from) != 0) return;
  std::string_view rest = std::string_view(key).substr(at + from.size());
  if (rest.empty() || rest.rfind(" every ", 0) == 0 || rest.rfind(" unless ", 0) == 0) key.replace(at, from.size(), to);
}

}  // namespace

Schema Renamed(const Schema& old, const ir::Program& program, std::map<std::string, std::string>& target_keys,
               std::vector<Error>& notices) {
  using Kind = check::Rename::Kind;
  Schema s = old;
  std::vector<std::string> done;
  // Renames `from` to `to` in `names` when it holds the one and not the other.
  auto rename_in = [](std::vector<std::string>& names, const std::string& from, const std::string& to) {
    auto it = std::find(names.begin(), names.end(), from);
    if (it == names.end() || std::find(names.begin(), names.end(), to) != names.end()) return false;
    *it = to;
    return true;
  };
  for (const check::Rename& r : program.checked.renames) {
    bool renamed = false;
    switch (r.kind) {
      case Kind::kTag:
        renamed = rename_in(s.tags, r.from, r.to);
        if (renamed)
          for (Schema::Rule& rule : s.rules)
            for (std::string& key : rule.actions) RenameInActionKey(key, {"tag", "untag"}, r.from, r.to);
        break;
      case Kind::kField: {
        auto named = [&](const std::string& n) {
          return std::find_if(s.fields.begin(), s.fields.end(), [&](const Schema::Field& f) { return f.name == n; });
        };
        auto it = named(r.from);
        if (it == s.fields.end() || named(r.to) != s.fields.end()) break;
        it->name = r.to;
        renamed = true;
        for (Schema::Rule& rule : s.rules)
          for (std::string& key : rule.actions) RenameInActionKey(key, {"set", "add"}, r.from, r.to);
        break;
      }
      case Kind::kMember:
        for (Schema::Enum& e : s.enums)
          if (e.name == r.enum_name) renamed = rename_in(e.members, r.from, r.to);
        break;
      case Kind::kTarget:
        // Histories are kept by target whatever the rules named (A26), so
        // every customer's are renamed, not only the targets the schema lists.
        for (std::string_view kind : {"p:", "i:"}) {
          std::string from = std::string(kind) + r.from, to = std::string(kind) + r.to;
          target_keys[from] = to;
          renamed |= rename_in(s.targets, from, to);
        }
        if (renamed)
          for (Schema::Rule& rule : s.rules)
            for (std::string& key : rule.actions) RenameInActionKey(key, {"push", "invite"}, r.from, r.to);
        break;
    }
    static const char* kKinds[] = {"tag", "field", "member", "target"};
    const std::string prefix = r.enum_name.empty() ? "" : r.enum_name + ".";
    if (renamed) done.push_back(std::string(kKinds[static_cast<int>(r.kind)]) + " `" + prefix + r.from + "` -> `" + prefix + r.to + "`");
  }
  if (!done.empty()) notices.push_back(Error::Of<ErrorKind::kRenamesApplied>({Join(done)}));
  return s;
}

}  // namespace qm::state_internal

namespace qm::state {

using state_internal::ActionKey;
using state_internal::BaseName;
using state_internal::kAny;
using state_internal::Reader;
using state_internal::Writer;

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
    s.enums.push_back({p.TypeName(check::Type{check::TypeKind::kEnum, check::EnumId(static_cast<int32_t>(e))}), p.enums[e].members});
  for (const check::TagInfo& t : p.tags) s.tags.push_back(t.name);
  for (const check::AggregateInfo& a : p.aggregates) {
    check::Type type = a.ValueType(p);
    s.aggregates.push_back(a.spelling + " : " + p.TypeName(type));
    s.aggregate_windows.push_back(a.within_this ? -1 - static_cast<int64_t>(*a.within_this) : a.within_ms);
  }
  for (int32_t r : program.quiet_rules) {
    const check::Trigger& t = p.rules[r].trigger;
    s.quiet_rules.push_back(p.rules[r].name + " : no " + (t.event == check::kAnyEvent ? kAny : p.events[t.event].name) +
                            " for " + FormatDuration(t.duration_ms));
  }
  s.targets = program.targets;
  s.zone_minutes = p.zone_minutes;
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
  w.I(zone_minutes);  // format 3
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
  if (!r.done()) s.zone_minutes = r.I();  // format 2 has no zone: +08:00 was implied
  if (!r.done() || s.zone_minutes < -24 * 60 || s.zone_minutes > 24 * 60) return std::nullopt;
  for (const std::string& t : s.targets)
    if (t.rfind("p:", 0) != 0 && t.rfind("i:", 0) != 0) return std::nullopt;
  for (const auto* keys : {&s.aggregates, &s.quiet_rules})
    for (const std::string& k : *keys)
      if (k.find(" : ") == std::string::npos) return std::nullopt;
  for (int64_t within : s.aggregate_windows)
    if (within < -1 - static_cast<int64_t>(Period::kYear)) return std::nullopt;
  return s;
}

const Schema::Enum* Schema::FindEnum(std::string_view name) const {
  for (const Enum& e : enums)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace qm::state
