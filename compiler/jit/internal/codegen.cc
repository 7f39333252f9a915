#include "compiler/jit/internal/codegen.h"

#include <cstddef>

#include "compiler/jit/internal/llvm_includes.h"
#include "compiler/jit/internal/runtime_calls.h"

namespace qm::jit_internal {
namespace {

using check::Node;
using check::NodeId;
using check::NodeKind;

// Where Value's fields live, so generated code can read them in place.
constexpr uint64_t kValueSize = sizeof(Value);
constexpr uint64_t kKindOffset = offsetof(Value, kind);
constexpr uint64_t kIntOffset = offsetof(Value, i);
constexpr uint64_t kDoubleOffset = offsetof(Value, d);

bool IntLike(check::TypeKind k) {
  switch (k) {
    case check::TypeKind::kInt: case check::TypeKind::kMoney: case check::TypeKind::kBool:
    case check::TypeKind::kTime: case check::TypeKind::kDuration: case check::TypeKind::kEnum:
      return true;
    default:
      return false;
  }
}

class Codegen {
 public:
  Codegen(const ir::Program& program, const ConstantTable& constants, llvm::LLVMContext& context)
      : program_(program), p_(program.checked), constants_(constants), ctx_(context),
        module_(std::make_unique<llvm::Module>("qm_rules", context)), b_(context) {
    i8_ = b_.getInt8Ty();
    i32_ = b_.getInt32Ty();
    i64_ = b_.getInt64Ty();
    f64_ = b_.getDoubleTy();
    ptr_ = b_.getPtrTy();
    void_ = b_.getVoidTy();
    auto declare = [&](const char* name, llvm::Type* ret, std::vector<llvm::Type*> args) {
      return llvm::Function::Create(llvm::FunctionType::get(ret, args, false), llvm::Function::ExternalLinkage,
                                    name, module_.get());
    };
    event_field_ = declare("qm_rt_event_field", void_, {ptr_, i32_, ptr_});
    profile_field_ = declare("qm_rt_profile_field", void_, {ptr_, i32_, ptr_});
    aggregate_ = declare("qm_rt_aggregate", void_, {ptr_, i32_, ptr_});
    since_ = declare("qm_rt_since", void_, {ptr_, i32_, ptr_});
    since_field_ = declare("qm_rt_since_field", void_, {ptr_, i32_, ptr_});
    now_ = declare("qm_rt_now", void_, {ptr_, ptr_});
    customer_ = declare("qm_rt_customer", void_, {ptr_, ptr_});
    has_tag_ = declare("qm_rt_has_tag", i8_, {ptr_, i32_});
    compare_ = declare("qm_rt_compare", i32_, {ptr_, ptr_});
    in_ = declare("qm_rt_in", i32_, {ptr_, ptr_, i32_});
    contains_ = declare("qm_rt_contains", i8_, {ptr_, ptr_});
    clock_ = declare("qm_rt_clock", void_, {ptr_, i32_, i32_, ptr_});
    // What the runtime calls may touch: they read anything (the engine's
    // state) and write only through their pointer arguments, which they do
    // not keep. Saying so lets LLVM keep values in registers across calls
    // and keeps the optimizer's alias queries cheap on large rule sets.
    for (llvm::Function* f : {event_field_, profile_field_, aggregate_, since_, since_field_, now_, customer_,
                              has_tag_, compare_, in_, contains_, clock_}) {
      f->setDoesNotThrow();
      f->setWillReturn();
      f->setMemoryEffects(llvm::MemoryEffects::readOnly() | llvm::MemoryEffects::argMemOnly(llvm::ModRefInfo::ModRef));
      for (llvm::Argument& arg : f->args()) {
        if (arg.getType()->isPointerTy()) arg.addAttr(llvm::Attribute::NoCapture);
      }
    }
  }

