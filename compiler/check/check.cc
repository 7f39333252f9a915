#include "compiler/check/check.h"

#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "compiler/check/internal/lint.h"
#include "compiler/source/overload.h"

namespace qm::check {
namespace {

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const char* kBuiltinTypes[] = {"int", "number", "money", "bool", "text", "time", "duration"};

std::optional<TypeKind> BuiltinType(std::string_view name) {
  static const TypeKind kinds[] = {TypeKind::kInt, TypeKind::kNumber, TypeKind::kMoney, TypeKind::kBool,
                                   TypeKind::kText, TypeKind::kTime, TypeKind::kDuration};
  for (size_t i = 0; i < 7; ++i) if (name == kBuiltinTypes[i]) return kinds[i];
  return std::nullopt;
}

// "did you mean" over code points: the closest candidate within about half
// the name's length, so 复购客户 finds 复购 and vip finds VIP only if close.
std::optional<Help> Suggest(std::string_view name, const std::vector<std::string>& candidates) {
  std::u32string target = utf8::Decode(name);
  int best = -1;
  const std::string* choice = nullptr;
  for (const std::string& c : candidates) {
    std::u32string cand = utf8::Decode(c);
    int d = utf8::EditDistance(target, cand);
    int longest = static_cast<int>(std::max(target.size(), cand.size()));
    if (d == 0 || d > std::max(1, longest / 2) || d >= longest) continue;
    if (best < 0 || d < best) { best = d; choice = &c; }
  }
  if (choice == nullptr) return std::nullopt;
  return Help{HelpKind::kDidYouMean, {*choice}};
}

class Checker {
 public:
  Checker(const std::vector<SourceItem>& items, const std::vector<const ast::RuleFile*>& files,
          Diagnostics& diags)
      : items_(items), diags_(diags) {
    for (const ast::RuleFile* f : files) {
      for (const std::string& n : f->poisoned_names) poisoned_.insert(n);
      profile_poisoned_ |= f->profile_poisoned;
      syntax_errors_ |= f->has_syntax_errors;
    }
  }

 private:
  // ---------------------------------------------------------------- helpers
  Diagnostic& Report(DiagKind kind, const Source* src, Span span, std::vector<std::string> args = {},
                     std::optional<Help> help = std::nullopt) {
    if (InfoOf(kind).severity == Severity::kError) rule_ok_ = false;
    Diagnostic& d = diags_.Add(kind, src, span, std::move(args));
    d.help = std::move(help);
    return d;
  }

  NodeId AddNode(Node n) {
    n.source = src_;
    p_.nodes.push_back(std::move(n));
    return static_cast<NodeId>(p_.nodes.size() - 1);
  }
  NodeId ErrorNode(Span span) { return AddNode(Node{NodeKind::kConstant, Type{}, span}); }
  const Type& TypeOf(NodeId id) const { return p_.nodes[id].type; }
  bool IsError(NodeId id) const { return TypeOf(id).kind == TypeKind::kError; }

  std::vector<std::string> EventNames() const {
    std::vector<std::string> v;
    for (const EventInfo& e : p_.events) v.push_back(e.name);
    return v;
  }
  std::vector<std::string> TagNames() const {
    std::vector<std::string> v;
    for (const TagInfo& t : p_.tags) v.push_back(t.name);
    return v;
  }
  std::vector<std::string> FieldNames(const std::vector<FieldInfo>& fields) const {
    std::vector<std::string> v;
    for (const FieldInfo& f : fields) v.push_back(f.name);
    return v;
  }
  static int32_t FindField(const std::vector<FieldInfo>& fields, std::string_view name) {
    for (size_t i = 0; i < fields.size(); ++i) if (fields[i].name == name) return static_cast<int32_t>(i);
    return -1;
  }
  int32_t FindEnum(std::string_view name) const {
    for (size_t i = 0; i < p_.enums.size(); ++i)
      if (!p_.enums[i].is_inline && p_.enums[i].name == name) return static_cast<int32_t>(i);
    return -1;
  }
  int32_t FindMember(int32_t enum_id, std::string_view name) const {
    const auto& m = p_.enums[enum_id].members;
    for (size_t i = 0; i < m.size(); ++i) if (m[i] == name) return static_cast<int32_t>(i);
    return -1;
  }
  std::string Where(const Source* src, Span span) const {
    LineCol at = src->Locate(span.begin);
    return src->name() + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  }

  // ----------------------------------------------------------- declarations
  struct PendingField {
    const ast::FieldDecl* decl;
    const Source* source;
    int32_t event;  // -1: profile
  };

