#include "compiler/check/check.h"

#include <map>
#include <optional>
#include <set>
#include <string>

#include "compiler/check/internal/checker.h"
#include "compiler/check/internal/lint.h"

namespace qm::check {

CheckResult Check(const std::vector<SourceItem>& items, const std::vector<const ast::RuleFile*>& files,
                  Diagnostics& diags) {
  check_internal::Checker checker(items, files, diags);
  checker.RunPasses();
  return checker.Finish();
}

Type AggregateInfo::ValueType(const Program& p) const {
  if (func == AggFunc::kCount) return Type{TypeKind::kInt};
  return p.events[event].fields[field].type;
}

std::string_view Spelling(ActionKind kind) {
  switch (kind) {
    case ActionKind::kSet: return "set";
    case ActionKind::kAdd: return "add";
    case ActionKind::kTag: return "tag";
    case ActionKind::kUntag: return "untag";
    case ActionKind::kPush: return "push";
    case ActionKind::kInvite: return "invite";
    case ActionKind::kNotify: return "notify";
  }
  return {};
}

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

EventId Program::FindEvent(std::string_view name) const {
  for (size_t i = 0; i < events.size(); ++i) if (events[i].name == name) return EventId(static_cast<int32_t>(i));
  return EventId();
}
FieldId Program::FindProfileField(std::string_view name) const {
  for (size_t i = 0; i < profile.size(); ++i) if (profile[i].name == name) return FieldId(static_cast<int32_t>(i));
  return FieldId();
}
TagId Program::FindTag(std::string_view name) const {
  for (size_t i = 0; i < tags.size(); ++i) if (tags[i].name == name) return TagId(static_cast<int32_t>(i));
  return TagId();
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

}  // namespace qm::check

namespace qm::check_internal {

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::optional<TypeKind> BuiltinType(std::string_view name) {
  static const TypeKind kinds[] = {TypeKind::kInt, TypeKind::kNumber, TypeKind::kMoney, TypeKind::kBool,
                                   TypeKind::kText, TypeKind::kTime, TypeKind::kDuration};
  for (size_t i = 0; i < 7; ++i) if (name == kBuiltinTypes[i]) return kinds[i];
  return std::nullopt;
}

Diagnostic& Checker::Report(DiagKind kind, const Source* src, Span span, std::vector<std::string> args, std::optional<Help> help) {
  if (InfoOf(kind).severity == Severity::kError) rule_ok_ = false;
  Diagnostic& d = diags_.Add(kind, src, span, std::move(args));
  d.help = std::move(help);
  return d;
}

NodeId Checker::AddNode(Node n) {
  n.source = src_;
  p_.nodes.push_back(std::move(n));
  return static_cast<NodeId>(p_.nodes.size() - 1);
}

std::vector<std::string> Checker::EventNames() const {
  std::vector<std::string> v;
  for (const EventInfo& e : p_.events) v.push_back(e.name);
  return v;
}

std::vector<std::string> Checker::TagNames() const {
  std::vector<std::string> v;
  for (const TagInfo& t : p_.tags) v.push_back(t.name);
  return v;
}

std::vector<std::string> Checker::FieldNames(const std::vector<FieldInfo>& fields) const {
  std::vector<std::string> v;
  for (const FieldInfo& f : fields) v.push_back(f.name);
  return v;
}

int32_t Checker::FindField(const std::vector<FieldInfo>& fields, std::string_view name) {
  for (size_t i = 0; i < fields.size(); ++i) if (fields[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

int32_t Checker::FindEnum(std::string_view name) const {
  for (size_t i = 0; i < p_.enums.size(); ++i)
    if (!p_.enums[i].is_inline && p_.enums[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

int32_t Checker::FindMember(int32_t enum_id, std::string_view name) const {
  const auto& m = p_.enums[enum_id].members;
  for (size_t i = 0; i < m.size(); ++i) if (m[i] == name) return static_cast<int32_t>(i);
  return -1;
}

std::string Checker::Where(const Source* src, Span span) const {
  LineCol at = src->Locate(span.begin);
  return src->name() + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

void Checker::ReportUnused() {
  if (diags_.has_errors() || syntax_errors_) return;
  for (size_t i = 0; i < p_.events.size(); ++i)
    if (!used_events_.count(static_cast<int32_t>(i)))
      diags_.Add<DiagKind::kUnusedEvent>(p_.events[i].source, p_.events[i].span, {p_.events[i].name}).help =
          Help::Of<HelpKind::kKeepInputEvent>({});
  for (size_t i = 0; i < p_.tags.size(); ++i)
    if (!used_tags_.count(static_cast<int32_t>(i)))
      diags_.Add<DiagKind::kUnusedTag>(p_.tags[i].source, p_.tags[i].span, {p_.tags[i].name}).help =
          Help::Of<HelpKind::kRemoveOrUse>({});
  for (size_t i = 0; i < p_.enums.size(); ++i)
    if (!p_.enums[i].is_inline && !used_enums_.count(static_cast<int32_t>(i)))
      diags_.Add<DiagKind::kUnusedEnum>(p_.enums[i].source, p_.enums[i].span, {p_.enums[i].name}).help =
          Help::Of<HelpKind::kRemoveOrUse>({});
  for (size_t i = 0; i < p_.profile.size(); ++i)
    if (!used_fields_.count(static_cast<int32_t>(i)))
      diags_.Add<DiagKind::kUnusedProfileField>(p_.profile[i].source, p_.profile[i].span, {p_.profile[i].name})
          .help = Help::Of<HelpKind::kRemoveOrUse>({});
}

CheckResult Checker::Finish() {
  ReportUnused();
  CheckResult result;
  DescribeSymbols();
  result.index = std::move(index_);
  if (!diags_.has_errors()) result.program = std::move(p_);
  return result;
}

// D14, E20: NEW exists in the sense of its kind, OLD does not, and no OLD is
// renamed twice. Targets are the fixed push/invite texts the rules write.
void Checker::CheckRenames() {
  using Kind = Rename::Kind;
  std::set<std::string> targets;
  for (const Rule& r : p_.rules)
    for (const Action& a : r.actions)
      if ((a.kind == ActionKind::kPush || a.kind == ActionKind::kInvite) && a.target.fixed()) targets.insert(a.text);
  std::map<std::pair<Kind, std::string>, std::pair<const Source*, Span>> renamed;
  for (const SourceItem& si : items_) {
    const auto* d = std::get_if<ast::RenamedDecl>(si.item);
    if (d == nullptr) continue;
    src_ = si.file->source;
    Rename r{static_cast<Kind>(d->kind), d->from_enum ? d->from_enum->text : "", d->from.text, d->to.text};
    std::string old_spelling = (r.enum_name.empty() ? "" : r.enum_name + ".") + r.from;
    bool exists = false, fine = true;
    switch (r.kind) {
      case Kind::kTag:
        if (p_.FindTag(r.to) < 0) Report<DiagKind::kRenamedTagMissing>(src_, d->to.span, {r.to}), fine = false;
        else used_tags_.insert(p_.FindTag(r.to)), Used(SymbolKind::kTag, -1, p_.FindTag(r.to), d->to.span);
        exists = p_.FindTag(r.from) >= 0;
        break;
      case Kind::kField:
        if (p_.FindProfileField(r.to) < 0) Report<DiagKind::kRenamedFieldMissing>(src_, d->to.span, {r.to}), fine = false;
        else Used(SymbolKind::kProfileField, -1, p_.FindProfileField(r.to), d->to.span);
        exists = p_.FindProfileField(r.from) >= 0;
        break;
      case Kind::kMember: {
        int32_t e = FindEnum(r.enum_name);
        if (e < 0 || p_.enums[e].is_inline) {
          Report<DiagKind::kRenamedEnumMissing>(src_, d->from_enum->span, {r.enum_name});
          fine = false;
          break;
        }
        const std::vector<std::string>& members = p_.enums[e].members;
        Used(SymbolKind::kEnum, -1, e, d->from_enum->span);
        if (d->to_enum && d->to_enum->text == r.enum_name) Used(SymbolKind::kEnum, -1, e, d->to_enum->span);
        if (std::find(members.begin(), members.end(), r.to) == members.end())
          Report<DiagKind::kRenamedMemberMissing>(src_, d->to.span, {r.to, r.enum_name}), fine = false;
        else Used(SymbolKind::kMember, e, FindMember(e, r.to), d->to.span);
        exists = std::find(members.begin(), members.end(), r.from) != members.end();
        break;
      }
      case Kind::kTarget:
        for (const ast::Ident* side : {&d->from, &d->to})
          if (side->text.find_first_of("{}") != std::string::npos) {  // E5: fixed texts
            Report<DiagKind::kPlaceholderInRenamedTarget>(src_, side->span, {side->text});
            fine = false;
          }
        if (fine && !targets.count(r.to)) Report<DiagKind::kRenamedTargetMissing>(src_, d->to.span, {r.to}), fine = false;
        exists = targets.count(r.from) > 0;
        break;
    }
    if (exists) {
      Report<DiagKind::kRenamedOldExists>(src_, d->from.span, {old_spelling});
      fine = false;
    }
    auto [it, fresh] = renamed.emplace(std::make_pair(r.kind, old_spelling), std::make_pair(src_, d->from.span));
    if (!fresh) {
      Report<DiagKind::kRenamedTwice>(src_, d->from.span, {old_spelling},
                                      Help::Of<HelpKind::kFirstDefinedAt>({Where(it->second.first, it->second.second)}));
      fine = false;
    }
    if (fine) p_.renames.push_back(std::move(r));
  }
}

namespace {

// `P` of `top P%` as millionths of a percent; nullopt unless 0 < P <= 100
// with at most six decimals.
std::optional<int64_t> ShareMicro(const std::string& text) {
  size_t dot = text.find('.');
  std::string whole = text.substr(0, dot), frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole[0] == '-' || whole.size() > 3 || frac.size() > 6) return std::nullopt;
  frac.resize(6, '0');
  int64_t micro = std::stoll(whole) * 1000000 + std::stoll(frac);
  if (micro <= 0 || micro > 100 * 1000000LL) return std::nullopt;
  return micro;
}

}  // namespace

// D13, E18: the share, and X: a profile field or an aggregate of an ordered
// type, read as a timer step reads it (no event).
void Checker::CheckSegments() {
  size_t next = 0;
  for (const SourceItem& si : items_) {
    const auto* d = std::get_if<ast::SegmentDecl>(si.item);
    if (d == nullptr) continue;
    src_ = si.file->source;
    TagId tag = p_.FindTag(d->name.text);
    while (next < p_.segments.size() && p_.segments[next].tag != tag) ++next;
    if (next == p_.segments.size()) continue;  // a duplicate name: reported by DeclareAll
    Segment& seg = p_.segments[next];
    if (std::optional<int64_t> micro = ShareMicro(d->percent)) seg.share_micro = *micro;
    else Report<DiagKind::kSegmentShare>(src_, d->percent_span, {d->percent});
    Scope scope;
    scope.trigger_text = "segment " + d->name.text;
    const ast::Operand& by = *d->by;
    const auto* name = std::get_if<ast::Name>(&by);
    bool event_field = name != nullptr && name->qualifier && !name->profile_qualified;
    if (event_field || std::holds_alternative<ast::Literal>(by) || std::holds_alternative<ast::Clock>(by)) {
      Report<DiagKind::kSegmentRankedByWhat>(src_, OperandSpan(by), {SpanText(OperandSpan(by))});
      continue;
    }
    int errors = diags_.error_count();
    NodeId x = Operand(by, scope, std::nullopt);
    if (diags_.error_count() != errors) continue;
    const Node& n = p_.nodes[x];
    if (n.kind != NodeKind::kProfileField && n.kind != NodeKind::kAggregate && n.kind != NodeKind::kSince &&
        n.kind != NodeKind::kSinceField) {
      Report<DiagKind::kSegmentRankedByWhat>(src_, OperandSpan(by), {SpanText(OperandSpan(by))});
      continue;
    }
    switch (n.type.kind) {
      case TypeKind::kInt: case TypeKind::kMoney: case TypeKind::kNumber: case TypeKind::kTime:
      case TypeKind::kDuration: case TypeKind::kEnum:
        seg.by = x;
        if (n.kind == NodeKind::kProfileField) used_fields_.insert(n.field);
        break;
      default:
        Report<DiagKind::kSegmentRankedByType>(src_, OperandSpan(by), {SpanText(OperandSpan(by)), p_.TypeName(n.type)});
    }
  }
}

// D11, E14: each key is a text field of every event type declaring it, and
// of at least one.
void Checker::CheckIdentity() {
  for (EventInfo& e : p_.events) e.keys.assign(identity_keys_.size(), FieldId());
  for (size_t k = 0; k < identity_keys_.size(); ++k) {
    const auto& [key, source] = identity_keys_[k];
    bool declared = false;
    for (size_t id = 0; id < p_.events.size(); ++id) {
      EventInfo& e = p_.events[id];
      int32_t f = FindField(e.fields, key->text);
      if (f < 0) continue;
      declared = true;
      used_events_.insert(static_cast<int32_t>(id));  // it links customers: not unused (W0004)
      const FieldInfo& field = e.fields[f];
      if (field.type.kind == TypeKind::kText) {
        e.keys[k] = FieldId(f);
      } else if (field.type.kind != TypeKind::kError) {
        Report<DiagKind::kIdentityKeyNotText>(field.source, field.span, {key->text, p_.TypeName(field.type), e.name});
      }
    }
    if (!declared && !poisoned_.count(key->text)) Report<DiagKind::kIdentityKeyUndeclared>(source, key->span, {key->text});
    p_.identity.push_back(key->text);
  }
}

void Checker::RunPasses() {
  DeclareAll();
  ResolveFieldTypes();
  CheckIdentity();
  CheckSegments();
  CheckRules();
  CheckRenames();
  if (!diags_.has_errors()) check_internal::CheckCascadeCycles(p_, diags_);
  check_internal::RunLints(p_, diags_);
}

}  // namespace qm::check_internal