  std::unique_ptr<llvm::Module> Build(FunctionNames& names) {
    const size_t events = p_.events.size();
    names.event_fns.assign(events, "");
    names.rule_fns.assign(p_.rules.size(), "");
    names.where_fns.assign(program_.filters.size(), "");
    for (size_t e = 0; e < events; ++e) {
      const std::vector<int32_t>& rules = program_.rules_by_event[e];
      if (rules.empty()) continue;
      std::string name = "qm_event_" + std::to_string(e);
      llvm::Function* f = Begin(name, void_, {ptr_, ptr_, ptr_});
      llvm::Value* out = f->getArg(2);
      for (size_t k = 0; k < rules.size(); ++k) {
        llvm::Value* holds = RuleHolds(rules[k]);
        b_.CreateStore(b_.CreateZExt(holds, i8_), b_.CreateConstInBoundsGEP1_64(i8_, out, k));
      }
      b_.CreateRetVoid();
      names.event_fns[e] = name;
    }
    for (size_t r = 0; r < p_.rules.size(); ++r) {
      check::TriggerKind kind = p_.rules[r].trigger.kind;
      if (kind == check::TriggerKind::kEvent || kind == check::TriggerKind::kAny) continue;
      std::string name = "qm_rule_" + std::to_string(r);
      Begin(name, i8_, {ptr_, ptr_});
      b_.CreateRet(b_.CreateZExt(RuleHolds(static_cast<int32_t>(r)), i8_));
      names.rule_fns[r] = name;
    }
    for (size_t f = 0; f < program_.filters.size(); ++f) {
      std::string name = "qm_where_" + std::to_string(f);
      Begin(name, i8_, {ptr_, ptr_});
      b_.CreateRet(b_.CreateZExt(Bool(program_.filters[f]), i8_));
      names.where_fns[f] = name;
    }
    return std::move(module_);
  }

 private:
  // Starts a function; every value it computes is cached per function, so an
  // aggregate or comparison that several rules use is computed once per step.
  llvm::Function* Begin(const std::string& name, llvm::Type* ret, std::vector<llvm::Type*> args) {
    llvm::Function* f = llvm::Function::Create(llvm::FunctionType::get(ret, args, false),
                                               llvm::Function::ExternalLinkage, name, module_.get());
    f->setDoesNotThrow();
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", f));
    view_ = f->getArg(0);
    consts_ = f->getArg(1);
    slots_.clear();
    bools_.clear();
    return f;
  }

  llvm::Value* RuleHolds(int32_t r) {
    NodeId cond = p_.rules[r].condition;
    return cond == check::kNoNode ? b_.getTrue() : Bool(cond);
  }

  // A canonical key for a node, so equal subexpressions share one result.
  const std::string& Key(NodeId id) {
    std::string& cached = keys_[id];
    if (cached.empty()) cached = MakeKey(id);
    return cached;
  }
  std::string MakeKey(NodeId id) {
    const Node& n = p_.nodes[id];
    std::string key = std::to_string(static_cast<int>(n.kind)) + ":" + std::to_string(static_cast<int>(n.op)) + ":" +
                      std::to_string(n.negated) + ":" + std::to_string(n.event) + ":" + std::to_string(n.field) + ":" +
                      std::to_string(n.aggregate) + ":" + std::to_string(n.tag) + ":" + std::to_string(static_cast<int>(n.clock));
    if (n.kind == NodeKind::kConstant || n.kind == NodeKind::kIn || n.kind == NodeKind::kContains) {
      key += "#" + std::to_string(constants_.index.at(id));  // equal texts still get one slot each: fine
    }
    key += "(";
    for (NodeId o : n.operands) key += Key(o) + ",";
    return key + ")";
  }

  llvm::Value* ConstSlot(int32_t index) {
    return b_.CreateConstInBoundsGEP1_64(i8_, consts_, static_cast<uint64_t>(index) * kValueSize);
  }

