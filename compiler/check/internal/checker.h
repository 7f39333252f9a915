// The checker's shared state and passes (compiler/check/*.cc): one Checker
// per compilation, its passes defined by area (declarations.cc, rules.cc,
// conditions.cc, actions.cc). Private to compiler/check.
#ifndef QM_COMPILER_CHECK_INTERNAL_CHECKER_H_
#define QM_COMPILER_CHECK_INTERNAL_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compiler/check/check.h"

namespace qm::check_internal {

// The check stage's own types, unqualified in its files.
using namespace ::qm::check;

inline constexpr const char* kBuiltinTypes[] = {"int", "number", "money", "bool", "text", "time", "duration"};

std::string Basename(const std::string& path);
// `int`, `number`, ...: a built-in type name (enums may not take these names).
std::optional<TypeKind> BuiltinType(std::string_view name);

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
  template <DiagKind K>
  Diagnostic& Report(const Source* src, Span span, DiagArgs<ArgCount(K)> args = {},
                     std::optional<Help> help = std::nullopt) {
    return Report(K, src, span, std::move(args.values), std::move(help));
  }
  Diagnostic& Report(DiagKind kind, const Source* src, Span span, std::vector<std::string> args,
                     std::optional<Help> help);

  NodeId AddNode(Node n);
  NodeId ErrorNode(Span span) { return AddNode(Node{NodeKind::kConstant, Type{}, span}); }
  const Type& TypeOf(NodeId id) const { return p_.nodes[id].type; }
  bool IsError(NodeId id) const { return TypeOf(id).kind == TypeKind::kError; }

  std::vector<std::string> EventNames() const;
  std::vector<std::string> TagNames() const;
  std::vector<std::string> FieldNames(const std::vector<FieldInfo>& fields) const;
  static int32_t FindField(const std::vector<FieldInfo>& fields, std::string_view name);
  int32_t FindEnum(std::string_view name) const;
  int32_t FindMember(int32_t enum_id, std::string_view name) const;
  std::string Where(const Source* src, Span span) const;

  // ----------------------------------------------------------- declarations
  struct PendingField {
    const ast::FieldDecl* decl;
    const Source* source;
    int32_t event;  // -1: profile
  };

  void DeclareAll();
  // D11: identity keys as declared, with where, for CheckIdentity.
  std::vector<std::pair<const ast::Ident*, const Source*>> identity_keys_;
  const ast::ZoneDecl* zone_ = nullptr;
  const Source* zone_source_ = nullptr;

  std::vector<std::string> Members(const std::vector<ast::Ident>& idents);

  void ResolveFieldTypes();

  // ------------------------------------------------------------- constants
  // A literal or bare word as a value of type `t`; reports and returns
  // nullopt when it is not one.
  std::optional<Constant> ValueAs(const ast::Value& v, Type t, bool in_comparison);

  std::optional<Constant> MemberConstant(int32_t enum_id, const std::string& word, Span span);

  std::optional<Constant> LiteralAs(const ast::Literal& l, Type t, bool in_comparison);

  // A literal with no context: its own natural type (for `5 < score` style errors).
  static std::string LiteralSpelling(const ast::Literal& l);

  // ------------------------------------------------------------------ rules
  struct Scope {
    int32_t event = -1;             // triggering event, -1 when none
    std::string trigger_text;       // for messages: `any`, `tagged X`, ...
    bool in_where = false;
    int32_t where_event = kAnyEvent;  // the aggregated type inside `where`
  };

  void CheckSegments();
  void CheckIdentity();
  void CheckRules();
  void CheckRenames();

  Trigger TriggerOf(const ast::Rule& rule, Scope& scope);

  int64_t PositiveDuration(const ast::Literal& d);

  EventId ResolveEvent(const ast::Ident& name);

  TagId ResolveTag(const ast::Ident& name);

  NodeId FieldNode(int32_t event, int32_t field, const ast::Name& n);  // event -1: a profile field

  NodeId Builtin(const std::string& name, Span span);

  // A field reference (A13, B2). Returns kNoNode when `n` is a bare word that
  // names nothing and `quiet_unknown` is set (the caller tries it as a literal).
  NodeId ResolveField(const ast::Name& n, const Scope& scope, bool quiet_unknown = false);

  std::string WhereName(const Scope& scope) const;

  NodeId ConstNode(Constant c, Span span);

  // ------------------------------------------------------------- conditions
  NodeId Condition(const ast::Expr& e, const Scope& scope);

  NodeId Junction(NodeKind kind, const std::vector<ast::ExprPtr>& parts, Span span, const Scope& scope);

  std::string SpanText(Span s) const { return src_->text().substr(s.begin, s.end - s.begin); }

  // The left of a comparison: a field or an aggregate (A14).
  NodeId LeftOperand(const ast::Operand& o, const Scope& scope);

  // An operand; `other` is the type of the other side for a right operand.
  NodeId Operand(const ast::Operand& o, const Scope& scope, std::optional<Type> other);

  static Span OperandSpan(const ast::Operand& o);

  static bool Comparable(const Type& a, const Type& b);

  NodeId CompareNode(const ast::Compare& c, Span span, const Scope& scope);

  NodeId InNode(const ast::InList& l, Span span, const Scope& scope);

  NodeId AggregateNode(const ast::Aggregate& a, const Scope& scope);

  NodeId SinceNode(const ast::Since& s, const Scope& scope);
  NodeId ClockNode(const ast::Clock& c, const Scope& scope);

  // A push/invite/notify target (D6): a bare name is that text (warned
  // about when it names a field); a string may hold placeholders.
  bool TargetOf(const std::string& text, Span span, bool quoted, const Scope& scope, Action& out);
  // A string's placeholders resolved as condition names (D6, E5).
  std::optional<Template> TemplateOf(const std::string& text, Span span, const Scope& scope);

  // ---------------------------------------------------------------- actions
  std::optional<Action> ActionOf(const ast::Action& a, const Scope& scope);

  // The target of set/add must be a profile field (A24, A25).
  int32_t ProfileTarget(const ast::Name& n);

  bool IsAnyEventField(const std::string& name) const;

  // int -> money/number and money -> number; nothing else (A24, A25).
  static bool Assignable(const Type& to, const Type& from);

  bool SetOrAdd(const ast::Name& target, const ast::ActionValue& value, const Scope& scope, bool add, Action& out);

  static Span SpanOfValue(const ast::ActionValue& v);

  // ------------------------------------------------------------ the index
  // A symbol is known by its kind, its owner (the event of an event field,
  // the enum of a member; else -1) and its index in the Program's table.
  using SymbolKey = std::tuple<SymbolKind, int32_t, int32_t>;
  void Declare(SymbolKind kind, int32_t owner, int32_t index, const std::string& name, Span span);
  void Used(SymbolKind kind, int32_t owner, int32_t index, Span span);
  void DeclareMembers(int32_t enum_id, const std::vector<ast::Ident>& members);
  void DescribeSymbols();  // types, defaults and descriptions, once they are resolved
  Index index_;
  std::map<SymbolKey, int32_t> symbol_of_;
  std::vector<SymbolKey> key_of_;  // parallel to index_.symbols

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
  void ReportUnused();

  CheckResult Finish();

  void RunPasses();
};

}  // namespace qm::check_internal

#endif  // QM_COMPILER_CHECK_INTERNAL_CHECKER_H_
