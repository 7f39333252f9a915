#include "compiler/driver/driver.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "compiler/parse/parse.h"

namespace qm::driver {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadFile(const std::string& path, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    error = "is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

class Loader {
 public:
  explicit Loader(Compilation& c) : c_(c) {}

  void LoadPath(const std::string& path) {
    std::string error;
    std::optional<std::string> text = ReadFile(path, error);
    if (!text) {
      c_.diags.Add(DiagKind::kCannotReadFile, nullptr, {}, {path, error});
      return;
    }
    Load(path, std::move(*text));
  }

  // Parses one file and splices its imports in at the point of the import.
  void Load(const std::string& display, std::string text) {
    std::string key = Canonical(display);
    if (!loaded_.insert(key).second) return;
    active_.push_back(key);
    c_.sources.push_back(std::make_unique<Source>(display, std::move(text)));
    const Source* source = c_.sources.back().get();
    c_.files.push_back(std::make_unique<ast::RuleFile>(parse::Parse(*source, c_.diags)));
    const ast::RuleFile* file = c_.files.back().get();
    for (const ast::Item& item : file->items) {
      const auto* import = std::get_if<ast::ImportDecl>(&item);
      if (import == nullptr) {
        items_.push_back({&item, file});
        continue;
      }
      fs::path dir = fs::path(display).parent_path();
      std::string target = (dir / import->path).lexically_normal().string();
      std::string target_key = Canonical(target);
      auto on_stack = std::find(active_.begin(), active_.end(), target_key);
      if (on_stack != active_.end()) {
        std::string chain;
        for (auto it = on_stack; it != active_.end(); ++it) chain += "`" + fs::path(*it).filename().string() + "` → ";
        chain += "`" + fs::path(target_key).filename().string() + "`";
        c_.diags.Add(DiagKind::kImportCycle, source, import->span, {chain});
        continue;
      }
      if (loaded_.count(target_key)) continue;
      std::string error;
      std::optional<std::string> imported = ReadFile(target, error);
      if (!imported) {
        c_.diags.Add(DiagKind::kImportNotFound, source, import->span, {import->path, error});
        continue;
      }
      Load(target, std::move(*imported));
    }
    active_.pop_back();
  }

  void Finish() {
    std::vector<const ast::RuleFile*> files;
    for (const auto& f : c_.files) files.push_back(f.get());
    check::CheckResult result = check::Check(items_, files, c_.diags);
    c_.program = std::move(result.program);
    std::vector<const Source*> order;
    for (const auto& s : c_.sources) order.push_back(s.get());
    c_.diags.SortBy(order);
  }

 private:
  Compilation& c_;
  std::unordered_set<std::string> loaded_;
  std::vector<std::string> active_;
  std::vector<check::SourceItem> items_;
};

}  // namespace

std::unique_ptr<Compilation> CompileFiles(const std::vector<std::string>& paths) {
  auto c = std::make_unique<Compilation>();
  Loader loader(*c);
  for (const std::string& p : paths) loader.LoadPath(p);
  loader.Finish();
  return c;
}

std::unique_ptr<Compilation> CompileText(const std::string& display_name, std::string text) {
  auto c = std::make_unique<Compilation>();
  Loader loader(*c);
  loader.Load(display_name, std::move(text));
  loader.Finish();
  return c;
}

}  // namespace qm::driver
