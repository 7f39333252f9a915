#include "compiler/interp/interp.h"

#include "compiler/check/builtins.h"

namespace qm::interp {
namespace {

using check::Node;
using check::NodeId;
using check::NodeKind;
using ir::ConstantValue;

class Reference final : public Interpreter {
 public:
  explicit Reference(const ir::Program& program)
      : program_(program), p_(program.checked), in_lists_(p_.nodes.size()) {
    for (size_t id = 0; id < p_.nodes.size(); ++id)
      if (p_.nodes[id].kind == NodeKind::kIn)
        for (const check::Constant& c : p_.nodes[id].constants) in_lists_[id].push_back(ConstantValue(c));
  }

  void MatchEvent(int32_t type, const ir::StepView& view, std::vector<int32_t>& matched) override {
    MatchRules(program_.rules_by_event[type], view, matched);
  }

  void MatchRules(const std::vector<int32_t>& candidates, const ir::StepView& view,
                  std::vector<int32_t>& matched) override {
    for (int32_t r : candidates) {
      NodeId cond = p_.rules[r].condition;
      if (cond == check::kNoNode || Test(cond, view)) matched.push_back(r);
    }
  }

  bool Filter(int32_t filter, const ir::StepView& view) override { return Test(program_.filters[filter], view); }

  bool Trace(NodeId node, const ir::StepView& view, std::vector<Evaluated>& trace) const override {
    return Test(node, view, &trace);
  }

 private:
  // `trace`, when given, receives every node evaluated (Trace).
  Value Eval(NodeId id, const ir::StepView& v, std::vector<Evaluated>* trace = nullptr) const {
    Value value = Compute(id, v, trace);
    if (trace != nullptr) trace->push_back({id, value});
    return value;
  }

  Value Compute(NodeId id, const ir::StepView& v, std::vector<Evaluated>* trace) const {
    const Node& n = p_.nodes[id];
    switch (n.kind) {
      case NodeKind::kConstant: return ConstantValue(n.constants[0]);
      case NodeKind::kEventField: return v.EventField(n.field);
      case NodeKind::kProfileField: return v.ProfileField(n.field);
      case NodeKind::kTs: return Value::Time(v.Now());
      case NodeKind::kCustomer: return Value::Text(v.Customer());
      case NodeKind::kAggregate: return v.Aggregate(n.aggregate);
      case NodeKind::kSince: return v.Since(n.event);
      case NodeKind::kSinceField: return v.SinceField(n.field);
      case NodeKind::kClock: return check::Clock(n.clock, Eval(n.operands[0], v, trace), p_.zone_minutes);
      case NodeKind::kCompare: case NodeKind::kIn: case NodeKind::kContains: case NodeKind::kHas:
      case NodeKind::kNot: case NodeKind::kAnd: case NodeKind::kOr:
        return Value::Bool(Holds(id, v, trace));
    }
    return {};  // not reached: every kind is handled
  }

  bool Test(NodeId id, const ir::StepView& v, std::vector<Evaluated>* trace = nullptr) const {
    const Node& n = p_.nodes[id];
    switch (n.kind) {
      case NodeKind::kConstant: case NodeKind::kEventField: case NodeKind::kProfileField: case NodeKind::kTs:
      case NodeKind::kCustomer: case NodeKind::kAggregate: case NodeKind::kSince: case NodeKind::kSinceField:
      case NodeKind::kClock: {
        Value x = Eval(id, v, trace);  // a bool-valued leaf
        return x.kind == ValueKind::kBool && x.i != 0;
      }
      default: {
        bool holds = Holds(id, v, trace);
        if (trace != nullptr) trace->push_back({id, Value::Bool(holds)});
        return holds;
      }
    }
  }

  // A condition node's truth (not a leaf).
  bool Holds(NodeId id, const ir::StepView& v, std::vector<Evaluated>* trace) const {
    const Node& n = p_.nodes[id];
    switch (n.kind) {
      case NodeKind::kCompare:
        return check::CompareHolds(n.op, Eval(n.operands[0], v, trace), Eval(n.operands[1], v, trace));
      case NodeKind::kIn: {
        std::optional<bool> found = check::InList(Eval(n.operands[0], v, trace), in_lists_[id]);
        return found && *found != n.negated;  // C5: unset is false either way
      }
      case NodeKind::kContains: return check::Contains(Eval(n.operands[0], v, trace), n.constants[0].text);
      case NodeKind::kHas: return v.HasTag(n.tag);
      case NodeKind::kNot: return !Test(n.operands[0], v, trace);
      case NodeKind::kAnd:
        for (NodeId o : n.operands) if (!Test(o, v, trace)) return false;
        return true;
      case NodeKind::kOr:
        for (NodeId o : n.operands) if (Test(o, v, trace)) return true;
        return false;
      default: return false;  // leaves are Test's
    }
  }

  const ir::Program& program_;
  const check::Program& p_;
  std::vector<std::vector<Value>> in_lists_;  // by node: the constants of an `in`
};

}  // namespace

std::unique_ptr<Interpreter> MakeInterpreter(const ir::Program& program) {
  return std::make_unique<Reference>(program);
}

}  // namespace qm::interp