  // A pointer to the Value of a value node (a leaf read once, or a constant).
  llvm::Value* Slot(NodeId id) {
    const Node& n = p_.nodes[id];
    if (n.kind == NodeKind::kConstant) return ConstSlot(constants_.index.at(id));
    const std::string& key = Key(id);
    auto it = slots_.find(key);
    if (it != slots_.end()) return it->second;
    llvm::BasicBlock& entry = b_.GetInsertBlock()->getParent()->getEntryBlock();
    llvm::AllocaInst* slot = new llvm::AllocaInst(llvm::ArrayType::get(i8_, kValueSize), 0, "v", &*entry.getFirstInsertionPt());
    slot->setAlignment(llvm::Align(8));
    switch (n.kind) {
      case NodeKind::kEventField: b_.CreateCall(event_field_, {view_, b_.getInt32(n.field), slot}); break;
      case NodeKind::kProfileField: b_.CreateCall(profile_field_, {view_, b_.getInt32(n.field), slot}); break;
      case NodeKind::kAggregate: b_.CreateCall(aggregate_, {view_, b_.getInt32(n.aggregate), slot}); break;
      case NodeKind::kSince: b_.CreateCall(since_, {view_, b_.getInt32(n.event), slot}); break;
      case NodeKind::kSinceField: b_.CreateCall(since_field_, {view_, b_.getInt32(n.field), slot}); break;
      case NodeKind::kTs: b_.CreateCall(now_, {view_, slot}); break;
      case NodeKind::kCustomer: b_.CreateCall(customer_, {view_, slot}); break;
      case NodeKind::kClock:
        b_.CreateCall(clock_, {Slot(n.operands[0]), b_.getInt32(static_cast<int32_t>(n.clock)),
                               b_.getInt32(p_.zone_minutes), slot});
        break;
      case NodeKind::kConstant:  // ConstSlot above
      case NodeKind::kCompare: case NodeKind::kIn: case NodeKind::kContains: case NodeKind::kHas:
      case NodeKind::kNot: case NodeKind::kAnd: case NodeKind::kOr:
        break;  // bool-valued: Bool() computes them; as values they are never read
    }
    slots_.emplace(key, slot);
    return slot;
  }

  llvm::Value* LoadKind(llvm::Value* slot) { return b_.CreateLoad(i8_, b_.CreateConstInBoundsGEP1_64(i8_, slot, kKindOffset)); }
  llvm::Value* LoadInt(llvm::Value* slot) { return b_.CreateLoad(i64_, b_.CreateConstInBoundsGEP1_64(i8_, slot, kIntOffset)); }
  llvm::Value* LoadDouble(llvm::Value* slot) { return b_.CreateLoad(f64_, b_.CreateConstInBoundsGEP1_64(i8_, slot, kDoubleOffset)); }
  llvm::Value* IsSet(llvm::Value* slot) { return b_.CreateICmpNE(LoadKind(slot), b_.getInt8(0)); }

  llvm::Value* Bool(NodeId id) {
    const std::string& key = Key(id);
    auto it = bools_.find(key);
    if (it != bools_.end()) return it->second;
    llvm::Value* v = BoolUncached(id);
    bools_.emplace(key, v);
    return v;
  }

  llvm::Value* BoolUncached(NodeId id) {
    const Node& n = p_.nodes[id];
    switch (n.kind) {
      case NodeKind::kCompare: return Compare(n);
      case NodeKind::kIn: {
        const std::vector<check::Constant>& list = n.constants;
        llvm::Value* r = b_.CreateCall(in_, {Slot(n.operands[0]), ConstSlot(constants_.index.at(id)),
                                             b_.getInt32(static_cast<int32_t>(list.size()))});
        // C5: unset (-1) is false either way.
        return b_.CreateICmpEQ(r, b_.getInt32(n.negated ? 0 : 1));
      }
      case NodeKind::kContains:
        return b_.CreateICmpNE(b_.CreateCall(contains_, {Slot(n.operands[0]), ConstSlot(constants_.index.at(id))}),
                               b_.getInt8(0));
      case NodeKind::kHas:
        return b_.CreateICmpNE(b_.CreateCall(has_tag_, {view_, b_.getInt32(n.tag)}), b_.getInt8(0));
      case NodeKind::kNot: return b_.CreateNot(Bool(n.operands[0]));
      case NodeKind::kAnd: case NodeKind::kOr: {
        llvm::Value* acc = n.kind == NodeKind::kAnd ? b_.getTrue() : b_.getFalse();
        for (NodeId o : n.operands) acc = n.kind == NodeKind::kAnd ? b_.CreateAnd(acc, Bool(o)) : b_.CreateOr(acc, Bool(o));
        return acc;
      }
      case NodeKind::kConstant: case NodeKind::kEventField: case NodeKind::kProfileField: case NodeKind::kTs:
      case NodeKind::kCustomer: case NodeKind::kAggregate: case NodeKind::kSince: case NodeKind::kSinceField:
      case NodeKind::kClock: {
        // A bool-valued leaf.
        llvm::Value* slot = Slot(id);
        return b_.CreateAnd(IsSet(slot), b_.CreateICmpNE(LoadInt(slot), b_.getInt64(0)));
      }
    }
    return b_.getFalse();  // not reached: every kind is handled
  }

