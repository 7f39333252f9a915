// Declarations and literal constants: events, enums, the profile, tags; values as types.
#include "compiler/check/internal/checker.h"

#include <cmath>
#include <cstdlib>

#include "compiler/source/overload.h"

namespace qm::check_internal {

void Checker::DeclareAll() {
  std::unordered_map<std::string, std::pair<const Source*, Span>> seen_event, seen_enum, seen_tag;
  auto duplicate = [&](auto& seen, const ast::Ident& name, const Source* src) {
    auto [it, fresh] = seen.emplace(name.text, std::make_pair(src, name.span));
    if (!fresh) {
      Report<DiagKind::kDuplicateDeclaration>(src, name.span, {name.text},
             Help::Of<HelpKind::kFirstDefinedAt>({Where(it->second.first, it->second.second)}));
    }
    return !fresh;
  };
  for (const SourceItem& si : items_) {
    src_ = si.file->source;
    std::visit(Overload{
        [&](const ast::EnumDecl& d) {
          if (BuiltinType(d.name.text)) {
            Report<DiagKind::kEnumNamedAfterType>(src_, d.name.span, {d.name.text});
            return;
          }
          if (duplicate(seen_enum, d.name, src_)) return;
          int32_t id = static_cast<int32_t>(p_.enums.size());
          p_.enums.push_back(EnumInfo{d.name.text, Members(d.members), false, src_, d.name.span});
          Declare(SymbolKind::kEnum, -1, id, d.name.text, d.name.span);
          DeclareMembers(id, d.members);
        },
        [&](const ast::EventDecl& d) {
          if (duplicate(seen_event, d.name, src_)) return;
          EventInfo info{d.name.text, {}, src_, d.name.span};
          int32_t id = static_cast<int32_t>(p_.events.size());
          Declare(SymbolKind::kEvent, -1, id, d.name.text, d.name.span);
          for (const ast::FieldDecl& f : d.fields) {
            if (f.name.text == "type" || f.name.text == "customer" || f.name.text == "ts") {
              Report<DiagKind::kReservedFieldName>(src_, f.name.span, {f.name.text});
              continue;
            }
            if (FindField(info.fields, f.name.text) >= 0) {
              Report<DiagKind::kDuplicateDeclaration>(src_, f.name.span, {d.name.text + "." + f.name.text});
              continue;
            }
            if (f.default_value) {
              Report<DiagKind::kEventFieldDefault>(src_, ast::SpanOf(*f.default_value), {f.name.text});
            }
            if (f.merge) Report<DiagKind::kMergeOnEventField>(src_, f.merge_span, {f.name.text, d.name.text});
            Declare(SymbolKind::kEventField, id, static_cast<int32_t>(info.fields.size()), f.name.text, f.name.span);
            info.fields.push_back(FieldInfo{f.name.text, Type{}, std::nullopt, src_, f.name.span});
            pending_.push_back({&f, src_, id});
          }
          p_.events.push_back(std::move(info));
        },
        [&](const ast::ProfileDecl& d) {
          for (const ast::FieldDecl& f : d.fields) {
            if (f.name.text == "customer" || f.name.text == "ts") {
              Report<DiagKind::kReservedFieldName>(src_, f.name.span, {f.name.text});
              continue;
            }
            int32_t existing = FindField(p_.profile, f.name.text);
            if (existing >= 0) {
              const FieldInfo& first = p_.profile[existing];
              Report<DiagKind::kDuplicateDeclaration>(src_, f.name.span, {"profile." + f.name.text},
                     Help::Of<HelpKind::kFirstDefinedAt>({Where(first.source, first.span)}));
              continue;
            }
            Declare(SymbolKind::kProfileField, -1, static_cast<int32_t>(p_.profile.size()), f.name.text, f.name.span);
            p_.profile.push_back(FieldInfo{f.name.text, Type{}, std::nullopt, src_, f.name.span});
            pending_.push_back({&f, src_, -1});
          }
        },
        [&](const ast::TagDecl& d) {
          if (duplicate(seen_tag, d.name, src_)) return;
          Declare(SymbolKind::kTag, -1, static_cast<int32_t>(p_.tags.size()), d.name.text, d.name.span);
          p_.tags.push_back(TagInfo{d.name.text, d.description, src_, d.name.span});
        },
        [&](const ast::ImportDecl&) {},
        [&](const ast::ZoneDecl& d) {  // D1: at most one across all files
          if (zone_) {
            Report<DiagKind::kDuplicateZone>(src_, d.span, {zone_->text},
                   Help::Of<HelpKind::kFirstDefinedAt>({Where(zone_source_, zone_->span)}));
            return;
          }
          zone_ = &d;
          zone_source_ = src_;
          p_.zone_minutes = d.minutes;
        },
        [&](const ast::CapDecl& d) {  // D4
          Cap cap{d.invite ? ActionKind::kInvite : ActionKind::kPush, d.count, PositiveDuration(d.per), {}, src_, d.span};
          for (const auto& [target, span] : d.targets) {
            if (target.find_first_of("{}") != std::string::npos) {  // E5: fixed texts
              Report<DiagKind::kPlaceholderInFixedText>(src_, span, {target});
              continue;
            }
            cap.targets.push_back(target);
          }
          p_.caps.push_back(std::move(cap));
        },
        [&](const ast::QuietDecl& d) {  // D5
          ActionKind kind = d.kind == ast::QuietKind::kInvite ? ActionKind::kInvite
                            : d.kind == ast::QuietKind::kNotify ? ActionKind::kNotify : ActionKind::kPush;
          p_.quiets.push_back(Quiet{kind, d.start_minute, d.end_minute, d.drop, src_, d.span});
        },
        [&](const ast::IdentityDecl& d) {  // D11, E14: keys concatenate in file order
          for (const ast::Ident& key : d.keys) {
            auto first = std::find_if(identity_keys_.begin(), identity_keys_.end(),
                                      [&](const auto& k) { return k.first->text == key.text; });
            if (first != identity_keys_.end()) {
              Report<DiagKind::kIdentityKeyTwice>(src_, key.span, {key.text},
                     Help::Of<HelpKind::kFirstDefinedAt>({Where(first->second, first->first->span)}));
              continue;
            }
            identity_keys_.emplace_back(&key, src_);
          }
        },
        [&](const ast::SegmentDecl& d) {  // D13: a tag the engine keeps; X is checked with the rules
          if (duplicate(seen_tag, d.name, src_)) return;
          int32_t index = static_cast<int32_t>(p_.segments.size());
          Segment seg{TagId(static_cast<int32_t>(p_.tags.size())), d.top, 0, -1, PositiveDuration(d.every),
                      d.at_minute * 60000LL, src_, d.span};
          used_tags_.insert(seg.tag);  // the engine sets it
          Declare(SymbolKind::kTag, -1, static_cast<int32_t>(p_.tags.size()), d.name.text, d.name.span);
          p_.tags.push_back(TagInfo{d.name.text, d.description, src_, d.name.span, index});
          p_.segments.push_back(seg);
        },
        [&](const ast::RenamedDecl&) {},  // after the rules: CheckRenames
        [&](const ast::Rule&) {}},
        *si.item);
  }
}

std::vector<std::string> Checker::Members(const std::vector<ast::Ident>& idents) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;  // views into `idents`, which outlive this call
  for (const ast::Ident& m : idents) {
    if (!seen.insert(m.text).second) {
      Report<DiagKind::kDuplicateDeclaration>(src_, m.span, {m.text});
      continue;
    }
    out.push_back(m.text);
  }
  return out;
}

