#include "runtime/state/state.h"

namespace qm::state {
namespace {

Stored FromConstant(const check::Constant& c) {
  Stored s;
  switch (c.type.kind) {
    case check::TypeKind::kInt: s.kind = ValueKind::kInt; s.i = c.i; break;
    case check::TypeKind::kMoney: s.kind = ValueKind::kMoney; s.i = c.i; break;
    case check::TypeKind::kNumber: s.kind = ValueKind::kNumber; s.d = c.d; break;
    case check::TypeKind::kBool: s.kind = ValueKind::kBool; s.i = c.i; break;
    case check::TypeKind::kText: s.kind = ValueKind::kText; s.text = c.text; break;
    case check::TypeKind::kTime: s.kind = ValueKind::kTime; s.i = c.i; break;
    case check::TypeKind::kDuration: s.kind = ValueKind::kDuration; s.i = c.i; break;
    case check::TypeKind::kEnum: s.kind = ValueKind::kEnum; s.i = c.i; break;
    default: break;
  }
  return s;
}

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const ir::Program& program) : template_(NewCustomer(program)) {}
  CustomerState* Find(const std::string& customer) override {
    auto it = customers_.find(customer);
    return it == customers_.end() ? nullptr : it->second.get();
  }
  CustomerState& Create(const std::string& customer) override {
    auto& slot = customers_[customer];
    slot = std::make_unique<CustomerState>(template_);
    return *slot;
  }
  size_t size() const override { return customers_.size(); }

 private:
  CustomerState template_;
  std::unordered_map<std::string, std::unique_ptr<CustomerState>> customers_;
};

}  // namespace

CustomerState NewCustomer(const ir::Program& program) {
  const check::Program& p = program.checked;
  CustomerState s;
  s.profile.resize(p.profile.size());
  for (size_t f = 0; f < p.profile.size(); ++f) {
    if (p.profile[f].default_value) s.profile[f] = FromConstant(*p.profile[f].default_value);
  }
  s.tags.assign(p.tags.size(), 0);
  s.aggregates.resize(p.aggregates.size());
  s.last_event.assign(p.events.size(), kNever);
  s.quiet_due.assign(program.quiet_rules.size(), kNever);
  return s;
}

std::unique_ptr<Store> MakeMemoryStore(const ir::Program& program) {
  return std::make_unique<MemoryStore>(program);
}

}  // namespace qm::state
