// Rules: names, triggers, scopes and name resolution (A10, A12, A13).
#include "compiler/check/internal/checker.h"

#include <cmath>
#include <cstdlib>

#include "compiler/source/overload.h"

namespace qm::check_internal {

void Checker::CheckRules() {
  std::unordered_map<std::string, std::pair<const Source*, Span>> names;
  for (const SourceItem& si : items_) {
    const auto* rule = std::get_if<ast::Rule>(si.item);
    if (rule == nullptr) continue;
    src_ = si.file->source;
    rule_ok_ = true;
    Rule out;
    out.source = src_;
    out.span = rule->span;
    out.meaning = ast::DebugString(*si.item);
    Span name_span = rule->name ? rule->name->span : rule->when_span;
    out.name_span = name_span;
    out.trigger_span = rule->trigger_span;
    out.name = rule->name ? rule->name->text
                          : Basename(src_->name()) + ":" + std::to_string(src_->Locate(rule->when_span.begin).line);
    auto [it, fresh] = names.emplace(out.name, std::make_pair(src_, name_span));
    if (!fresh) {
      Report<DiagKind::kDuplicateRule>(src_, name_span, {out.name},
             Help::Of<HelpKind::kFirstDefinedAt>({Where(it->second.first, it->second.second)}));
    }
    Declare(SymbolKind::kRule, -1, static_cast<int32_t>(index_.symbols.size()), out.name, name_span);
    int32_t symbol = static_cast<int32_t>(index_.symbols.size()) - 1;
    Scope scope;
    out.trigger = TriggerOf(*rule, scope);
    index_.symbols[symbol].trigger = scope.trigger_text;
    if (rule->condition) {
      out.condition = Condition(*rule->condition, scope);
      if (const auto* o = std::get_if<ast::Or>(&rule->condition->kind)) {
        (void)o;
        if (src_->text()[rule->condition->span.begin] != '(') {
          Report<DiagKind::kTopLevelOr>(src_, rule->condition->span).help = Help::Of<HelpKind::kAddParentheses>({});
        }
      }
    }
    for (const ast::Action& a : rule->actions) {
      if (std::optional<Action> action = ActionOf(a, scope)) out.actions.push_back(std::move(*action));
    }
    if (rule_ok_) p_.rules.push_back(std::move(out));
  }
}

Trigger Checker::TriggerOf(const ast::Rule& rule, Scope& scope) {
  Trigger t{TriggerKind::kAny};
  scope.trigger_text = src_->text().substr(rule.trigger_span.begin, rule.trigger_span.end - rule.trigger_span.begin);
  std::visit(Overload{
      [&](const ast::EventTrigger& e) {
        if (e.event.text == "merged" && p_.FindEvent("merged") < 0 && !poisoned_.count("merged")) {
          t.kind = TriggerKind::kMerged;  // D12, E9: no triggering event
          return;
        }
        t.kind = TriggerKind::kEvent;
        t.event = ResolveEvent(e.event);
        scope.event = t.event;
      },
      [&](const ast::AnyTrigger&) { t.kind = TriggerKind::kAny; },
      [&](const ast::TagTrigger& e) {
        t.kind = e.untagged ? TriggerKind::kUntagged : TriggerKind::kTagged;
        t.tag = ResolveTag(e.tag);
      },
      [&](const ast::BecomesTrigger& e) {
        t.kind = TriggerKind::kBecomes;
        t.field = p_.FindProfileField(e.field.text);
        if (t.field < 0) {
          if (profile_poisoned_) {
            rule_ok_ = false;  // already reported where the profile broke
          } else {
            Report<DiagKind::kUnknownField>(src_, e.field.span, {e.field.text, "profile"},
                   Suggest(e.field.text, FieldNames(p_.profile)));
          }
          return;
        }
        used_fields_.insert(t.field);
        Used(SymbolKind::kProfileField, -1, t.field, e.field.span);
        Type ft = p_.profile[t.field].type;
        if (ft.kind == TypeKind::kError) return;
        if (auto c = ValueAs(e.value, ft, false)) t.value = *c;
      },
      [&](const ast::QuietTrigger& e) {
        t.kind = TriggerKind::kQuiet;
        t.event = e.event ? ResolveEvent(*e.event) : kAnyEvent;
        t.duration_ms = PositiveDuration(e.duration);
      }},
      rule.trigger);
  return t;
}

int64_t Checker::PositiveDuration(const ast::Literal& d) {
  if (d.duration_ms <= 0) Report<DiagKind::kDurationNotPositive>(src_, d.span, {d.text});
  return d.duration_ms;
}

EventId Checker::ResolveEvent(const ast::Ident& name) {
  EventId id = p_.FindEvent(name.text);
  if (id >= 0) {
    used_events_.insert(id);
    Used(SymbolKind::kEvent, -1, id, name.span);
  } else if (poisoned_.count(name.text)) {
    rule_ok_ = false;
  } else {
    Report<DiagKind::kUnknownEvent>(src_, name.span, {name.text}, Suggest(name.text, EventNames()));
  }
  return id;
}

TagId Checker::ResolveTag(const ast::Ident& name) {
  TagId id = p_.FindTag(name.text);
  if (id >= 0) {
    used_tags_.insert(id);
    Used(SymbolKind::kTag, -1, id, name.span);
  } else if (poisoned_.count(name.text)) {
    rule_ok_ = false;
  } else {
    Report<DiagKind::kUnknownTag>(src_, name.span, {name.text}, Suggest(name.text, TagNames()));
  }
  return id;
}

NodeId Checker::FieldNode(int32_t event, int32_t field, const ast::Name& n) {
  Span span = n.span;
  Used(event >= 0 ? SymbolKind::kEventField : SymbolKind::kProfileField, event >= 0 ? event : -1, field, n.name.span);
  if (event >= 0) {
    return AddNode(Node{.kind = NodeKind::kEventField, .type = p_.events[event].fields[field].type, .span = span,
                        .event = EventId(event), .field = FieldId(field)});
  }
  used_fields_.insert(field);
  return AddNode(
      Node{.kind = NodeKind::kProfileField, .type = p_.profile[field].type, .span = span, .field = FieldId(field)});
}

NodeId Checker::Builtin(const std::string& name, Span span) {
  if (name == "ts") return AddNode(Node{NodeKind::kTs, Type{TypeKind::kTime}, span});
  return AddNode(Node{NodeKind::kCustomer, Type{TypeKind::kText}, span});
}

NodeId Checker::ResolveField(const ast::Name& n, const Scope& scope, bool quiet_unknown) {
  const std::string& name = n.name.text;
  if (n.profile_qualified) {
    if (scope.in_where) {
      Report<DiagKind::kNotVisibleInWhere>(src_, n.span, {"profile." + name, WhereName(scope)});
      return ErrorNode(n.span);
    }
    int32_t f = p_.FindProfileField(name);
    if (f < 0) {
      if (!profile_poisoned_)
        Report<DiagKind::kUnknownField>(src_, n.name.span, {name, "profile"}, Suggest(name, FieldNames(p_.profile)));
      else
        rule_ok_ = false;
      return ErrorNode(n.span);
    }
    return FieldNode(-1, f, n);
  }
  if (n.qualifier) {
    const std::string& q = n.qualifier->text;
    int32_t in_scope = scope.in_where ? scope.where_event : scope.event;
    int32_t e = p_.FindEvent(q);
    if (e < 0) {
      if (poisoned_.count(q)) { rule_ok_ = false; return ErrorNode(n.span); }
      Report<DiagKind::kUnknownEvent>(src_, n.qualifier->span, {q}, Suggest(q, EventNames()));
      return ErrorNode(n.span);
    }
    if (e != in_scope || in_scope < 0) {
      if (scope.in_where || scope.event >= 0) {
        std::string current = scope.in_where ? WhereName(scope) : p_.events[scope.event].name;
        Report<DiagKind::kWrongQualifier>(src_, n.span, {q, name, current});
      } else {
        Report<DiagKind::kQualifierWithoutEvent>(src_, n.span, {q, name, scope.trigger_text});
      }
      return ErrorNode(n.span);
    }
    Used(SymbolKind::kEvent, -1, e, n.qualifier->span);
    int32_t f = FindField(p_.events[e].fields, name);
    if (f < 0) {
      Report<DiagKind::kUnknownField>(src_, n.name.span, {name, q}, Suggest(name, FieldNames(p_.events[e].fields)));
      return ErrorNode(n.span);
    }
    return FieldNode(e, f, n);
  }
  if (name == "ts" || name == "customer") return Builtin(name, n.span);
  if (scope.in_where) {
    if (scope.where_event >= 0) {
      int32_t f = FindField(p_.events[scope.where_event].fields, name);
      if (f >= 0) return FieldNode(scope.where_event, f, n);
    }
    bool elsewhere = p_.FindProfileField(name) >= 0 ||
                     (scope.event >= 0 && FindField(p_.events[scope.event].fields, name) >= 0);
    if (elsewhere) {
      Report<DiagKind::kNotVisibleInWhere>(src_, n.span, {name, WhereName(scope)});
      return ErrorNode(n.span);
    }
    if (quiet_unknown) return kNoNode;
    std::vector<std::string> names = {"ts", "customer"};
    if (scope.where_event >= 0)
      for (const FieldInfo& fi : p_.events[scope.where_event].fields) names.push_back(fi.name);
    Report<DiagKind::kUnknownName>(src_, n.span, {name}, Suggest(name, names));
    return ErrorNode(n.span);
  }
  int32_t ef = scope.event >= 0 ? FindField(p_.events[scope.event].fields, name) : -1;
  int32_t pf = p_.FindProfileField(name);
  if (ef >= 0 && pf >= 0) {
    used_fields_.insert(pf);
    Report<DiagKind::kAmbiguousName>(src_, n.span, {name, p_.events[scope.event].name},
           Help::Of<HelpKind::kQualifyName>({name, p_.events[scope.event].name}));
    return ErrorNode(n.span);
  }
  if (ef >= 0) return FieldNode(scope.event, ef, n);
  if (pf >= 0) return FieldNode(-1, pf, n);
  if (quiet_unknown) return kNoNode;
  if (profile_poisoned_) { rule_ok_ = false; return ErrorNode(n.span); }
  if (scope.event < 0) {
    for (const EventInfo& e : p_.events) {
      if (FindField(e.fields, name) >= 0) {
        Report<DiagKind::kNoTriggeringEvent>(src_, n.span, {name, scope.trigger_text});
        return ErrorNode(n.span);
      }
    }
  }
  std::vector<std::string> names = {"ts", "customer"};
  if (scope.event >= 0) for (const FieldInfo& fi : p_.events[scope.event].fields) names.push_back(fi.name);
  for (const FieldInfo& fi : p_.profile) names.push_back(fi.name);
  Report<DiagKind::kUnknownName>(src_, n.span, {name}, Suggest(name, names));
  return ErrorNode(n.span);
}

std::string Checker::WhereName(const Scope& scope) const {
  return scope.where_event >= 0 ? p_.events[scope.where_event].name : "any";
}

NodeId Checker::ConstNode(Constant c, Span span) {
  Node n{NodeKind::kConstant, c.type, span};
  n.constants.push_back(std::move(c));
  return AddNode(std::move(n));
}

}  // namespace qm::check_internal
