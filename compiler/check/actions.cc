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
  if (a.unless_where && (a.unless_any || out.unless >= 0)) {  // D7: as an aggregate's `where` over E (B2-B5)
    Scope inner = scope;
    inner.in_where = true;
    inner.where_event = out.unless;
    out.unless_where = Condition(*a.unless_where, inner);
    if (IsError(out.unless_where)) return std::nullopt;
  }
  bool ok = std::visit(Overload{
      [&](const ast::SetAction& s) { return SetOrAdd(s.field, s.value, scope, /*add=*/false, out); },
      [&](const ast::AddAction& s) { return SetOrAdd(s.field, s.value, scope, /*add=*/true, out); },
      [&](const ast::TagAction& t) {
        out.kind = t.untag ? ActionKind::kUntag : ActionKind::kTag;
        out.tag = ResolveTag(t.tag);
        if (out.tag >= 0 && p_.tags[out.tag].segment >= 0) {  // D13: the engine keeps a segment's members
          Report<DiagKind::kSegmentTaggedByRule>(src_, t.tag.span, {t.tag.text});
          return false;
        }
        return out.tag >= 0;
      },
      [&](const ast::PushAction& p) {
        out.kind = p.invite ? ActionKind::kInvite : ActionKind::kPush;
        if (p.every) out.every_ms = PositiveDuration(*p.every);
        return TargetOf(p.target, p.target_span, p.target_quoted, scope, out);
      },
      [&](const ast::NotifyAction& n) {
        out.kind = ActionKind::kNotify;
        out.message = n.message;
        std::optional<Template> body = TemplateOf(n.message, n.message_span, scope);
        bool target_ok = TargetOf(n.target, n.target_span, n.target_quoted, scope, out);
        if (!body) return false;
        out.body = std::move(*body);
        return target_ok;
      }},
      a.action);
  if (!ok) return std::nullopt;
  return out;
}

bool Checker::TargetOf(const std::string& text, Span span, bool quoted, const Scope& scope, Action& out) {
  out.text = text;
  if (!quoted) {
    out.target = Template{{text}, {}};
    // D6: `push 活动` where 活动 is a field sends the word, not the field's value.
    bool field = p_.FindProfileField(text) >= 0 || (scope.event >= 0 && FindField(p_.events[scope.event].fields, text) >= 0);
    if (field) Report<DiagKind::kBareTargetIsField>(src_, span, {text, "\"{" + text + "}\""});
    return true;
  }
  std::optional<Template> t = TemplateOf(text, span, scope);
  if (!t) return false;
  if (t->fixed()) out.text = t->texts[0];  // `{{` and `}}` as the braces they stand for
  out.target = std::move(*t);
  return true;
}

std::optional<Template> Checker::TemplateOf(const std::string& text, Span span, const Scope& scope) {
  // Spans point into the string when it has no escapes (its bytes are then
  // the source's), else at the whole string.
  bool exact = SpanText(span) == "\"" + text + "\"";
  auto at = [&](size_t from, size_t to) {
    return exact ? Span{span.begin + 1 + static_cast<int32_t>(from), span.begin + 1 + static_cast<int32_t>(to)} : span;
  };
  Template t;
  t.texts.emplace_back();
  bool ok = true;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {  // `{{`, `}}`
      t.texts.back() += c;
      ++i;
      continue;
    }
    if (c == '}') {
      Report<DiagKind::kStrayBrace>(src_, at(i, i + 1), {"}", "{name}", "}}"});
      ok = false;
      continue;
    }
    if (c != '{') {
      t.texts.back() += c;
      continue;
    }
    size_t close = text.find('}', i + 1);
    std::string_view inner = close == std::string::npos ? std::string_view() : std::string_view(text).substr(i + 1, close - i - 1);
    size_t dot = inner.find('.');
    bool well_formed = !inner.empty() && inner.find_first_of(" \t{") == std::string_view::npos &&
                       (dot == std::string_view::npos || (dot > 0 && dot + 1 < inner.size() && inner.find('.', dot + 1) == std::string_view::npos));
    if (!well_formed) {  // E5: any other brace is an error, so a typo is caught
      Report<DiagKind::kStrayBrace>(src_, at(i, i + 1), {"{", "{name}", "{{"});
      ok = false;
      // `{}` or `{a b}`: one mistake, one error; an unclosed `{` ends the scan.
      if (close == std::string::npos || inner.find('{') != std::string_view::npos) break;
      i = close;
      continue;
    }
    // D6: a placeholder names what a condition may name (A13).
    Span name_span = at(i + 1, close);
    ast::Name name;
    name.span = name_span;
    if (dot == std::string_view::npos) {
      name.name = ast::Ident{std::string(inner), name_span};
    } else {
      std::string q(inner.substr(0, dot));
      if (q == "profile") name.profile_qualified = true;
      else name.qualifier = ast::Ident{q, at(i + 1, i + 1 + dot)};
      name.name = ast::Ident{std::string(inner.substr(dot + 1)), at(i + 2 + dot, close)};
    }
    NodeId node = ResolveField(name, scope);
    i = close;
    if (IsError(node)) { ok = false; continue; }
    const Node& n = p_.nodes[node];
    ActionValue v;
    v.type = n.type;
    switch (n.kind) {
      case NodeKind::kEventField: v.kind = ActionValue::Kind::kEventField; v.event = n.event; v.field = n.field; break;
      case NodeKind::kProfileField: v.kind = ActionValue::Kind::kProfileField; v.field = n.field; break;
      case NodeKind::kTs: v.kind = ActionValue::Kind::kTs; break;
      default: v.kind = ActionValue::Kind::kCustomer; break;
    }
    t.values.push_back(v);
    t.texts.emplace_back();
  }
  if (!ok) return std::nullopt;
  return t;
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
  Used(SymbolKind::kProfileField, -1, f, n.name.span);
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