  void DeclareAll() {
    std::unordered_map<std::string, std::pair<const Source*, Span>> seen_event, seen_enum, seen_tag;
    auto duplicate = [&](auto& seen, const ast::Ident& name, const Source* src) {
      auto [it, fresh] = seen.emplace(name.text, std::make_pair(src, name.span));
      if (!fresh) {
        Report(DiagKind::kDuplicateDeclaration, src, name.span, {name.text},
               Help{HelpKind::kFirstDefinedAt, {Where(it->second.first, it->second.second)}});
      }
      return !fresh;
    };
    for (const SourceItem& si : items_) {
      src_ = si.file->source;
      std::visit(Overload{
          [&](const ast::EnumDecl& d) {
            if (BuiltinType(d.name.text)) {
              Report(DiagKind::kEnumNamedAfterType, src_, d.name.span, {d.name.text});
              return;
            }
            if (duplicate(seen_enum, d.name, src_)) return;
            p_.enums.push_back(EnumInfo{d.name.text, Members(d.members), false, src_, d.name.span});
          },
          [&](const ast::EventDecl& d) {
            if (duplicate(seen_event, d.name, src_)) return;
            EventInfo info{d.name.text, {}, src_, d.name.span};
            int32_t id = static_cast<int32_t>(p_.events.size());
            for (const ast::FieldDecl& f : d.fields) {
              if (f.name.text == "type" || f.name.text == "customer" || f.name.text == "ts") {
                Report(DiagKind::kReservedFieldName, src_, f.name.span, {f.name.text});
                continue;
              }
              if (FindField(info.fields, f.name.text) >= 0) {
                Report(DiagKind::kDuplicateDeclaration, src_, f.name.span, {d.name.text + "." + f.name.text});
                continue;
              }
              if (f.default_value) {
                Report(DiagKind::kEventFieldDefault, src_, ast::SpanOf(*f.default_value), {f.name.text});
              }
              info.fields.push_back(FieldInfo{f.name.text, Type{}, std::nullopt, src_, f.name.span});
              pending_.push_back({&f, src_, id});
            }
            p_.events.push_back(std::move(info));
          },
          [&](const ast::ProfileDecl& d) {
            for (const ast::FieldDecl& f : d.fields) {
              if (f.name.text == "customer" || f.name.text == "ts") {
                Report(DiagKind::kReservedFieldName, src_, f.name.span, {f.name.text});
                continue;
              }
              int32_t existing = FindField(p_.profile, f.name.text);
              if (existing >= 0) {
                const FieldInfo& first = p_.profile[existing];
                Report(DiagKind::kDuplicateDeclaration, src_, f.name.span, {"profile." + f.name.text},
                       Help{HelpKind::kFirstDefinedAt, {Where(first.source, first.span)}});
                continue;
              }
              p_.profile.push_back(FieldInfo{f.name.text, Type{}, std::nullopt, src_, f.name.span});
              pending_.push_back({&f, src_, -1});
            }
          },
          [&](const ast::TagDecl& d) {
            if (duplicate(seen_tag, d.name, src_)) return;
            p_.tags.push_back(TagInfo{d.name.text, d.description, src_, d.name.span});
          },
          [&](const ast::ImportDecl&) {},
          [&](const ast::Rule&) {}},
          *si.item);
    }
  }

  std::vector<std::string> Members(const std::vector<ast::Ident>& idents) {
    std::vector<std::string> out;
    std::unordered_set<std::string_view> seen;  // views into `idents`, which outlive this call
    for (const ast::Ident& m : idents) {
      if (!seen.insert(m.text).second) {
        Report(DiagKind::kDuplicateDeclaration, src_, m.span, {m.text});
        continue;
      }
      out.push_back(m.text);
    }
    return out;
  }

  void ResolveFieldTypes() {
    for (const PendingField& pf : pending_) {
      src_ = pf.source;
      const ast::FieldDecl& f = *pf.decl;
      FieldInfo& info = pf.event >= 0 ? p_.events[pf.event].fields[FindField(p_.events[pf.event].fields, f.name.text)]
                                      : p_.profile[FindField(p_.profile, f.name.text)];
      Type t;
      if (f.type.name) {
        const std::string& tn = f.type.name->text;
        if (auto k = BuiltinType(tn)) {
          t.kind = *k;
        } else if (int32_t e = FindEnum(tn); e >= 0) {
          t = Type{TypeKind::kEnum, e};
          used_enums_.insert(e);
        } else if (!poisoned_.count(tn)) {
          std::vector<std::string> names(std::begin(kBuiltinTypes), std::end(kBuiltinTypes));
          for (const EnumInfo& e : p_.enums) if (!e.is_inline) names.push_back(e.name);
          Report(DiagKind::kUnknownType, src_, f.type.name->span, {tn}, Suggest(tn, names));
        }
      } else {
        int32_t id = static_cast<int32_t>(p_.enums.size());
        p_.enums.push_back(EnumInfo{f.name.text, Members(f.type.inline_members), true, src_, f.type.span});
        t = Type{TypeKind::kEnum, id};
      }
      info.type = t;
      if (pf.event < 0 && f.default_value && t.kind != TypeKind::kError) {
        info.default_value = ValueAs(*f.default_value, t, /*in_comparison=*/false);
      }
    }
  }

  // ------------------------------------------------------------- constants
  // A literal or bare word as a value of type `t`; reports and returns
  // nullopt when it is not one.
  std::optional<Constant> ValueAs(const ast::Value& v, Type t, bool in_comparison) {
    if (const auto* word = std::get_if<ast::Ident>(&v)) {
      if (t.kind == TypeKind::kEnum) return MemberConstant(t.enum_id, word->text, word->span);
      if (t.kind == TypeKind::kText) return Constant{t, 0, 0, word->text, {}};
      Report(DiagKind::kLiteralNotOfType, src_, word->span, {word->text, p_.TypeName(t)});
      return std::nullopt;
    }
    return LiteralAs(std::get<ast::Literal>(v), t, in_comparison);
  }

