#include "compiler/ast/ast.h"

#include <cctype>
#include <cstdio>
#include <string_view>

#include "compiler/source/overload.h"

namespace qm::ast {
namespace {

// A string, quoted and escaped, so that no text inside it reads as syntax.
std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

// A tag name, quoted when written bare it would read as something else (D15:
// `tag "满 100, 送券"` is one tag, `tag 满 100, 送券` is not).
std::string TagName(std::string_view text) {
  bool plain = !text.empty();
  for (size_t i = 0; i < text.size() && plain; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      plain = std::isalnum(c) || c == '_';
    } else {  // full-width punctuation, curly quotes and the ideographic space lex apart from names
      for (std::string_view apart : {"，", "（", "）", "：", "＝", "“", "”", "\u3000"})
        plain = plain && text.compare(i, apart.size(), apart) != 0;
    }
  }
  return plain ? std::string(text) : Quoted(text);
}

// Each node appends to one string: rule texts are built for every rule
// checked (the program's fingerprint), so no temporaries per node.
void Put(std::string& out, const Literal& l) {
  if (l.kind == Literal::Kind::kString) AppendJsonString(out, l.text);
  else out += l.text;
}
void Put(std::string& out, const Value& v) {
  std::visit(Overload{[&](const Literal& l) { Put(out, l); }, [&](const Ident& i) { out += i.text; }}, v);
}
void Put(std::string& out, const Name& n) {
  if (n.profile_qualified) out += "profile.";
  else if (n.qualifier) (out += n.qualifier->text) += '.';
  out += n.name.text;
}
void Put(std::string& out, const Expr& e);
void Put(std::string& out, const Operand& o) {
  std::visit(Overload{
      [&](const Name& n) { Put(out, n); },
      [&](const Literal& l) { Put(out, l); },
      [&](const Aggregate& a) {
        ((out += Spelling(a.func)) += '(') += a.distinct ? "distinct " : "";
        out += a.event.text;
        if (a.field) (out += '.') += a.field->text;
        if (a.where) Put(out += " where ", *a.where);
        if (a.within) (out += " within ") += a.within->text;
        if (a.within_this) (out += " within this ") += NameOf(*a.within_this);
        out += ')';
      },
      [&](const Clock& c) {
        (out += NameOf(c.part)) += '(';
        Put(out, c.arg);
        out += ')';
      },
      [&](const Since& s) {
        ((out += "since(") += s.profile_qualified ? "profile." : "") += s.name ? std::string_view(s.name->text) : "any";
        out += ')';
      }}, o);
}
void Put(std::string& out, const Expr& e) {
  auto list = [&](std::string_view head, const std::vector<ExprPtr>& operands) {
    out += head;
    for (const ExprPtr& o : operands) Put(out += ' ', *o);
    out += ')';
  };
  std::visit(Overload{
      [&](const Compare& c) {
        ((out += '(') += Spelling(c.op)) += ' ';
        Put(out, *c.lhs);
        Put(out += ' ', *c.rhs);
        out += ')';
      },
      [&](const InList& l) {
        out += l.negated ? "(not-in " : "(in ";
        Put(out, *l.operand);
        for (const Value& v : l.values) Put(out += ' ', v);
        out += ')';
      },
      [&](const Contains& c) {
        Put(out += "(contains ", *c.operand);
        Put(out += ' ', c.value);
        out += ')';
      },
      [&](const Has& h) { ((out += "(has ") += TagName(h.tag.text)) += ')'; },
      [&](const BoolField& b) { Put(out += "(bool ", b.field), out += ')'; },
      [&](const Not& n) { Put(out += "(not ", *n.operand), out += ')'; },
      [&](const And& a) { list("(and", a.operands); },
      [&](const Or& a) { list("(or", a.operands); }}, e.kind);
}
template <typename T>
std::string Str(const T& node) {
  std::string s;
  Put(s, node);
  return s;
}
std::string Str(const ActionValue& v) {
  return std::visit(Overload{[](const Name& n) { return Str(n); },
                             [](const Literal& l) { return Str(l); }}, v);
}
std::string Str(const Action& a) {
  std::string s = std::visit(Overload{
      [](const SetAction& x) { return "set " + Str(x.field) + " " + Str(x.value); },
      [](const AddAction& x) { return "add " + Str(x.field) + " " + Str(x.value); },
      [](const TagAction& x) { return std::string(x.untag ? "untag " : "tag ") + TagName(x.tag.text); },
      [](const PushAction& x) {
        return std::string(x.invite ? "invite " : "push ") + (x.target_quoted ? Quoted(x.target) : x.target) +
               (x.every ? " every " + x.every->text : "");
      },
      [](const NotifyAction& x) {
        return "notify " + (x.target_quoted ? Quoted(x.target) : x.target) + " " + Quoted(x.message);
      }},
      a.action);
  if (a.after) s = "after " + a.after->text + " " + s;
  if (a.unless) s += " unless " + a.unless->text;
  if (a.unless_where) s += " where " + Str(*a.unless_where);
  return s;
}
std::string Str(const Trigger& t) {
  return std::visit(Overload{
      [](const EventTrigger& x) { return x.event.text; },
      [](const AnyTrigger&) { return std::string("any"); },
      [](const TagTrigger& x) { return std::string(x.untagged ? "untagged " : "tagged ") + TagName(x.tag.text); },
      [](const BecomesTrigger& x) { return x.field.text + " becomes " + Str(x.value); },
      [](const QuietTrigger& x) {
        return "no " + (x.event ? x.event->text : std::string("any")) + " for " + x.duration.text;
      }}, t);
}
std::string Str(const FieldDecl& f) {
  std::string s = f.name.text + ": ";
  if (f.type.name) {
    s += f.type.name->text;
  } else {
    s += "enum{";
    for (size_t i = 0; i < f.type.inline_members.size(); ++i)
      s += (i ? " " : "") + f.type.inline_members[i].text;
    s += "}";
  }
  if (f.default_value) s += " = " + Str(*f.default_value);
  if (f.merge) s += std::string(" merge ") + Spelling(*f.merge);
  return s;
}

}  // namespace

