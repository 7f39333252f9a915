#include "compiler/ir/ir.h"

#include <algorithm>
#include <unordered_set>

namespace qm::ir {
namespace {

// StableHash of a canonical text of the program: stable across runs and builds.
std::string Fingerprint(const check::Program& p) {
  std::string text = "zone " + std::to_string(p.zone_minutes) + ";";  // clock code reads it (D1)
  for (const auto& e : p.enums) {
    text += "enum " + e.name + ":";
    for (const auto& m : e.members) text += m + ",";
    text += ";";
  }
  for (const auto& e : p.events) {
    text += "event " + e.name + ":";
    for (const auto& f : e.fields) text += f.name + "/" + p.TypeName(f.type) + ",";
    text += ";";
  }
  for (const auto& f : p.profile) text += "profile " + f.name + "/" + p.TypeName(f.type) + ";";
  for (const auto& t : p.tags) text += "tag " + t.name + ";";
  // A rule by its meaning, not its text: reformatting it (`qm fmt`) keeps the fingerprint.
  for (const auto& r : p.rules) text += "rule " + r.name + ":" + r.meaning + ";";
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(StableHash(text)));
  return buf;
}

}  // namespace

ValueKind KindOf(const check::Type& t) {
  switch (t.kind) {
    case check::TypeKind::kInt: return ValueKind::kInt;
    case check::TypeKind::kMoney: return ValueKind::kMoney;
    case check::TypeKind::kNumber: return ValueKind::kNumber;
    case check::TypeKind::kBool: return ValueKind::kBool;
    case check::TypeKind::kText: return ValueKind::kText;
    case check::TypeKind::kTime: return ValueKind::kTime;
    case check::TypeKind::kDuration: return ValueKind::kDuration;
    case check::TypeKind::kEnum: return ValueKind::kEnum;
    case check::TypeKind::kDecimal: return ValueKind::kDecimal;
    default: return ValueKind::kUnset;
  }
}

Value ConstantValue(const check::Constant& c) {
  Value v{KindOf(c.type), c.i};
  if (v.kind == ValueKind::kNumber) v.d = c.d;
  if (v.kind == ValueKind::kText) v.text = c.text;
  if (v.kind == ValueKind::kDecimal) v.decimal = &c.exact;
  return v;
}

Program Lower(check::Program checked) {
  Program p;
  p.checked = std::move(checked);
  const check::Program& c = p.checked;
  const size_t events = c.events.size();
  p.rules_by_event.resize(events);
  p.tagged_rules.resize(c.tags.size());
  p.untagged_rules.resize(c.tags.size());
  p.becomes_rules.resize(c.profile.size());
  p.rearmed_by_event.resize(events);
  p.aggregates_by_event.resize(events);
  std::unordered_set<std::string> target_ids;
  for (size_t r = 0; r < c.rules.size(); ++r) {
    const check::Rule& rule = c.rules[r];
    const check::Trigger& t = rule.trigger;
    int32_t id = static_cast<int32_t>(r);
    switch (t.kind) {
      case check::TriggerKind::kEvent: p.rules_by_event[t.event].push_back(id); break;
      case check::TriggerKind::kAny:
        for (auto& list : p.rules_by_event) list.push_back(id);
        break;
      case check::TriggerKind::kTagged: p.tagged_rules[t.tag].push_back(id); break;
      case check::TriggerKind::kUntagged: p.untagged_rules[t.tag].push_back(id); break;
      case check::TriggerKind::kBecomes: p.becomes_rules[t.field].push_back(id); break;
      case check::TriggerKind::kMerged: p.merged_rules.push_back(id); break;
      case check::TriggerKind::kQuiet: {
        int32_t q = static_cast<int32_t>(p.quiet_rules.size());
        p.quiet_rules.push_back(id);
        for (size_t e = 0; e < events; ++e) {
          if (t.event == check::kAnyEvent || t.event == static_cast<int32_t>(e)) p.rearmed_by_event[e].push_back(q);
        }
        break;
      }
    }
    p.unless_filter.emplace_back();
    for (const check::Action& a : rule.actions) {
      p.unless_filter.back().push_back(a.unless_where == check::kNoNode ? -1 : static_cast<int32_t>(p.filters.size()));
      if (a.unless_where != check::kNoNode) p.filters.push_back(a.unless_where);
    }
    for (const check::Action& a : rule.actions) {
      bool push = a.kind == check::ActionKind::kPush || a.kind == check::ActionKind::kInvite;
      if (!push || !a.target.fixed()) continue;
      std::string key = check::TargetKey(a.kind, a.text);
      if (target_ids.insert(key).second) p.targets.push_back(std::move(key));
    }
  }
  for (size_t a = 0; a < c.aggregates.size(); ++a) {
    check::NodeId where = c.aggregates[a].where;
    p.aggregate_filter.push_back(where == check::kNoNode ? -1 : static_cast<int32_t>(p.filters.size()));
    if (where != check::kNoNode) p.filters.push_back(where);
    int32_t e = c.aggregates[a].event;
    for (size_t k = 0; k < events; ++k) {
      if (e == check::kAnyEvent || e == static_cast<int32_t>(k)) p.aggregates_by_event[k].push_back(static_cast<int32_t>(a));
    }
  }
  p.fingerprint = Fingerprint(c);
  return p;
}

}  // namespace qm::ir