  std::optional<Constant> MemberConstant(int32_t enum_id, const std::string& word, Span span) {
    int32_t m = FindMember(enum_id, word);
    if (m < 0) {
      Report(DiagKind::kUnknownMember, src_, span, {word, p_.enums[enum_id].name},
             Suggest(word, p_.enums[enum_id].members));
      return std::nullopt;
    }
    return Constant{Type{TypeKind::kEnum, enum_id}, m, 0, word, {}};
  }

  std::optional<Constant> LiteralAs(const ast::Literal& l, Type t, bool in_comparison) {
    auto mismatch = [&]() -> std::optional<Constant> {
      std::string shown = l.kind == ast::Literal::Kind::kString ? "\"" + l.text + "\"" : l.text;
      Report(DiagKind::kLiteralNotOfType, src_, l.span, {shown, p_.TypeName(t)});
      return std::nullopt;
    };
    switch (l.kind) {
      case ast::Literal::Kind::kNumber: {
        std::optional<Decimal> dec = ParseDecimal(l.text);
        if (!dec) {
          Report(DiagKind::kNumberOutOfRange, src_, l.span, {l.text}, Help{HelpKind::kRangeLimits, {}});
          return std::nullopt;
        }
        Constant c{t, 0, std::strtod(l.text.c_str(), nullptr), l.text, *dec};
        if (!t.IsNumeric()) return mismatch();
        if (in_comparison) {
          c.type = Type{TypeKind::kDecimal};
          return c;
        }
        if (t.kind == TypeKind::kInt) {
          std::optional<int64_t> v = l.text.find('.') == std::string::npos ? DecimalToInt(*dec) : std::nullopt;
          if (!v) {
            if (l.text.find('.') != std::string::npos) return mismatch();
            Report(DiagKind::kNumberOutOfRange, src_, l.span, {l.text}, Help{HelpKind::kRangeLimits, {}});
            return std::nullopt;
          }
          c.i = *v;
        } else if (t.kind == TypeKind::kMoney) {
          std::optional<int64_t> cents = DecimalToCents(*dec);
          if (!cents) {
            if (DecimalToCents(Decimal{dec->units / 1000000, std::max(0, dec->scale - 6)}) || dec->scale > 2) {
              Report(DiagKind::kTooManyDecimals, src_, l.span, {l.text});
            } else {
              Report(DiagKind::kNumberOutOfRange, src_, l.span, {l.text}, Help{HelpKind::kRangeLimits, {}});
            }
            return std::nullopt;
          }
          c.i = *cents;
        }
        return c;
      }
      case ast::Literal::Kind::kDuration:
        if (t.kind != TypeKind::kDuration) return mismatch();
        return Constant{t, l.duration_ms, 0, l.text, {}};
      case ast::Literal::Kind::kBool:
        if (t.kind != TypeKind::kBool) return mismatch();
        return Constant{t, l.bool_value ? 1 : 0, 0, l.text, {}};
      case ast::Literal::Kind::kString:
        if (t.kind == TypeKind::kText) return Constant{t, 0, 0, l.text, {}};
        if (t.kind == TypeKind::kEnum) return MemberConstant(t.enum_id, l.text, l.span);
        if (t.kind == TypeKind::kTime) {
          std::optional<int64_t> ms = ParseRfc3339(l.text);
          if (!ms) {
            Report(DiagKind::kInvalidTime, src_, l.span, {l.text});
            return std::nullopt;
          }
          return Constant{t, *ms, 0, l.text, {}};
        }
        return mismatch();
    }
    return std::nullopt;
  }

  // A literal with no context: its own natural type (for `5 < score` style errors).
  static std::string LiteralSpelling(const ast::Literal& l) {
    return l.kind == ast::Literal::Kind::kString ? "\"" + l.text + "\"" : l.text;
  }

  // ------------------------------------------------------------------ rules
  struct Scope {
    int32_t event = -1;             // triggering event, -1 when none
    std::string trigger_text;       // for messages: `any`, `tagged X`, ...
    bool in_where = false;
    int32_t where_event = kAnyEvent;  // the aggregated type inside `where`
  };

  void CheckRules() {
    std::unordered_map<std::string, std::pair<const Source*, Span>> names;
    for (const SourceItem& si : items_) {
      const auto* rule = std::get_if<ast::Rule>(si.item);
      if (rule == nullptr) continue;
      src_ = si.file->source;
      rule_ok_ = true;
      Rule out;
      out.source = src_;
      out.span = rule->span;
      Span name_span = rule->name ? rule->name->span : rule->when_span;
      out.name_span = name_span;
      out.trigger_span = rule->trigger_span;
      out.name = rule->name ? rule->name->text
                            : Basename(src_->name()) + ":" + std::to_string(src_->Locate(rule->when_span.begin).line);
      auto [it, fresh] = names.emplace(out.name, std::make_pair(src_, name_span));
      if (!fresh) {
        Report(DiagKind::kDuplicateRule, src_, name_span, {out.name},
               Help{HelpKind::kFirstDefinedAt, {Where(it->second.first, it->second.second)}});
      }
      Scope scope;
      out.trigger = TriggerOf(*rule, scope);
      if (rule->condition) {
        out.condition = Condition(*rule->condition, scope);
        if (const auto* o = std::get_if<ast::Or>(&rule->condition->kind)) {
          (void)o;
          if (src_->text()[rule->condition->span.begin] != '(') {
            Report(DiagKind::kTopLevelOr, src_, rule->condition->span).help = Help{HelpKind::kAddParentheses, {}};
          }
        }
      }
      for (const ast::Action& a : rule->actions) {
        if (std::optional<Action> action = ActionOf(a, scope)) out.actions.push_back(std::move(*action));
      }
      if (rule_ok_) p_.rules.push_back(std::move(out));
    }
  }