  // The static representation of a side, for inlining.
  enum class Repr { kInt, kDouble, kOther };
  struct Side {
    Repr repr = Repr::kOther;
    bool constant = false;
    int64_t i = 0;
    double d = 0;
    check::TypeKind kind = check::TypeKind::kError;
  };

  Side Describe(NodeId id) {
    const Node& n = p_.nodes[id];
    Side s;
    s.kind = n.type.kind;
    if (n.kind == NodeKind::kConstant) {
      const check::Constant& c = n.constants[0];
      s.constant = true;
      if (c.type.kind == check::TypeKind::kDecimal) {
        s.repr = Repr::kOther;  // converted against the other side below
      } else if (IntLike(c.type.kind)) {
        s.repr = Repr::kInt;
        s.i = c.i;
      } else if (c.type.kind == check::TypeKind::kNumber) {
        s.repr = Repr::kDouble;
        s.d = c.d;
      }
      return s;
    }
    if (n.kind == NodeKind::kAggregate && p_.aggregates[n.aggregate].func == check::AggFunc::kAvg &&
        n.type.kind != check::TypeKind::kNumber) {
      return s;  // an exact ratio at run time
    }
    if (n.kind == NodeKind::kCustomer || n.type.kind == check::TypeKind::kText) return s;
    if (IntLike(n.type.kind)) s.repr = Repr::kInt;
    if (n.type.kind == check::TypeKind::kNumber) s.repr = Repr::kDouble;
    return s;
  }

  llvm::Value* Holds(check::CmpOp op, llvm::Value* a, llvm::Value* b, bool is_double) {
    if (is_double) {  // ordered: NaN compares false, `!=` too (A17 spirit; matches CompareValues)
      switch (op) {
        case check::CmpOp::kEq: return b_.CreateFCmpOEQ(a, b);
        case check::CmpOp::kNe: return b_.CreateFCmpONE(a, b);
        case check::CmpOp::kLt: return b_.CreateFCmpOLT(a, b);
        case check::CmpOp::kLe: return b_.CreateFCmpOLE(a, b);
        case check::CmpOp::kGt: return b_.CreateFCmpOGT(a, b);
        case check::CmpOp::kGe: return b_.CreateFCmpOGE(a, b);
      }
    }
    switch (op) {
      case check::CmpOp::kEq: return b_.CreateICmpEQ(a, b);
      case check::CmpOp::kNe: return b_.CreateICmpNE(a, b);
      case check::CmpOp::kLt: return b_.CreateICmpSLT(a, b);
      case check::CmpOp::kLe: return b_.CreateICmpSLE(a, b);
      case check::CmpOp::kGt: return b_.CreateICmpSGT(a, b);
      case check::CmpOp::kGe: return b_.CreateICmpSGE(a, b);
    }
    return b_.getFalse();
  }

  // A decimal literal as the other side's integer representation, when exact.
  std::optional<int64_t> DecimalAs(const check::Constant& c, check::TypeKind other) {
    if (other == check::TypeKind::kInt) return DecimalToInt(c.exact);
    if (other == check::TypeKind::kMoney) return DecimalToCents(c.exact);
    return std::nullopt;
  }