void Checker::ResolveFieldTypes() {
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
        t = Type{TypeKind::kEnum, EnumId(e)};
        used_enums_.insert(e);
        Used(SymbolKind::kEnum, -1, e, f.type.name->span);
      } else if (!poisoned_.count(tn)) {
        std::vector<std::string> names(std::begin(kBuiltinTypes), std::end(kBuiltinTypes));
        for (const EnumInfo& e : p_.enums) if (!e.is_inline) names.push_back(e.name);
        Report<DiagKind::kUnknownType>(src_, f.type.name->span, {tn}, Suggest(tn, names));
      }
    } else {
      int32_t id = static_cast<int32_t>(p_.enums.size());
      p_.enums.push_back(EnumInfo{f.name.text, Members(f.type.inline_members), true, src_, f.type.span});
      DeclareMembers(id, f.type.inline_members);
      t = Type{TypeKind::kEnum, EnumId(id)};
    }
    info.type = t;
    if (pf.event < 0 && f.default_value && t.kind != TypeKind::kError) {
      info.default_value = ValueAs(*f.default_value, t, /*in_comparison=*/false);
    }
    if (pf.event < 0 && f.merge && t.kind != TypeKind::kError) {  // D12, E15
      bool numeric = t.kind == TypeKind::kInt || t.kind == TypeKind::kMoney || t.kind == TypeKind::kNumber;
      bool ordered = numeric || t.kind == TypeKind::kTime || t.kind == TypeKind::kDuration || t.kind == TypeKind::kEnum;
      bool fits = *f.merge == ast::MergePolicy::kKeep || (*f.merge == ast::MergePolicy::kSum ? numeric : ordered);
      if (fits) info.merge = *f.merge;
      else Report<DiagKind::kMergePolicyType>(src_, f.merge_span, {ast::Spelling(*f.merge), f.name.text, p_.TypeName(t)});
    }
  }
}