  Trigger TriggerOf(const ast::Rule& rule, Scope& scope) {
    Trigger t{TriggerKind::kAny};
    scope.trigger_text = src_->text().substr(rule.trigger_span.begin, rule.trigger_span.end - rule.trigger_span.begin);
    std::visit(Overload{
        [&](const ast::EventTrigger& e) {
          t.kind = TriggerKind::kEvent;
          t.id = ResolveEvent(e.event);
          scope.event = t.id;
        },
        [&](const ast::AnyTrigger&) { t.kind = TriggerKind::kAny; },
        [&](const ast::TagTrigger& e) {
          t.kind = e.untagged ? TriggerKind::kUntagged : TriggerKind::kTagged;
          t.id = ResolveTag(e.tag);
        },
        [&](const ast::BecomesTrigger& e) {
          t.kind = TriggerKind::kBecomes;
          t.id = p_.FindProfileField(e.field.text);
          if (t.id < 0) {
            if (profile_poisoned_) {
              rule_ok_ = false;  // already reported where the profile broke
            } else {
              Report(DiagKind::kUnknownField, src_, e.field.span, {e.field.text, "profile"},
                     Suggest(e.field.text, FieldNames(p_.profile)));
            }
            return;
          }
          used_fields_.insert(t.id);
          Type ft = p_.profile[t.id].type;
          if (ft.kind == TypeKind::kError) return;
          if (auto c = ValueAs(e.value, ft, false)) t.value = *c;
        },
        [&](const ast::QuietTrigger& e) {
          t.kind = TriggerKind::kQuiet;
          t.id = e.event ? ResolveEvent(*e.event) : kAnyEvent;
          t.duration_ms = PositiveDuration(e.duration);
        }},
        rule.trigger);
    return t;
  }

  int64_t PositiveDuration(const ast::Literal& d) {
    if (d.duration_ms <= 0) Report(DiagKind::kDurationNotPositive, src_, d.span, {d.text});
    return d.duration_ms;
  }

  int32_t ResolveEvent(const ast::Ident& name) {
    int32_t id = p_.FindEvent(name.text);
    if (id >= 0) {
      used_events_.insert(id);
    } else if (poisoned_.count(name.text)) {
      rule_ok_ = false;
    } else {
      Report(DiagKind::kUnknownEvent, src_, name.span, {name.text}, Suggest(name.text, EventNames()));
    }
    return id;
  }

  int32_t ResolveTag(const ast::Ident& name) {
    int32_t id = p_.FindTag(name.text);
    if (id >= 0) {
      used_tags_.insert(id);
    } else if (poisoned_.count(name.text)) {
      rule_ok_ = false;
    } else {
      Report(DiagKind::kUnknownTag, src_, name.span, {name.text}, Suggest(name.text, TagNames()));
    }
    return id;
  }

  NodeId FieldNode(int32_t event, int32_t field, Span span) {
    if (event >= 0) {
      return AddNode(Node{NodeKind::kEventField, p_.events[event].fields[field].type, span, nullptr,
                          CmpOp::kEq, false, event, field});
    }
    used_fields_.insert(field);
    return AddNode(Node{NodeKind::kProfileField, p_.profile[field].type, span, nullptr, CmpOp::kEq, false, field});
  }

  NodeId Builtin(const std::string& name, Span span) {
    if (name == "ts") return AddNode(Node{NodeKind::kTs, Type{TypeKind::kTime}, span});
    return AddNode(Node{NodeKind::kCustomer, Type{TypeKind::kText}, span});
  }

