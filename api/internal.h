// What the API's own files share. Not installed.
#ifndef QM_API_INTERNAL_H_
#define QM_API_INTERNAL_H_

#include <memory>
#include <string>

#include "compiler/diag/diag.h"
#include "compiler/program/program.h"
#include "qianmian/qianmian.hpp"
#include "runtime/engine/engine.h"

namespace qianmian {

struct RuleSet::Impl {
  qm::Compiled compiled;
  qm::Lang lang = qm::Lang::kEn;
  std::vector<Diagnostic> diagnostics;
};

namespace internal {

struct RuleSetAccess {
  using Impl = RuleSet::Impl;
  static RuleSet Make(std::shared_ptr<const Impl> impl) { return RuleSet(std::move(impl)); }
  static const Impl& Of(const RuleSet& rules) { return *rules.impl_; }
  static std::shared_ptr<const Impl> Share(const RuleSet& rules) { return rules.impl_; }
};

Diagnostic Convert(const qm::Diagnostic& d, qm::Lang lang);
Stats Convert(const qm::engine::Stats& stats);
qm::EngineKind Convert(Engine engine);

}  // namespace internal
}  // namespace qianmian

#endif  // QM_API_INTERNAL_H_
