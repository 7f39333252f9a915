#include "runtime/state/state.h"

namespace qm::state {
namespace {

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
    if (p.profile[f].default_value) s.profile[f] = Stored::Of(ir::ConstantValue(*p.profile[f].default_value));
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