  // A field reference (A13, B2). Returns kNoNode when `n` is a bare word that
  // names nothing and `quiet_unknown` is set (the caller tries it as a literal).
  NodeId ResolveField(const ast::Name& n, const Scope& scope, bool quiet_unknown = false) {
    const std::string& name = n.name.text;
    if (n.profile_qualified) {
      if (scope.in_where) {
        Report(DiagKind::kNotVisibleInWhere, src_, n.span, {"profile." + name, WhereName(scope)});
        return ErrorNode(n.span);
      }
      int32_t f = p_.FindProfileField(name);
      if (f < 0) {
        if (!profile_poisoned_)
          Report(DiagKind::kUnknownField, src_, n.name.span, {name, "profile"}, Suggest(name, FieldNames(p_.profile)));
        else
          rule_ok_ = false;
        return ErrorNode(n.span);
      }
      return FieldNode(-1, f, n.span);
    }
    if (n.qualifier) {
      const std::string& q = n.qualifier->text;
      int32_t in_scope = scope.in_where ? scope.where_event : scope.event;
      int32_t e = p_.FindEvent(q);
      if (e < 0) {
        if (poisoned_.count(q)) { rule_ok_ = false; return ErrorNode(n.span); }
        Report(DiagKind::kUnknownEvent, src_, n.qualifier->span, {q}, Suggest(q, EventNames()));
        return ErrorNode(n.span);
      }
      if (e != in_scope || in_scope < 0) {
        if (scope.in_where || scope.event >= 0) {
          std::string current = scope.in_where ? WhereName(scope) : p_.events[scope.event].name;
          Report(DiagKind::kWrongQualifier, src_, n.span, {q, name, current});
        } else {
          Report(DiagKind::kQualifierWithoutEvent, src_, n.span, {q, name, scope.trigger_text});
        }
        return ErrorNode(n.span);
      }
      int32_t f = FindField(p_.events[e].fields, name);
      if (f < 0) {
        Report(DiagKind::kUnknownField, src_, n.name.span, {name, q}, Suggest(name, FieldNames(p_.events[e].fields)));
        return ErrorNode(n.span);
      }
      return FieldNode(e, f, n.span);
    }
    if (name == "ts" || name == "customer") return Builtin(name, n.span);
    if (scope.in_where) {
      if (scope.where_event >= 0) {
        int32_t f = FindField(p_.events[scope.where_event].fields, name);
        if (f >= 0) return FieldNode(scope.where_event, f, n.span);
      }
      bool elsewhere = p_.FindProfileField(name) >= 0 ||
                       (scope.event >= 0 && FindField(p_.events[scope.event].fields, name) >= 0);
      if (elsewhere) {
        Report(DiagKind::kNotVisibleInWhere, src_, n.span, {name, WhereName(scope)});
        return ErrorNode(n.span);
      }
      if (quiet_unknown) return kNoNode;
      std::vector<std::string> names = {"ts", "customer"};
      if (scope.where_event >= 0)
        for (const FieldInfo& fi : p_.events[scope.where_event].fields) names.push_back(fi.name);
      Report(DiagKind::kUnknownName, src_, n.span, {name}, Suggest(name, names));
      return ErrorNode(n.span);
    }
    int32_t ef = scope.event >= 0 ? FindField(p_.events[scope.event].fields, name) : -1;
    int32_t pf = p_.FindProfileField(name);
    if (ef >= 0 && pf >= 0) {
      used_fields_.insert(pf);
      Report(DiagKind::kAmbiguousName, src_, n.span, {name, p_.events[scope.event].name},
             Help{HelpKind::kQualifyName, {name, p_.events[scope.event].name}});
      return ErrorNode(n.span);
    }
    if (ef >= 0) return FieldNode(scope.event, ef, n.span);
    if (pf >= 0) return FieldNode(-1, pf, n.span);
    if (quiet_unknown) return kNoNode;
    if (profile_poisoned_) { rule_ok_ = false; return ErrorNode(n.span); }
    if (scope.event < 0) {
      for (const EventInfo& e : p_.events) {
        if (FindField(e.fields, name) >= 0) {
          Report(DiagKind::kNoTriggeringEvent, src_, n.span, {name, scope.trigger_text});
          return ErrorNode(n.span);
        }
      }
    }
    std::vector<std::string> names = {"ts", "customer"};
    if (scope.event >= 0) for (const FieldInfo& fi : p_.events[scope.event].fields) names.push_back(fi.name);
    for (const FieldInfo& fi : p_.profile) names.push_back(fi.name);
    Report(DiagKind::kUnknownName, src_, n.span, {name}, Suggest(name, names));
    return ErrorNode(n.span);
  }

  std::string WhereName(const Scope& scope) const {
    return scope.where_event >= 0 ? p_.events[scope.where_event].name : "any";
  }

  NodeId ConstNode(Constant c, Span span) {
    Node n{NodeKind::kConstant, c.type, span};
    n.constants.push_back(std::move(c));
    return AddNode(std::move(n));
  }