  llvm::Value* Compare(const Node& n) {
    NodeId l = n.operands[0], r = n.operands[1];
    Side a = Describe(l), b = Describe(r);
    const Node& rn = p_.nodes[r];
    // Decimal literals become the other side's integer when that is exact.
    if (b.constant && rn.constants[0].type.kind == check::TypeKind::kDecimal && a.repr == Repr::kInt) {
      if (auto v = DecimalAs(rn.constants[0], a.kind)) { b.repr = Repr::kInt; b.i = *v; b.kind = a.kind; }
    }
    if (b.constant && rn.constants[0].type.kind == check::TypeKind::kDecimal && a.repr == Repr::kDouble) {
      b.repr = Repr::kDouble;
      b.d = rn.constants[0].d;  // A15: the literal's nearest double
    }
    bool same_int = a.repr == Repr::kInt && b.repr == Repr::kInt && a.kind == b.kind;
    bool doubles = a.repr == Repr::kDouble && (b.repr == Repr::kDouble || (b.repr == Repr::kInt && b.kind == check::TypeKind::kInt));
    if (same_int || doubles) {
      llvm::Value* set = b_.getTrue();
      auto operand = [&](const Side& s, NodeId id, bool as_double) -> llvm::Value* {
        if (s.constant) {
          if (as_double) return llvm::ConstantFP::get(f64_, s.repr == Repr::kDouble ? s.d : static_cast<double>(s.i));
          return b_.getInt64(s.i);
        }
        llvm::Value* slot = Slot(id);
        set = b_.CreateAnd(set, IsSet(slot));
        if (!as_double) return LoadInt(slot);
        return s.repr == Repr::kDouble ? LoadDouble(slot) : b_.CreateSIToFP(LoadInt(slot), f64_);
      };
      llvm::Value* x = operand(a, l, doubles);
      llvm::Value* y = operand(b, r, doubles);
      return b_.CreateAnd(set, Holds(n.op, x, y, doubles));
    }
    // Everything else through the shared comparison (text, ratios, mixed kinds).
    llvm::Value* order = b_.CreateCall(compare_, {Slot(l), Slot(r)});
    llvm::Value* ordered = b_.CreateICmpNE(order, b_.getInt32(kUnordered));
    return b_.CreateAnd(ordered, Holds(n.op, order, b_.getInt32(0), false));
  }

  const ir::Program& program_;
  const check::Program& p_;
  const ConstantTable& constants_;
  llvm::LLVMContext& ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> b_;
  llvm::Type *i8_, *i32_, *i64_, *f64_, *ptr_, *void_;
  llvm::Function *event_field_, *profile_field_, *aggregate_, *since_, *since_field_, *now_, *customer_, *has_tag_,
      *compare_, *in_, *contains_, *clock_;
  llvm::Value* view_ = nullptr;
  llvm::Value* consts_ = nullptr;
  std::unordered_map<std::string, llvm::Value*> slots_, bools_;
  std::vector<std::string> keys_ = std::vector<std::string>(p_.nodes.size());
};

}  // namespace

ConstantTable BuildConstants(const ir::Program& program) {
  const check::Program& p = program.checked;
  ConstantTable t;
  for (size_t id = 0; id < p.nodes.size(); ++id) {
    const Node& n = p.nodes[id];
    if (n.kind != NodeKind::kConstant && n.kind != NodeKind::kIn && n.kind != NodeKind::kContains) continue;
    t.index.emplace(static_cast<NodeId>(id), static_cast<int32_t>(t.values.size()));
    for (const check::Constant& c : n.constants) t.values.push_back(ir::ConstantValue(c));
  }
  return t;
}

std::unique_ptr<llvm::Module> BuildModule(const ir::Program& program, const ConstantTable& constants,
                                          llvm::LLVMContext& context, FunctionNames& names) {
  return Codegen(program, constants, context).Build(names);
}

}  // namespace qm::jit_internal
