// Actions: set, add, tags, pushes, after (A22-A28).
#include "compiler/check/internal/checker.h"

#include <cmath>
#include <cstdlib>

#include "compiler/source/overload.h"

namespace qm::check_internal {

std::optional<Action> Checker::ActionOf(const ast::Action& a, const Scope& scope) {
  Action out;
  out.source = src_;
  out.span = a.span;
  if (a.after) out.after_ms = PositiveDuration(*a.after);
  if (a.unless) out.unless = a.unless_any ? kAnyEvent : ResolveEvent(*a.unless);
  bool ok = std::visit(Overload{
      [&](const ast::SetAction& s) { return SetOrAdd(s.field, s.value, scope, /*add=*/false, out); },
      [&](const ast::AddAction& s) { return SetOrAdd(s.field, s.value, scope, /*add=*/true, out); },
      [&](const ast::TagAction& t) {
        out.kind = t.untag ? ActionKind::kUntag : ActionKind::kTag;
        out.tag = ResolveTag(t.tag);
        return out.tag >= 0;
      },
      [&](const ast::PushAction& p) {
        out.kind = p.invite ? ActionKind::kInvite : ActionKind::kPush;
        out.text = p.target;
        if (p.every) out.every_ms = PositiveDuration(*p.every);
        return true;
      },
      [&](const ast::NotifyAction& n) {
        out.kind = ActionKind::kNotify;
        out.text = n.target;
        out.message = n.message;
        return true;
      }},
      a.action);
  if (!ok) return std::nullopt;
  return out;
}

int32_t Checker::ProfileTarget(const ast::Name& n) {
  int32_t f = p_.FindProfileField(n.name.text);
  if (n.qualifier || f < 0) {
    if (f < 0 && !n.qualifier && profile_poisoned_) { rule_ok_ = false; return -1; }
    if (n.qualifier || n.name.text == "ts" || n.name.text == "customer" || IsAnyEventField(n.name.text)) {
      Report<DiagKind::kNotAProfileField>(src_, n.span, {SpanText(n.span)});
    } else {
      Report<DiagKind::kUnknownField>(src_, n.name.span, {n.name.text, "profile"},
             Suggest(n.name.text, FieldNames(p_.profile)));
    }
    return -1;
  }
  used_fields_.insert(f);
  return f;
}

bool Checker::IsAnyEventField(const std::string& name) const {
  for (const EventInfo& e : p_.events) if (FindField(e.fields, name) >= 0) return true;
  return false;
}

bool Checker::Assignable(const Type& to, const Type& from) {
  if (to == from) return true;
  if (from.kind == TypeKind::kInt) return to.kind == TypeKind::kMoney || to.kind == TypeKind::kNumber;
  if (from.kind == TypeKind::kMoney) return to.kind == TypeKind::kNumber;
  return false;
}

bool Checker::SetOrAdd(const ast::Name& target, const ast::ActionValue& value, const Scope& scope, bool add, Action& out) {
  out.kind = add ? ActionKind::kAdd : ActionKind::kSet;
  out.field = FieldId(ProfileTarget(target));
  if (out.field < 0) return false;
  Type ft = p_.profile[out.field].type;
  if (ft.kind == TypeKind::kError) { rule_ok_ = false; return false; }
  if (add && ft.kind != TypeKind::kInt && ft.kind != TypeKind::kMoney && ft.kind != TypeKind::kNumber) {
    Report<DiagKind::kAddNeedsNumber>(src_, target.span, {target.name.text, p_.TypeName(ft)});
    return false;
  }
  ActionValue& v = out.value;
  if (const auto* lit = std::get_if<ast::Literal>(&value)) {
    std::optional<Constant> c = LiteralAs(*lit, ft, /*in_comparison=*/false);
    if (!c) return false;
    v.kind = ActionValue::Kind::kConstant;
    v.constant = *c;
    v.type = ft;
    return true;
  }
  const ast::Name& n = std::get<ast::Name>(value);
  bool bare = !n.qualifier && !n.profile_qualified;
  if (bare && ft.kind == TypeKind::kEnum && FindMember(ft.enum_id, n.name.text) >= 0) {
    v.constant = *MemberConstant(ft.enum_id, n.name.text, n.span);
    v.type = ft;
    return true;
  }
  NodeId f = ResolveField(n, scope, /*quiet_unknown=*/bare);
  if (f == kNoNode) {
    if (ft.kind == TypeKind::kText) {
      v.constant = Constant{ft, 0, 0, n.name.text, {}};
      v.type = ft;
      return true;
    }
    if (ft.kind == TypeKind::kEnum) { MemberConstant(ft.enum_id, n.name.text, n.span); return false; }
    ResolveField(n, scope);  // reports the unknown name
    return false;
  }
  if (IsError(f)) return false;
  const Node& node = p_.nodes[f];
  Type from = node.type;
  // `customer` is not a value set/add accept (A24: literals, fields, ts).
  if (!Assignable(ft, from) || node.kind == NodeKind::kCustomer) {
    DiagArgs<4> args{target.name.text, p_.TypeName(ft), SpanText(n.span), p_.TypeName(from)};
    if (add) Report<DiagKind::kCannotAdd>(src_, n.span, std::move(args));
    else Report<DiagKind::kCannotSet>(src_, n.span, std::move(args));
    return false;
  }
  v.type = from;
  switch (node.kind) {
    case NodeKind::kEventField: v.kind = ActionValue::Kind::kEventField; v.event = node.event; v.field = node.field; break;
    case NodeKind::kProfileField: v.kind = ActionValue::Kind::kProfileField; v.field = node.field; break;
    default: v.kind = ActionValue::Kind::kTs; break;
  }
  return true;
}

Span Checker::SpanOfValue(const ast::ActionValue& v) {
  return std::visit(Overload{[](const ast::Name& n) { return n.span; },
                             [](const ast::Literal& l) { return l.span; }}, v);
}

}  // namespace qm::check_internal