  // ------------------------------------------------------------- conditions
  NodeId Condition(const ast::Expr& e, const Scope& scope) {
    return std::visit(Overload{
        [&](const ast::Compare& c) { return CompareNode(c, e.span, scope); },
        [&](const ast::InList& l) { return InNode(l, e.span, scope); },
        [&](const ast::Contains& c) {
          NodeId lhs = LeftOperand(*c.operand, scope);
          if (IsError(lhs)) return lhs;
          if (TypeOf(lhs).kind != TypeKind::kText) {
            Report(DiagKind::kContainsNeedsText, src_, p_.nodes[lhs].span, {SpanText(p_.nodes[lhs].span), p_.TypeName(TypeOf(lhs))});
            return ErrorNode(e.span);
          }
          const auto* lit = std::get_if<ast::Literal>(&c.value);
          if (lit != nullptr && lit->kind != ast::Literal::Kind::kString) {
            Report(DiagKind::kLiteralNotOfType, src_, lit->span, {lit->text, "text"});
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
            Report(DiagKind::kNotAllowedInWhere, src_, e.span, {"has"});
            return ErrorNode(e.span);
          }
          int32_t tag = ResolveTag(h.tag);
          if (tag < 0) return ErrorNode(e.span);
          return AddNode(Node{NodeKind::kHas, Type{TypeKind::kBool}, e.span, nullptr, CmpOp::kEq, false, tag});
        },
        [&](const ast::BoolField& b) {
          NodeId f = ResolveField(b.field, scope);
          if (IsError(f)) return f;
          if (TypeOf(f).kind != TypeKind::kBool) {
            Report(DiagKind::kNotABoolField, src_, b.field.span, {SpanText(b.field.span), p_.TypeName(TypeOf(f))});
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

  NodeId Junction(NodeKind kind, const std::vector<ast::ExprPtr>& parts, Span span, const Scope& scope) {
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

  std::string SpanText(Span s) const { return src_->text().substr(s.begin, s.end - s.begin); }

  // The left of a comparison: a field or an aggregate (A14).
  NodeId LeftOperand(const ast::Operand& o, const Scope& scope) {
    if (const auto* lit = std::get_if<ast::Literal>(&o)) {
      Report(DiagKind::kLeftSideNotField, src_, lit->span, {LiteralSpelling(*lit)});
      return ErrorNode(lit->span);
    }
    return Operand(o, scope, std::nullopt);
  }

  // An operand; `other` is the type of the other side for a right operand.
  NodeId Operand(const ast::Operand& o, const Scope& scope, std::optional<Type> other) {
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
        [&](const ast::Since& s) -> NodeId { return SinceNode(s, scope); }},
        o);
  }

  static Span OperandSpan(const ast::Operand& o) {
    return std::visit(Overload{[](const ast::Name& n) { return n.span; },
                               [](const ast::Literal& l) { return l.span; },
                               [](const ast::Aggregate& a) { return a.span; },
                               [](const ast::Since& s) { return s.name ? s.name->span : Span{}; }}, o);
  }

  static bool Comparable(const Type& a, const Type& b) {
    if (a.IsNumeric() && b.IsNumeric()) return true;
    if (a.kind == TypeKind::kEnum || b.kind == TypeKind::kEnum) return a == b;
    return a.kind == b.kind;
  }

  NodeId CompareNode(const ast::Compare& c, Span span, const Scope& scope) {
    if (const auto* lit = std::get_if<ast::Literal>(c.lhs.get())) {
      static const char* kFlipped[] = {"=", "!=", ">", ">=", "<", "<="};
      Span rhs = OperandSpan(*c.rhs);
      std::string fixed = SpanText(rhs) + " " + kFlipped[static_cast<int>(c.op)] + " " + SpanText(lit->span);
      Report(DiagKind::kLeftSideNotField, src_, lit->span, {LiteralSpelling(*lit)},
             Help{HelpKind::kPutFieldLeft, {fixed}});
      return ErrorNode(span);
    }
    NodeId lhs = LeftOperand(*c.lhs, scope);
    if (IsError(lhs)) return ErrorNode(span);
    NodeId rhs = Operand(*c.rhs, scope, TypeOf(lhs));
    if (IsError(rhs)) return ErrorNode(span);
    Type lt = TypeOf(lhs), rt = TypeOf(rhs);
    if (!Comparable(lt, rt)) {
      Report(DiagKind::kTypeMismatch, src_, span,
             {SpanText(p_.nodes[lhs].span), p_.TypeName(lt), SpanText(p_.nodes[rhs].span), p_.TypeName(rt)});
      return ErrorNode(span);
    }
    bool ordered = c.op != ast::CmpOp::kEq && c.op != ast::CmpOp::kNe;
    if (ordered && (lt.kind == TypeKind::kText || lt.kind == TypeKind::kBool)) {
      Report(DiagKind::kOperatorNotForType, src_, span, {ast::Spelling(c.op), p_.TypeName(lt)});
      return ErrorNode(span);
    }
    Node n{NodeKind::kCompare, Type{TypeKind::kBool}, span};
    n.op = static_cast<CmpOp>(c.op);
    n.operands = {lhs, rhs};
    return AddNode(std::move(n));
  }

  NodeId InNode(const ast::InList& l, Span span, const Scope& scope) {
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

  NodeId AggregateNode(const ast::Aggregate& a, const Scope& scope) {
    Span span = a.event.span;
    if (scope.in_where) {
      Report(DiagKind::kNotAllowedInWhere, src_, span, {ast::Spelling(a.func)});
      return ErrorNode(span);
    }
    AggregateInfo info;
    info.func = static_cast<AggFunc>(a.func);
    std::string spelling = std::string(ast::Spelling(a.func)) + "(" + a.event.text;
    if (a.is_any) {
      if (a.func != ast::AggFunc::kCount) {
        Report(DiagKind::kAggregateOverAny, src_, span, {ast::Spelling(a.func), a.field ? a.field->text : ""},
               Help{HelpKind::kUseEventField, {}});
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
      info.field = FindField(ev.fields, a.field->text);
      if (info.field < 0) {
        Report(DiagKind::kUnknownField, src_, a.field->span, {a.field->text, ev.name},
               Suggest(a.field->text, FieldNames(ev.fields)));
        return ErrorNode(span);
      }
      type = ev.fields[info.field].type;
      if (type.kind == TypeKind::kError) { rule_ok_ = false; return ErrorNode(span); }
      if (type.kind != TypeKind::kInt && type.kind != TypeKind::kMoney && type.kind != TypeKind::kNumber) {
        Report(DiagKind::kAggregateNeedsNumber, src_, a.field->span,
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
    spelling += ")";
    info.spelling = spelling;
    // Equal aggregates are computed once (shared subexpressions).
    auto [it, fresh] = aggregate_ids_.emplace(spelling, static_cast<int32_t>(p_.aggregates.size()));
    int32_t id = it->second;
    if (fresh) p_.aggregates.push_back(std::move(info));
    return AddNode(Node{NodeKind::kAggregate, type, span, nullptr, CmpOp::kEq, false, id});
  }

  NodeId SinceNode(const ast::Since& s, const Scope& scope) {
    Span span = s.name ? s.name->span : Span{};
    if (scope.in_where) {
      Report(DiagKind::kNotAllowedInWhere, src_, span, {"since"});
      return ErrorNode(span);
    }
    Type duration{TypeKind::kDuration};
    if (!s.name) return AddNode(Node{NodeKind::kSince, duration, span, nullptr, CmpOp::kEq, false, kAnyEvent});
    const std::string& name = s.name->text;
    if (!s.profile_qualified) {
      int32_t e = p_.FindEvent(name);
      if (e >= 0) {
        used_events_.insert(e);
        return AddNode(Node{NodeKind::kSince, duration, span, nullptr, CmpOp::kEq, false, e});
      }
    }
    int32_t f = p_.FindProfileField(name);
    if (f < 0) {
      if (poisoned_.count(name) || profile_poisoned_) { rule_ok_ = false; return ErrorNode(span); }
      std::vector<std::string> names = EventNames();
      for (const FieldInfo& fi : p_.profile) if (fi.type.kind == TypeKind::kTime) names.push_back(fi.name);
      if (s.profile_qualified) {
        Report(DiagKind::kUnknownField, src_, span, {name, "profile"}, Suggest(name, FieldNames(p_.profile)));
      } else {
        Report(DiagKind::kUnknownSinceName, src_, span, {name}, Suggest(name, names));
      }
      return ErrorNode(span);
    }
    used_fields_.insert(f);
    Type t = p_.profile[f].type;
    if (t.kind == TypeKind::kError) { rule_ok_ = false; return ErrorNode(span); }
    if (t.kind != TypeKind::kTime) {
      Report(DiagKind::kSinceNeedsTime, src_, span, {name, p_.TypeName(t)});
      return ErrorNode(span);
    }
    return AddNode(Node{NodeKind::kSinceField, duration, span, nullptr, CmpOp::kEq, false, f});
  }

  // ---------------------------------------------------------------- actions
  std::optional<Action> ActionOf(const ast::Action& a, const Scope& scope) {
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
          out.target = ResolveTag(t.tag);
          return out.target >= 0;
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

  // The target of set/add must be a profile field (A24, A25).
  int32_t ProfileTarget(const ast::Name& n) {
    int32_t f = p_.FindProfileField(n.name.text);
    if (n.qualifier || f < 0) {
      if (f < 0 && !n.qualifier && profile_poisoned_) { rule_ok_ = false; return -1; }
      if (n.qualifier || n.name.text == "ts" || n.name.text == "customer" || IsAnyEventField(n.name.text)) {
        Report(DiagKind::kNotAProfileField, src_, n.span, {SpanText(n.span)});
      } else {
        Report(DiagKind::kUnknownField, src_, n.name.span, {n.name.text, "profile"},
               Suggest(n.name.text, FieldNames(p_.profile)));
      }
      return -1;
    }
    used_fields_.insert(f);
    return f;
  }

  bool IsAnyEventField(const std::string& name) const {
    for (const EventInfo& e : p_.events) if (FindField(e.fields, name) >= 0) return true;
    return false;
  }

  // int -> money/number and money -> number; nothing else (A24, A25).
  static bool Assignable(const Type& to, const Type& from) {
    if (to == from) return true;
    if (from.kind == TypeKind::kInt) return to.kind == TypeKind::kMoney || to.kind == TypeKind::kNumber;
    if (from.kind == TypeKind::kMoney) return to.kind == TypeKind::kNumber;
    return false;
  }

  bool SetOrAdd(const ast::Name& target, const ast::ActionValue& value, const Scope& scope, bool add, Action& out) {
    out.kind = add ? ActionKind::kAdd : ActionKind::kSet;
    out.target = ProfileTarget(target);
    if (out.target < 0) return false;
    Type ft = p_.profile[out.target].type;
    if (ft.kind == TypeKind::kError) { rule_ok_ = false; return false; }
    if (add && ft.kind != TypeKind::kInt && ft.kind != TypeKind::kMoney && ft.kind != TypeKind::kNumber) {
      Report(DiagKind::kAddNeedsNumber, src_, target.span, {target.name.text, p_.TypeName(ft)});
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
      Report(add ? DiagKind::kCannotAdd : DiagKind::kCannotSet, src_, n.span,
             {target.name.text, p_.TypeName(ft), SpanText(n.span), p_.TypeName(from)});
      return false;
    }
    v.type = from;
    switch (node.kind) {
      case NodeKind::kEventField: v.kind = ActionValue::Kind::kEventField; v.event = node.a; v.field = node.b; break;
      case NodeKind::kProfileField: v.kind = ActionValue::Kind::kProfileField; v.field = node.a; break;
      default: v.kind = ActionValue::Kind::kTs; break;
    }
    return true;
  }

  static Span SpanOfValue(const ast::ActionValue& v) {
    return std::visit(Overload{[](const ast::Name& n) { return n.span; },
                               [](const ast::Literal& l) { return l.span; }}, v);
  }

  const std::vector<SourceItem>& items_;
  Diagnostics& diags_;
  Program p_;
  const Source* src_ = nullptr;
  bool rule_ok_ = true;
  bool profile_poisoned_ = false;
  bool syntax_errors_ = false;
  std::unordered_set<std::string> poisoned_;
  std::vector<PendingField> pending_;
  std::unordered_map<std::string, int32_t> aggregate_ids_;
  std::unordered_set<int32_t> used_events_, used_tags_, used_fields_, used_enums_;

 public:
  // Unused declarations (W0004), reported only on a clean program.
  void ReportUnused() {
    if (diags_.has_errors() || syntax_errors_) return;
    for (size_t i = 0; i < p_.events.size(); ++i)
      if (!used_events_.count(static_cast<int32_t>(i)))
        diags_.Add(DiagKind::kUnusedEvent, p_.events[i].source, p_.events[i].span, {p_.events[i].name}).help =
            Help{HelpKind::kRemoveOrUse, {}};
    for (size_t i = 0; i < p_.tags.size(); ++i)
      if (!used_tags_.count(static_cast<int32_t>(i)))
        diags_.Add(DiagKind::kUnusedTag, p_.tags[i].source, p_.tags[i].span, {p_.tags[i].name}).help =
            Help{HelpKind::kRemoveOrUse, {}};
    for (size_t i = 0; i < p_.enums.size(); ++i)
      if (!p_.enums[i].is_inline && !used_enums_.count(static_cast<int32_t>(i)))
        diags_.Add(DiagKind::kUnusedEnum, p_.enums[i].source, p_.enums[i].span, {p_.enums[i].name}).help =
            Help{HelpKind::kRemoveOrUse, {}};
    for (size_t i = 0; i < p_.profile.size(); ++i)
      if (!used_fields_.count(static_cast<int32_t>(i)))
        diags_.Add(DiagKind::kUnusedProfileField, p_.profile[i].source, p_.profile[i].span, {p_.profile[i].name})
            .help = Help{HelpKind::kRemoveOrUse, {}};
  }

  CheckResult Finish() {
    ReportUnused();
    CheckResult result;
    if (!diags_.has_errors()) result.program = std::move(p_);
    return result;
  }

  void RunPasses() {
    DeclareAll();
    ResolveFieldTypes();
    CheckRules();
    if (!diags_.has_errors()) check_internal::CheckCascadeCycles(p_, diags_);
    check_internal::RunLints(p_, diags_);
  }
};

}  // namespace

bool Constant::operator==(const Constant& o) const {
  if (type.kind == TypeKind::kDecimal || o.type.kind == TypeKind::kDecimal) {
    return type.IsNumeric() && o.type.IsNumeric() && CompareDecimal(exact, o.exact) == 0;
  }
  if (!(type == o.type)) return false;
  switch (type.kind) {
    case TypeKind::kText: return text == o.text;
    case TypeKind::kNumber: return d == o.d;
    default: return i == o.i;
  }
}

std::string Program::TypeName(const Type& t) const {
  switch (t.kind) {
    case TypeKind::kError: return "?";
    case TypeKind::kInt: return "int";
    case TypeKind::kNumber: return "number";
    case TypeKind::kMoney: return "money";
    case TypeKind::kBool: return "bool";
    case TypeKind::kText: return "text";
    case TypeKind::kTime: return "time";
    case TypeKind::kDuration: return "duration";
    case TypeKind::kDecimal: return "number literal";
    case TypeKind::kEnum: {
      const EnumInfo& e = enums[t.enum_id];
      return e.is_inline ? "enum of " + e.name : e.name;
    }
  }
  return "?";
}

int32_t Program::FindEvent(std::string_view name) const {
  for (size_t i = 0; i < events.size(); ++i) if (events[i].name == name) return static_cast<int32_t>(i);
  return -1;
}
int32_t Program::FindProfileField(std::string_view name) const {
  for (size_t i = 0; i < profile.size(); ++i) if (profile[i].name == name) return static_cast<int32_t>(i);
  return -1;
}
int32_t Program::FindTag(std::string_view name) const {
  for (size_t i = 0; i < tags.size(); ++i) if (tags[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

std::string Program::Spell(const Constant& c) const {
  switch (c.type.kind) {
    case TypeKind::kMoney: return FormatMoney(c.i);
    case TypeKind::kInt: return std::to_string(c.i);
    case TypeKind::kDuration: return FormatDuration(c.i);
    case TypeKind::kBool: return c.i ? "true" : "false";
    case TypeKind::kEnum: return enums[c.type.enum_id].members[c.i];
    default: return c.text;
  }
}

CheckResult Check(const std::vector<SourceItem>& items, const std::vector<const ast::RuleFile*>& files,
                  Diagnostics& diags) {
  Checker checker(items, files, diags);
  checker.RunPasses();
  return checker.Finish();
}

}  // namespace qm::check
