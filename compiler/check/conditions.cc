// Conditions: comparisons, lists, aggregates, since (A14-A21, C1-C6).
#include "compiler/check/internal/checker.h"

#include <cmath>
#include <cstdlib>

#include "compiler/source/overload.h"

namespace qm::check_internal {

NodeId Checker::Condition(const ast::Expr& e, const Scope& scope) {
  return std::visit(Overload{
      [&](const ast::Compare& c) { return CompareNode(c, e.span, scope); },
      [&](const ast::InList& l) { return InNode(l, e.span, scope); },
      [&](const ast::Contains& c) {
        NodeId lhs = LeftOperand(*c.operand, scope);
        if (IsError(lhs)) return lhs;
        if (TypeOf(lhs).kind != TypeKind::kText) {
          Report<DiagKind::kContainsNeedsText>(src_, p_.nodes[lhs].span, {SpanText(p_.nodes[lhs].span), p_.TypeName(TypeOf(lhs))});
          return ErrorNode(e.span);
        }
        const auto* lit = std::get_if<ast::Literal>(&c.value);
        if (lit != nullptr && lit->kind != ast::Literal::Kind::kString) {
          Report<DiagKind::kLiteralNotOfType>(src_, lit->span, {lit->text, "text"});
          return ErrorNode(e.span);
        }
        Node n{NodeKind::kContains, Type{TypeKind::kBool}, e.span};
        n.operands = {lhs};
        n.constants.push_back(Constant{Type{TypeKind::kText}, 0, 0,
                                       lit ? lit->text : std::get<ast::Ident>(c.value).text, {}});
        return AddNode(std::move(n));
      },
      [&](const ast::Has& h) {
        if (scope.in_where) {
          Report<DiagKind::kNotAllowedInWhere>(src_, e.span, {"has"});
          return ErrorNode(e.span);
        }
        TagId tag = ResolveTag(h.tag);
        if (tag < 0) return ErrorNode(e.span);
        return AddNode(Node{.kind = NodeKind::kHas, .type = Type{TypeKind::kBool}, .span = e.span, .tag = tag});
      },
      [&](const ast::BoolField& b) {
        NodeId f = ResolveField(b.field, scope);
        if (IsError(f)) return f;
        if (TypeOf(f).kind != TypeKind::kBool) {
          Report<DiagKind::kNotABoolField>(src_, b.field.span, {SpanText(b.field.span), p_.TypeName(TypeOf(f))});
          return ErrorNode(e.span);
        }
        // C6: `会员` means `会员 = true`.
        NodeId t = ConstNode(Constant{Type{TypeKind::kBool}, 1, 0, "true", {}}, b.field.span);
        Node n{NodeKind::kCompare, Type{TypeKind::kBool}, e.span};
        n.operands = {f, t};
        return AddNode(std::move(n));
      },
      [&](const ast::Not& n) {
        NodeId inner = Condition(*n.operand, scope);
        if (IsError(inner)) return inner;
        Node node{NodeKind::kNot, Type{TypeKind::kBool}, e.span};
        node.operands = {inner};
        return AddNode(std::move(node));
      },
      [&](const ast::And& a) { return Junction(NodeKind::kAnd, a.operands, e.span, scope); },
      [&](const ast::Or& o) { return Junction(NodeKind::kOr, o.operands, e.span, scope); }},
      e.kind);
}

NodeId Checker::Junction(NodeKind kind, const std::vector<ast::ExprPtr>& parts, Span span, const Scope& scope) {
  Node n{kind, Type{TypeKind::kBool}, span};
  bool error = false;
  for (const ast::ExprPtr& part : parts) {
    NodeId id = Condition(*part, scope);
    error |= IsError(id);
    n.operands.push_back(id);
  }
  if (error) return ErrorNode(span);
  return AddNode(std::move(n));
}

NodeId Checker::LeftOperand(const ast::Operand& o, const Scope& scope) {
  if (const auto* lit = std::get_if<ast::Literal>(&o)) {
    Report<DiagKind::kLeftSideNotField>(src_, lit->span, {LiteralSpelling(*lit)});
    return ErrorNode(lit->span);
  }
  return Operand(o, scope, std::nullopt);
}

NodeId Checker::Operand(const ast::Operand& o, const Scope& scope, std::optional<Type> other) {
  return std::visit(Overload{
      [&](const ast::Name& n) -> NodeId {
        if (!other) return ResolveField(n, scope);
        // Right side, A13 / B2: member of the other side's enum first.
        bool bare = !n.qualifier && !n.profile_qualified;
        if (bare && other->kind == TypeKind::kEnum && FindMember(other->enum_id, n.name.text) >= 0) {
          return ConstNode(*MemberConstant(other->enum_id, n.name.text, n.span), n.span);
        }
        if (!bare) return ResolveField(n, scope);
        NodeId f = ResolveField(n, scope, /*quiet_unknown=*/true);
        if (f != kNoNode) return f;
        if (other->kind == TypeKind::kText) return ConstNode(Constant{*other, 0, 0, n.name.text, {}}, n.span);
        if (other->kind == TypeKind::kEnum) {
          MemberConstant(other->enum_id, n.name.text, n.span);  // reports E0103
          return ErrorNode(n.span);
        }
        return ResolveField(n, scope);  // reports the unknown name
      },
      [&](const ast::Literal& l) -> NodeId {
        Type want = other ? *other : Type{};
        if (want.kind == TypeKind::kError) return ErrorNode(l.span);
        if (auto c = LiteralAs(l, want, /*in_comparison=*/true)) return ConstNode(*c, l.span);
        return ErrorNode(l.span);
      },
      [&](const ast::Aggregate& a) -> NodeId { return AggregateNode(a, scope); },
      [&](const ast::Since& s) -> NodeId { return SinceNode(s, scope); },
      [&](const ast::Clock& c) -> NodeId { return ClockNode(c, scope); }},
      o);
}

Span Checker::OperandSpan(const ast::Operand& o) {
  return std::visit(Overload{[](const ast::Name& n) { return n.span; },
                             [](const ast::Literal& l) { return l.span; },
                             [](const ast::Aggregate& a) { return a.span; },
                             [](const ast::Since& s) { return s.name ? s.name->span : Span{}; },
                             [](const ast::Clock& c) { return c.span; }}, o);
}

bool Checker::Comparable(const Type& a, const Type& b) {
  if (a.IsNumeric() && b.IsNumeric()) return true;
  if (a.kind == TypeKind::kEnum || b.kind == TypeKind::kEnum) return a == b;
  return a.kind == b.kind;
}

NodeId Checker::CompareNode(const ast::Compare& c, Span span, const Scope& scope) {
  if (const auto* lit = std::get_if<ast::Literal>(c.lhs.get())) {
    static const char* kFlipped[] = {"=", "!=", ">", ">=", "<", "<="};
    Span rhs = OperandSpan(*c.rhs);
    std::string fixed = SpanText(rhs) + " " + kFlipped[static_cast<int>(c.op)] + " " + SpanText(lit->span);
    Report<DiagKind::kLeftSideNotField>(src_, lit->span, {LiteralSpelling(*lit)},
           Help::Of<HelpKind::kPutFieldLeft>({fixed}));
    return ErrorNode(span);
  }
  NodeId lhs = LeftOperand(*c.lhs, scope);
  if (IsError(lhs)) return ErrorNode(span);
  NodeId rhs = Operand(*c.rhs, scope, TypeOf(lhs));
  if (IsError(rhs)) return ErrorNode(span);
  Type lt = TypeOf(lhs), rt = TypeOf(rhs);
  if (!Comparable(lt, rt)) {
    Report<DiagKind::kTypeMismatch>(src_, span,
           {SpanText(p_.nodes[lhs].span), p_.TypeName(lt), SpanText(p_.nodes[rhs].span), p_.TypeName(rt)});
    return ErrorNode(span);
  }
  bool ordered = c.op != ast::CmpOp::kEq && c.op != ast::CmpOp::kNe;
  if (ordered && (lt.kind == TypeKind::kText || lt.kind == TypeKind::kBool)) {
    Report<DiagKind::kOperatorNotForType>(src_, span, {ast::Spelling(c.op), p_.TypeName(lt)});
    return ErrorNode(span);
  }
  Node n{NodeKind::kCompare, Type{TypeKind::kBool}, span};
  n.op = static_cast<CmpOp>(c.op);
  n.operands = {lhs, rhs};
  return AddNode(std::move(n));
}

NodeId Checker::InNode(const ast::InList& l, Span span, const Scope& scope) {
  NodeId lhs = LeftOperand(*l.operand, scope);
  if (IsError(lhs)) return ErrorNode(span);
  Node n{NodeKind::kIn, Type{TypeKind::kBool}, span};
  n.negated = l.negated;
  n.operands = {lhs};
  bool ok = true;
  for (const ast::Value& v : l.values) {
    if (auto c = ValueAs(v, TypeOf(lhs), /*in_comparison=*/true)) n.constants.push_back(*c);
    else ok = false;
  }
  if (!ok) return ErrorNode(span);
  return AddNode(std::move(n));
}

NodeId Checker::AggregateNode(const ast::Aggregate& a, const Scope& scope) {
  Span span = a.event.span;
  if (scope.in_where) {
    Report<DiagKind::kNotAllowedInWhere>(src_, span, {ast::Spelling(a.func)});
    return ErrorNode(span);
  }
  AggregateInfo info;
  info.func = static_cast<AggFunc>(a.func);
  info.distinct = a.distinct;
  std::string spelling = std::string(ast::Spelling(a.func)) + "(" + (a.distinct ? "distinct " : "") + a.event.text;
  if (a.is_any) {
    if (a.distinct) {
      Report<DiagKind::kDistinctOverAny>(src_, span, {a.field->text}, Help::Of<HelpKind::kUseEventField>({}));
      return ErrorNode(span);
    }
    if (a.func != ast::AggFunc::kCount) {
      Report<DiagKind::kAggregateOverAny>(src_, span, {ast::Spelling(a.func), a.field ? a.field->text : ""},
             Help::Of<HelpKind::kUseEventField>({}));
      return ErrorNode(span);
    }
    info.event = kAnyEvent;
  } else {
    info.event = ResolveEvent(a.event);
    if (info.event < 0) return ErrorNode(span);
  }
  Type type{TypeKind::kInt};
  if (a.field) {
    const EventInfo& ev = p_.events[info.event];
    info.field = FieldId(FindField(ev.fields, a.field->text));
    if (info.field < 0) {
      Report<DiagKind::kUnknownField>(src_, a.field->span, {a.field->text, ev.name},
             Suggest(a.field->text, FieldNames(ev.fields)));
      return ErrorNode(span);
    }
    Used(SymbolKind::kEventField, info.event, info.field, a.field->span);
    type = ev.fields[info.field].type;
    if (type.kind == TypeKind::kError) { rule_ok_ = false; return ErrorNode(span); }
    if (a.distinct) {
      type = Type{TypeKind::kInt};  // E22: values of any type are counted
    } else if (type.kind != TypeKind::kInt && type.kind != TypeKind::kMoney && type.kind != TypeKind::kNumber) {
      Report<DiagKind::kAggregateNeedsNumber>(src_, a.field->span,
             {ast::Spelling(a.func), ev.name + "." + a.field->text, p_.TypeName(type)});
      return ErrorNode(span);
    }
    spelling += "." + a.field->text;
  }
  if (a.where) {
    Scope inner = scope;
    inner.in_where = true;
    inner.where_event = info.event;
    info.where = Condition(*a.where, inner);
    if (IsError(info.where)) return ErrorNode(span);
    spelling += " where " + SpanText(a.where->span);
  }
  if (a.within) {
    info.within_ms = PositiveDuration(*a.within);
    spelling += " within " + FormatDuration(info.within_ms);
  }
  if (a.within_this) {  // D2
    info.within_this = a.within_this;
    spelling += " within this " + std::string(NameOf(*a.within_this));
  }
  spelling += ")";
  info.spelling = spelling;
  // Equal aggregates are computed once (shared subexpressions).
  auto [it, fresh] = aggregate_ids_.emplace(spelling, static_cast<int32_t>(p_.aggregates.size()));
  AggregateId id(it->second);
  if (fresh) p_.aggregates.push_back(std::move(info));
  return AddNode(Node{.kind = NodeKind::kAggregate, .type = type, .span = span, .aggregate = id});
}

// D1, E2: `hour(X)` where X is `ts` or a time field as a condition names it
// (in a `where`, the aggregated event's own).
NodeId Checker::ClockNode(const ast::Clock& c, const Scope& scope) {
  NodeId arg = ResolveField(c.arg, scope);
  if (IsError(arg)) return ErrorNode(c.span);
  if (TypeOf(arg).kind != TypeKind::kTime) {
    Report<DiagKind::kClockNeedsTime>(src_, c.arg.span, {c.func.text, SpanText(c.arg.span), p_.TypeName(TypeOf(arg))});
    return ErrorNode(c.span);
  }
  Node n{NodeKind::kClock, Type{TypeKind::kInt}, c.span};
  n.clock = c.part;
  n.operands = {arg};
  return AddNode(std::move(n));
}

NodeId Checker::SinceNode(const ast::Since& s, const Scope& scope) {
  Span span = s.name ? s.name->span : Span{};
  if (scope.in_where) {
    Report<DiagKind::kNotAllowedInWhere>(src_, span, {"since"});
    return ErrorNode(span);
  }
  Type duration{TypeKind::kDuration};
  if (!s.name) return AddNode(Node{.kind = NodeKind::kSince, .type = duration, .span = span, .event = kAnyEvent});
  const std::string& name = s.name->text;
  if (!s.profile_qualified) {
    EventId e = p_.FindEvent(name);
    if (e >= 0) {
      used_events_.insert(e);
      Used(SymbolKind::kEvent, -1, e, span);
      return AddNode(Node{.kind = NodeKind::kSince, .type = duration, .span = span, .event = e});
    }
  }
  FieldId f = p_.FindProfileField(name);
  if (f < 0) {
    if (poisoned_.count(name) || profile_poisoned_) { rule_ok_ = false; return ErrorNode(span); }
    std::vector<std::string> names = EventNames();
    for (const FieldInfo& fi : p_.profile) if (fi.type.kind == TypeKind::kTime) names.push_back(fi.name);
    if (s.profile_qualified) {
      Report<DiagKind::kUnknownField>(src_, span, {name, "profile"}, Suggest(name, FieldNames(p_.profile)));
    } else {
      Report<DiagKind::kUnknownSinceName>(src_, span, {name}, Suggest(name, names));
    }
    return ErrorNode(span);
  }
  used_fields_.insert(f);
  Used(SymbolKind::kProfileField, -1, f, span);
  Type t = p_.profile[f].type;
  if (t.kind == TypeKind::kError) { rule_ok_ = false; return ErrorNode(span); }
  if (t.kind != TypeKind::kTime) {
    Report<DiagKind::kSinceNeedsTime>(src_, span, {name, p_.TypeName(t)});
    return ErrorNode(span);
  }
  return AddNode(Node{.kind = NodeKind::kSinceField, .type = duration, .span = span, .field = f});
}

}  // namespace qm::check_internal