std::optional<Constant> Checker::ValueAs(const ast::Value& v, Type t, bool in_comparison) {
  if (const auto* word = std::get_if<ast::Ident>(&v)) {
    if (t.kind == TypeKind::kEnum) return MemberConstant(t.enum_id, word->text, word->span);
    if (t.kind == TypeKind::kText) return Constant{t, 0, 0, word->text, {}};
    Report<DiagKind::kLiteralNotOfType>(src_, word->span, {word->text, p_.TypeName(t)});
    return std::nullopt;
  }
  return LiteralAs(std::get<ast::Literal>(v), t, in_comparison);
}

std::optional<Constant> Checker::MemberConstant(int32_t enum_id, const std::string& word, Span span) {
  int32_t m = FindMember(enum_id, word);
  if (m < 0) {
    Report<DiagKind::kUnknownMember>(src_, span, {word, p_.enums[enum_id].name},
           Suggest(word, p_.enums[enum_id].members));
    return std::nullopt;
  }
  Used(SymbolKind::kMember, enum_id, m, span);
  return Constant{Type{TypeKind::kEnum, EnumId(enum_id)}, m, 0, word, {}};
}

std::optional<Constant> Checker::LiteralAs(const ast::Literal& l, Type t, bool in_comparison) {
  auto mismatch = [&]() -> std::optional<Constant> {
    std::string shown = l.kind == ast::Literal::Kind::kString ? "\"" + l.text + "\"" : l.text;
    Report<DiagKind::kLiteralNotOfType>(src_, l.span, {shown, p_.TypeName(t)});
    return std::nullopt;
  };
  switch (l.kind) {
    case ast::Literal::Kind::kNumber: {
      std::optional<Decimal> dec = ParseDecimal(l.text);
      if (!dec) {
        Report<DiagKind::kNumberOutOfRange>(src_, l.span, {l.text}, Help::Of<HelpKind::kRangeLimits>({}));
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
          Report<DiagKind::kNumberOutOfRange>(src_, l.span, {l.text}, Help::Of<HelpKind::kRangeLimits>({}));
          return std::nullopt;
        }
        c.i = *v;
      } else if (t.kind == TypeKind::kMoney) {
        std::optional<int64_t> cents = DecimalToCents(*dec);
        if (!cents) {
          if (DecimalToCents(Decimal{dec->units / 1000000, std::max(0, dec->scale - 6)}) || dec->scale > 2) {
            Report<DiagKind::kTooManyDecimals>(src_, l.span, {l.text});
          } else {
            Report<DiagKind::kNumberOutOfRange>(src_, l.span, {l.text}, Help::Of<HelpKind::kRangeLimits>({}));
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
          Report<DiagKind::kInvalidTime>(src_, l.span, {l.text});
          return std::nullopt;
        }
        return Constant{t, *ms, 0, l.text, {}};
      }
      return mismatch();
  }
  return std::nullopt;
}

std::string Checker::LiteralSpelling(const ast::Literal& l) {
  return l.kind == ast::Literal::Kind::kString ? "\"" + l.text + "\"" : l.text;
}

}  // namespace qm::check_internal