Span SpanOf(const Value& v) {
  return std::visit(Overload{[](const Literal& l) { return l.span; },
                             [](const Ident& i) { return i.span; }}, v);
}

const char* Spelling(CmpOp op) {
  switch (op) {
    case CmpOp::kEq: return "=";
    case CmpOp::kNe: return "!=";
    case CmpOp::kLt: return "<";
    case CmpOp::kLe: return "<=";
    case CmpOp::kGt: return ">";
    case CmpOp::kGe: return ">=";
  }
  return "?";
}

const char* Spelling(MergePolicy p) {
  switch (p) {
    case MergePolicy::kKeep: return "keep";
    case MergePolicy::kSum: return "sum";
    case MergePolicy::kMax: return "max";
    case MergePolicy::kMin: return "min";
  }
  return "?";
}

const char* Spelling(AggFunc f) {
  switch (f) {
    case AggFunc::kCount: return "count";
    case AggFunc::kSum: return "sum";
    case AggFunc::kMin: return "min";
    case AggFunc::kMax: return "max";
    case AggFunc::kAvg: return "avg";
  }
  return "?";
}

std::string DebugString(const RuleFile& file) {
  std::string out;
  for (const Item& item : file.items) out += DebugString(item) + "\n";
  return out;
}

std::string DebugString(const Item& item) {
    return std::visit(Overload{
        [](const EnumDecl& d) {
          std::string s = "enum " + d.name.text + " {";
          for (size_t i = 0; i < d.members.size(); ++i) s += (i ? " " : "") + d.members[i].text;
          return s + "}";
        },
        [](const EventDecl& d) {
          std::string s = "event " + d.name.text + " {";
          for (size_t i = 0; i < d.fields.size(); ++i) s += (i ? ", " : "") + Str(d.fields[i]);
          return s + "}";
        },
        [](const ProfileDecl& d) {
          std::string s = "profile {";
          for (size_t i = 0; i < d.fields.size(); ++i) s += (i ? ", " : "") + Str(d.fields[i]);
          return s + "}";
        },
        [](const TagDecl& d) { return "tag " + TagName(d.name.text) + " " + Quoted(d.description); },
        [](const ImportDecl& d) { return "import " + Quoted(d.path); },
        [](const ZoneDecl& d) { return "zone " + d.text; },
        [](const CapDecl& d) {
          std::string s = std::string("cap ") + (d.invite ? "invite " : "push ") + std::to_string(d.count) + " per " + d.per.text;
          for (size_t i = 0; i < d.targets.size(); ++i) s += (i ? ", " : " for (") + TagName(d.targets[i].first);
          return s + (d.targets.empty() ? "" : ")");
        },
        [](const QuietDecl& d) {
          static const char* kKinds[] = {"push", "invite", "notify"};
          char range[48];
          std::snprintf(range, sizeof range, "%02d:%02d-%02d:%02d", d.start_minute / 60, d.start_minute % 60,
                        d.end_minute / 60, d.end_minute % 60);
          return std::string("quiet ") + kKinds[static_cast<int>(d.kind)] + " " + range + (d.drop ? " drop" : " defer");
        },
        [](const IdentityDecl& d) {
          std::string s = "identity ";
          for (size_t i = 0; i < d.keys.size(); ++i) s += (i ? ", " : "") + d.keys[i].text;
          return s;
        },
        [](const SegmentDecl& d) {
          char at[24];
          std::snprintf(at, sizeof at, "%02d:%02d", d.at_minute / 60, d.at_minute % 60);
          return "segment " + TagName(d.name.text) + " " + Quoted(d.description) + (d.top ? " top " : " bottom ") +
                 d.percent + "% by " + Str(*d.by) + " every " + d.every.text + " at " + at;
        },
        [](const RenamedDecl& d) {
          static const char* kKinds[] = {"tag", "field", "member", "target"};
          auto side = [&](const std::optional<Ident>& e, const Ident& n) {
            return (e ? e->text + "." : std::string()) + (d.kind == RenameKind::kField ? n.text : TagName(n.text));
          };
          return std::string("renamed ") + kKinds[static_cast<int>(d.kind)] + " " + side(d.from_enum, d.from) + " -> " +
                 side(d.to_enum, d.to);
        },
        [](const Rule& r) {
          std::string s = "rule " + (r.name ? r.name->text : std::string("_")) + ": when " + Str(r.trigger);
          if (r.condition) Put(s += " if ", *r.condition);
          s += " then ";
          for (size_t i = 0; i < r.actions.size(); ++i) s += (i ? ", " : "") + Str(r.actions[i]);
          return s;
        }}, item);
}

}  // namespace qm::ast
