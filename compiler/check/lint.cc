#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "compiler/check/builtins.h"
#include "compiler/check/internal/lint.h"

namespace qm::check_internal {
namespace {

using namespace qm::check;

std::string TextOf(const Program& p, NodeId id) {
  const Node& n = p.nodes[id];
  return n.source->text().substr(n.span.begin, n.span.end - n.span.begin);
}

// Orders two constants of comparable types; nullopt when they do not order
// (text, bool) or are of different kinds.
std::optional<int> Order(const Constant& a, const Constant& b) {
  if (a.type.IsNumeric() && b.type.IsNumeric()) {
    auto exact = [](const Constant& c) {
      switch (c.type.kind) {
        case TypeKind::kInt: return IntToDecimal(c.i);
        case TypeKind::kMoney: return CentsToDecimal(c.i);
        default: return c.exact;
      }
    };
    if (a.type.kind == TypeKind::kNumber || b.type.kind == TypeKind::kNumber) {
      double x = a.d, y = b.d;  // literals keep their nearest double
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    return CompareDecimal(exact(a), exact(b));
  }
  if (a.type.kind != b.type.kind) return std::nullopt;
  switch (a.type.kind) {
    case TypeKind::kTime: case TypeKind::kDuration: case TypeKind::kEnum:
      return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    default: return std::nullopt;
  }
}

// One conjunct that constrains a single field to constants.
struct Constraint {
  NodeId node;
  std::string key;  // the field it constrains (or `has:tag`)
  CmpOp op = CmpOp::kEq;
  std::vector<Constant> values;  // one for comparisons; the list for `in`
  bool is_in = false;
  bool positive = true;          // has / not has
  bool or_unset = false;         // from `not (x op c)`: also holds when x is unset (A17)
  bool relation = false;         // `x op y` of two fields: key names both, `values` is empty
};

// What a comparison constrains: a field, or a value that is fixed for the
// step (aggregates and since are computed once per snapshot).
std::string FieldKey(const Program& p, const Node& n) {
  switch (n.kind) {
    case NodeKind::kProfileField: return "p" + std::to_string(n.field);
    case NodeKind::kEventField: return "e" + std::to_string(n.event) + "." + std::to_string(n.field);
    case NodeKind::kAggregate: return "a" + std::to_string(n.aggregate);
    case NodeKind::kSince: return "s" + std::to_string(n.event);
    case NodeKind::kSinceField: return "t" + std::to_string(n.field);
    case NodeKind::kClock: {  // fixed for the step as its time is: `hour(ts) > 22 and hour(ts) < 8` never holds
      const Node& time = p.nodes[n.operands[0]];
      std::string inner = time.kind == NodeKind::kTs ? "ts" : FieldKey(p, time);
      if (inner.empty()) return {};
      return "c" + std::to_string(static_cast<int>(n.clock)) + ":" + inner;
    }
    case NodeKind::kConstant: case NodeKind::kTs: case NodeKind::kCustomer: case NodeKind::kCompare:
    case NodeKind::kIn: case NodeKind::kContains: case NodeKind::kHas: case NodeKind::kNot: case NodeKind::kAnd:
    case NodeKind::kOr:
      return {};  // not a field: the step time and the customer id change with every step
  }
  return {};
}

// `a op b` as `b op' a`.
CmpOp Flip(CmpOp op) {
  switch (op) {
    case CmpOp::kLt: return CmpOp::kGt;
    case CmpOp::kLe: return CmpOp::kGe;
    case CmpOp::kGt: return CmpOp::kLt;
    case CmpOp::kGe: return CmpOp::kLe;
    default: return op;
  }
}

CmpOp Negate(CmpOp op) {
  switch (op) {
    case CmpOp::kEq: return CmpOp::kNe;
    case CmpOp::kNe: return CmpOp::kEq;
    case CmpOp::kLt: return CmpOp::kGe;
    case CmpOp::kLe: return CmpOp::kGt;
    case CmpOp::kGt: return CmpOp::kLe;
    case CmpOp::kGe: return CmpOp::kLt;
  }
  return op;
}

void Collect(const Program& p, NodeId id, std::vector<Constraint>& out) {
  const Node& n = p.nodes[id];
  if (n.kind == NodeKind::kAnd) {
    for (NodeId o : n.operands) Collect(p, o, out);
    return;
  }
  if (n.kind == NodeKind::kHas) {
    out.push_back({id, "has" + std::to_string(n.tag), CmpOp::kEq, {}, false, true});
  } else if (n.kind == NodeKind::kNot && p.nodes[n.operands[0]].kind == NodeKind::kHas) {
    out.push_back({id, "has" + std::to_string(p.nodes[n.operands[0]].tag), CmpOp::kEq, {}, false, false});
  } else if (n.kind == NodeKind::kNot && p.nodes[n.operands[0]].kind == NodeKind::kCompare &&
             p.nodes[p.nodes[n.operands[0]].operands[1]].kind == NodeKind::kConstant) {
    const Node& cmp = p.nodes[n.operands[0]];
    std::string key = FieldKey(p, p.nodes[cmp.operands[0]]);
    if (!key.empty()) {
      Constraint c{id, key, Negate(cmp.op), {p.nodes[cmp.operands[1]].constants[0]}, false, true};
      c.or_unset = true;
      out.push_back(std::move(c));
    }
  } else if (n.kind == NodeKind::kCompare && p.nodes[n.operands[1]].kind == NodeKind::kConstant) {
    std::string key = FieldKey(p, p.nodes[n.operands[0]]);
    if (!key.empty()) out.push_back({id, key, n.op, {p.nodes[n.operands[1]].constants[0]}, false, true});
  } else if (n.kind == NodeKind::kCompare) {
    // Two fields (`score >= 高档`): thresholds held in fields make rules exclusive as constants do.
    std::string a = FieldKey(p, p.nodes[n.operands[0]]), b = FieldKey(p, p.nodes[n.operands[1]]);
    if (!a.empty() && !b.empty() && a != b) {
      CmpOp op = a < b ? n.op : Flip(n.op);
      Constraint c{id, "r" + std::min(a, b) + "|" + std::max(a, b), op, {}, false, true};
      c.relation = true;
      out.push_back(std::move(c));
    }
  } else if (n.kind == NodeKind::kIn && !n.negated) {
    std::string key = FieldKey(p, p.nodes[n.operands[0]]);
    if (!key.empty()) out.push_back({id, key, CmpOp::kEq, n.constants, true, true});
  }
}

bool Equal(const Constant& a, const Constant& b) {
  if (auto o = Order(a, b)) return *o == 0;
  return a == b;
}

// True when two constraints on the same key cannot both hold.
bool Conflict(const Constraint& x, const Constraint& y) {
  if (x.key.rfind("has", 0) == 0) return x.positive != y.positive;
  if (x.relation) {  // x - y compared with 0 on both sides
    auto lower = [](CmpOp op) { return op == CmpOp::kGt || op == CmpOp::kGe; };
    auto upper = [](CmpOp op) { return op == CmpOp::kLt || op == CmpOp::kLe; };
    auto strict = [](CmpOp op) { return op == CmpOp::kGt || op == CmpOp::kLt; };
    if ((x.op == CmpOp::kEq && y.op == CmpOp::kNe) || (x.op == CmpOp::kNe && y.op == CmpOp::kEq)) return true;
    if (x.op == CmpOp::kEq) return strict(y.op);
    if (y.op == CmpOp::kEq) return strict(x.op);
    return (lower(x.op) && upper(y.op) && (strict(x.op) || strict(y.op))) ||
           (upper(x.op) && lower(y.op) && (strict(x.op) || strict(y.op)));
  }
  if (x.or_unset && y.or_unset) return false;  // both hold when the value is unset
  auto point_in = [](const Constant& c, const Constraint& k) {
    if (k.is_in) {
      for (const Constant& v : k.values) if (Equal(c, v)) return true;
      return false;
    }
    std::optional<int> o = Order(c, k.values[0]);
    if (!o) {
      if (k.op == CmpOp::kEq) return Equal(c, k.values[0]);
      if (k.op == CmpOp::kNe) return !Equal(c, k.values[0]);
      return true;
    }
    return Holds(k.op, *o);
  };
  // A set of points (equality or `in`) against the other constraint.
  auto points = [&](const Constraint& k) -> const std::vector<Constant>* {
    return (k.is_in || k.op == CmpOp::kEq) ? &k.values : nullptr;
  };
  if (const auto* px = points(x)) {
    for (const Constant& c : *px) if (point_in(c, y)) return false;
    return true;
  }
  if (const auto* py = points(y)) {
    for (const Constant& c : *py) if (point_in(c, x)) return false;
    return true;
  }
  // Two bounds: a lower against an upper one.
  auto lower = [](CmpOp op) { return op == CmpOp::kGt || op == CmpOp::kGe; };
  auto upper = [](CmpOp op) { return op == CmpOp::kLt || op == CmpOp::kLe; };
  const Constraint* lo = lower(x.op) ? &x : (lower(y.op) ? &y : nullptr);
  const Constraint* hi = upper(x.op) ? &x : (upper(y.op) ? &y : nullptr);
  if (lo == nullptr || hi == nullptr || lo == hi) return false;
  std::optional<int> o = Order(lo->values[0], hi->values[0]);
  if (!o) return false;
  return *o > 0 || (*o == 0 && (lo->op == CmpOp::kGt || hi->op == CmpOp::kLt));
}

// The first pair of constraints that cannot hold together.
// The first conflicting pair (i, j), i < j, in that order. Only constraints on
// one key can conflict, so they are grouped by key; within a key only the
// first kMaxPerKey are compared, so a 100,000-term `and` chain (A47) costs
// linear time (docs/diagnostics.md, W0001).
std::optional<std::pair<NodeId, NodeId>> FindConflict(const std::vector<Constraint>& cs) {
  constexpr size_t kMaxPerKey = 64;
  std::unordered_map<std::string_view, std::vector<size_t>> by_key;
  for (size_t i = 0; i < cs.size(); ++i) {
    std::vector<size_t>& group = by_key[cs[i].key];
    if (group.size() < kMaxPerKey) group.push_back(i);
  }
  std::optional<std::pair<size_t, size_t>> first;
  for (const auto& [key, group] : by_key) {
    for (size_t x = 0; x < group.size(); ++x) {
      if (first && group[x] > first->first) break;
      for (size_t y = x + 1; y < group.size(); ++y) {
        if (!Conflict(cs[group[x]], cs[group[y]])) continue;
        if (!first || std::make_pair(group[x], group[y]) < *first) first = std::make_pair(group[x], group[y]);
        break;
      }
    }
  }
  if (!first) return std::nullopt;
  return std::make_pair(cs[first->first].node, cs[first->second].node);
}

std::vector<Constraint> ConstraintsOf(const Program& p, const Rule& r) {
  std::vector<Constraint> out;
  if (r.condition != kNoNode) Collect(p, r.condition, out);
  return out;
}

std::string TriggerText(const Rule& r) {
  return r.source->text().substr(r.trigger_span.begin, r.trigger_span.end - r.trigger_span.begin);
}

// Can an event that triggers `a` also trigger `b` in the same step?
bool SameStep(const Trigger& a, const Trigger& b) {
  // `merged` rules run with the rules of the event that merged (D12).
  auto external = [](const Trigger& t) {
    return t.kind == TriggerKind::kEvent || t.kind == TriggerKind::kAny || t.kind == TriggerKind::kMerged;
  };
  auto every_event = [](const Trigger& t) { return t.kind == TriggerKind::kAny || t.kind == TriggerKind::kMerged; };
  if (external(a) && external(b)) return every_event(a) || every_event(b) || a.event == b.event;
  // Of one kind, the ids a kind does not use are unset on both sides.
  if (a.kind != b.kind || a.event != b.event || a.tag != b.tag || a.field != b.field) return false;
  if (a.kind == TriggerKind::kBecomes) return a.value == b.value;
  if (a.kind == TriggerKind::kQuiet) return a.duration_ms == b.duration_ms;
  return true;
}

}  // namespace

void CheckCascadeCycles(const Program& p, Diagnostics& diags) {
  const size_t n = p.rules.size();
  std::unordered_map<int32_t, std::vector<int32_t>> tagged, untagged, becomes;
  for (size_t i = 0; i < n; ++i) {
    const Trigger& t = p.rules[i].trigger;
    if (t.kind == TriggerKind::kTagged) tagged[t.tag].push_back(static_cast<int32_t>(i));
    if (t.kind == TriggerKind::kUntagged) untagged[t.tag].push_back(static_cast<int32_t>(i));
    if (t.kind == TriggerKind::kBecomes) becomes[t.field].push_back(static_cast<int32_t>(i));
  }
  // A31: the edges of the rule graph; actions inside `after` raise nothing now.
  std::vector<std::vector<int32_t>> edges(n);
  for (size_t i = 0; i < n; ++i) {
    for (const Action& a : p.rules[i].actions) {
      if (a.after_ms > 0) continue;
      auto add_all = [&](const std::vector<int32_t>* targets, const Constant* value) {
        if (targets == nullptr) return;
        for (int32_t s : *targets) {
          if (value == nullptr || p.rules[s].trigger.value == *value) edges[i].push_back(s);
        }
      };
      auto find = [](auto& m, int32_t k) -> const std::vector<int32_t>* {
        auto it = m.find(k);
        return it == m.end() ? nullptr : &it->second;
      };
      switch (a.kind) {
        case ActionKind::kTag: add_all(find(tagged, a.tag), nullptr); break;
        case ActionKind::kUntag: add_all(find(untagged, a.tag), nullptr); break;
        case ActionKind::kSet:
          add_all(find(becomes, a.field),
                  a.value.kind == ActionValue::Kind::kConstant ? &a.value.constant : nullptr);
          break;
        case ActionKind::kAdd: add_all(find(becomes, a.field), nullptr); break;
        case ActionKind::kPush: case ActionKind::kInvite: case ActionKind::kNotify: break;  // raise no trigger
      }
    }
  }
  // Tarjan's strongly connected components, iteratively.
  std::vector<int32_t> index(n, -1), low(n, 0), comp(n, -1), stack;
  std::vector<bool> on_stack(n, false);
  int32_t counter = 0, comps = 0;
  for (size_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    std::vector<std::pair<int32_t, size_t>> work = {{static_cast<int32_t>(root), 0}};
    while (!work.empty()) {
      auto& [v, next] = work.back();
      if (next == 0 && index[v] < 0) {
        index[v] = low[v] = counter++;
        stack.push_back(v);
        on_stack[v] = true;
      }
      if (next < edges[v].size()) {
        int32_t w = edges[v][next++];
        if (index[w] < 0) {
          work.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        int32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          comp[w] = comps;
        } while (w != v);
        ++comps;
      }
      int32_t done = v;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
    }
  }
  std::vector<std::vector<int32_t>> members(comps);
  for (size_t i = 0; i < n; ++i) members[comp[i]].push_back(static_cast<int32_t>(i));
  std::vector<std::vector<int32_t>> ordered;
  for (auto& m : members) {
    std::sort(m.begin(), m.end());
    int32_t first = m[0];
    bool self = std::find(edges[first].begin(), edges[first].end(), first) != edges[first].end();
    if (m.size() > 1 || self) ordered.push_back(m);
  }
  std::sort(ordered.begin(), ordered.end());
  for (const auto& m : ordered) {
    // A shortest path from the first rule back to itself, for the message.
    int32_t start = m[0];
    std::unordered_map<int32_t, int32_t> parent;
    std::vector<int32_t> queue = {start};
    int32_t last = -1;
    for (size_t q = 0; q < queue.size() && last < 0; ++q) {
      for (int32_t w : edges[queue[q]]) {
        if (comp[w] != comp[start]) continue;
        if (w == start) { last = queue[q]; break; }
        if (parent.emplace(w, queue[q]).second) queue.push_back(w);
      }
    }
    std::vector<int32_t> path;
    for (int32_t v = last; v != start; v = parent[v]) path.push_back(v);
    path.push_back(start);
    std::reverse(path.begin(), path.end());
    std::string chain;
    for (int32_t v : path) chain += "`" + p.rules[v].name + "` → ";
    chain += "`" + p.rules[start].name + "`";
    const Rule& r = p.rules[start];
    diags.Add<DiagKind::kCascadeCycle>(r.source, r.name_span, {chain}).help = Help::Of<HelpKind::kBreakCycle>({});
  }
}

// The traps of snapshot evaluation (A18) and of timers, each a warning with
// the rule that springs it (docs/diagnostics.md W0009-W0011).
void LintSnapshotTraps(const Program& p, Diagnostics& diags) {
  // Per profile field, the first rule that changes it by `add` (or a set from
  // a value that is not a constant), and the first that changes it at all.
  std::vector<int32_t> added_by(p.profile.size(), -1), changed_by(p.profile.size(), -1);
  std::vector<std::vector<int32_t>> writers(p.profile.size());
  for (size_t r = 0; r < p.rules.size(); ++r) {
    for (const Action& a : p.rules[r].actions) {
      if (a.kind != ActionKind::kAdd && a.kind != ActionKind::kSet) continue;
      if (changed_by[a.field] < 0) changed_by[a.field] = static_cast<int32_t>(r);
      writers[a.field].push_back(static_cast<int32_t>(r));
      if (a.after_ms == 0 && (a.kind == ActionKind::kAdd || a.value.kind != ActionValue::Kind::kConstant) &&
          added_by[a.field] < 0)
        added_by[a.field] = static_cast<int32_t>(r);
    }
  }
  auto external = [](const Trigger& t) { return t.kind == TriggerKind::kEvent || t.kind == TriggerKind::kAny; };
  for (size_t r = 0; r < p.rules.size(); ++r) {
    const Rule& rule = p.rules[r];
    // W0009: a threshold on a field another rule of the same event accumulates.
    if (rule.condition != kNoNode && external(rule.trigger)) {
      std::vector<NodeId> stack = {rule.condition};
      bool warned = false;
      while (!stack.empty() && !warned) {
        const Node& n = p.nodes[stack.back()];
        stack.pop_back();
        for (NodeId o : n.operands) stack.push_back(o);
        if (n.kind != NodeKind::kCompare || n.op == CmpOp::kEq || n.op == CmpOp::kNe) continue;
        for (NodeId side : n.operands) {
          const Node& f = p.nodes[side];
          if (f.kind != NodeKind::kProfileField) continue;
          for (int32_t w : writers[f.field]) {
            if (static_cast<size_t>(w) == r || !external(p.rules[w].trigger) || !SameStep(p.rules[w].trigger, rule.trigger))
              continue;
            bool accumulates = false;
            for (const Action& a : p.rules[w].actions)
              accumulates |= a.field == f.field && a.after_ms == 0 &&
                             (a.kind == ActionKind::kAdd ||
                              (a.kind == ActionKind::kSet && a.value.kind != ActionValue::Kind::kConstant));
            if (!accumulates) continue;
            std::string event = rule.trigger.kind == TriggerKind::kEvent ? p.events[rule.trigger.event].name : "order";
            std::string field = "amount";
            for (const Action& a : p.rules[w].actions)
              if (a.field == f.field && a.value.kind == ActionValue::Kind::kEventField)
                field = p.events[a.value.event].fields[a.value.field].name, event = p.events[a.value.event].name;
            diags.Add<DiagKind::kReadsStaleField>(rule.source, f.span, {p.profile[f.field].name, p.rules[w].name})
                .help = Help::Of<HelpKind::kAggregateSeesEvent>({event, field});
            warned = true;
            break;
          }
          if (warned) break;
        }
      }
    }
    // W0010: `becomes V` of a field that `add` changes by more than one step
    // at a time (adding 1 to an int passes through every value).
    if (rule.trigger.kind == TriggerKind::kBecomes) {
      for (int32_t w : writers[rule.trigger.field]) {
        bool jumps = false;
        for (const Action& a : p.rules[w].actions) {
          if (a.kind != ActionKind::kAdd || a.field != rule.trigger.field) continue;
          bool unit = a.value.kind == ActionValue::Kind::kConstant && p.profile[a.field].type.kind == TypeKind::kInt &&
                      (a.value.constant.i == 1 || a.value.constant.i == -1);
          jumps |= !unit;
        }
        if (!jumps) continue;
        std::string value = TriggerText(rule);
        value = value.substr(value.rfind(' ') + 1);
        diags.Add<DiagKind::kBecomesAfterAdd>(rule.source, rule.trigger_span,
                                              {p.profile[rule.trigger.field].name, p.rules[w].name, value})
            .help = Help::Of<HelpKind::kThresholdOnce>({p.profile[rule.trigger.field].name, value});
        break;
      }
    }
    // W0011: `when no E for D and F = V` where events other than E change F:
    // the timer runs from the customer's first event and from E only.
    if (rule.trigger.kind == TriggerKind::kQuiet && rule.condition != kNoNode && rule.trigger.event != check::kAnyEvent) {
      std::vector<NodeId> stack = {rule.condition};
      bool warned = false;
      while (!stack.empty() && !warned) {
        const Node& n = p.nodes[stack.back()];
        stack.pop_back();
        for (NodeId o : n.operands) stack.push_back(o);
        if (n.kind != NodeKind::kCompare && n.kind != NodeKind::kIn) continue;
        const Node& f = p.nodes[n.operands[0]];
        if (f.kind != NodeKind::kProfileField) continue;
        // A rule of another event that can make the test hold: one that sets F
        // to a constant the test accepts, or changes it some other way.
        auto accepts = [&](const Constant& c) {
          if (n.kind == NodeKind::kIn) {
            bool found = false;
            for (const Constant& v : n.constants) found |= Equal(c, v);
            return found != n.negated;
          }
          if (p.nodes[n.operands[1]].kind != NodeKind::kConstant) return true;
          std::optional<int> o = Order(c, p.nodes[n.operands[1]].constants[0]);
          return !o || Holds(n.op, *o);
        };
        int32_t culprit = -1;
        for (int32_t w : writers[f.field]) {
          const Trigger& t = p.rules[w].trigger;
          bool other_event = (t.kind == TriggerKind::kEvent && t.event != rule.trigger.event) || t.kind == TriggerKind::kAny;
          if (!other_event || static_cast<size_t>(w) == r) continue;
          bool can = false;
          for (const Action& a : p.rules[w].actions) {
            if (a.field != f.field || (a.kind != ActionKind::kSet && a.kind != ActionKind::kAdd)) continue;
            can |= a.kind == ActionKind::kAdd || a.value.kind != ActionValue::Kind::kConstant || accepts(a.value.constant);
          }
          if (can) {
            culprit = w;
            break;
          }
        }
        if (culprit < 0) continue;
        std::string watched = p.events[rule.trigger.event].name;
        diags.Add<DiagKind::kQuietTimerIgnoresField>(rule.source, f.span, {p.profile[f.field].name, p.rules[culprit].name, watched})
            .help = Help::Of<HelpKind::kRemindAfterChange>({p.profile[f.field].name, FormatDuration(rule.trigger.duration_ms), watched});
        warned = true;
      }
    }
  }
}

void RunLints(const Program& p, Diagnostics& diags) {
  std::vector<std::vector<Constraint>> constraints(p.rules.size());
  for (size_t i = 0; i < p.rules.size(); ++i) {
    const Rule& r = p.rules[i];
    constraints[i] = ConstraintsOf(p, r);
    if (auto conflict = FindConflict(constraints[i])) {
      const Node& second = p.nodes[conflict->second];
      diags.Add<DiagKind::kContradictoryCondition>(r.source, second.span,
                {r.name, TextOf(p, conflict->second), TextOf(p, conflict->first)});
    }
  }
  // W0002: internal triggers no action can raise.
  std::vector<bool> tag_added(p.tags.size()), tag_removed(p.tags.size());
  std::vector<bool> any_change(p.profile.size());
  std::vector<std::vector<Constant>> set_to(p.profile.size());
  for (const Segment& seg : p.segments) tag_added[seg.tag] = tag_removed[seg.tag] = true;  // D13: refreshes
  for (const Rule& r : p.rules) {
    for (const Action& a : r.actions) {
      if (a.kind == ActionKind::kTag) tag_added[a.tag] = true;
      if (a.kind == ActionKind::kUntag) tag_removed[a.tag] = true;
      if (a.kind == ActionKind::kAdd) any_change[a.field] = true;
      if (a.kind == ActionKind::kSet) {
        if (a.value.kind == ActionValue::Kind::kConstant) set_to[a.field].push_back(a.value.constant);
        else any_change[a.field] = true;
      }
    }
  }
  for (const Rule& r : p.rules) {
    const Trigger& t = r.trigger;
    bool raised = true;
    if (t.kind == TriggerKind::kTagged) raised = tag_added[t.tag];
    if (t.kind == TriggerKind::kUntagged) raised = tag_removed[t.tag];
    if (t.kind == TriggerKind::kBecomes) {
      raised = any_change[t.field] ||
               std::any_of(set_to[t.field].begin(), set_to[t.field].end(), [&](const Constant& c) { return c == t.value; });
    }
    if (!raised) diags.Add<DiagKind::kTriggerNeverRaised>(r.source, r.trigger_span, {r.name, TriggerText(r)});
  }
  // W0003: two rules of one step set one field to different constants. Rules
  // are grouped by field, and the pairs looked at are capped so a generated
  // 10,000-rule file stays fast.
  struct SetSite { size_t rule; const Action* action; };
  std::map<int32_t, std::vector<SetSite>> by_field;
  for (size_t i = 0; i < p.rules.size(); ++i)
    for (const Action& a : p.rules[i].actions)
      if (a.kind == ActionKind::kSet && a.after_ms == 0 && a.value.kind == ActionValue::Kind::kConstant)
        by_field[a.field].push_back({i, &a});
  size_t budget = 2'000'000;
  for (auto& [field, sites] : by_field) {
    for (size_t j = 0; j < sites.size() && budget > 0; ++j) {
      for (size_t i = 0; i < j && budget > 0; ++i, --budget) {
        const SetSite& x = sites[i];
        const SetSite& y = sites[j];
        if (x.rule == y.rule || x.action->value.constant == y.action->value.constant) continue;
        const Rule& rx = p.rules[x.rule];
        const Rule& ry = p.rules[y.rule];
        if (!SameStep(rx.trigger, ry.trigger)) continue;
        std::vector<Constraint> both = constraints[x.rule];
        both.insert(both.end(), constraints[y.rule].begin(), constraints[y.rule].end());
        if (FindConflict(both)) continue;
        diags.Add<DiagKind::kConflictingSet>(ry.source, y.action->span, {rx.name, ry.name, p.profile[field].name})
            .help = Help::Of<HelpKind::kRemoveOrReorder>({});
        break;  // one warning per later rule and field
      }
    }
  }
  LintSnapshotTraps(p, diags);
}

}  // namespace qm::check_internal
