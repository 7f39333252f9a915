#include "compiler/driver/driver.h"

#include "compiler/format/format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "compiler/parse/parse.h"

namespace qm::driver {
namespace {

namespace fs = std::filesystem;

// Why a rule file could not be read; `os_error` is set for operating-system failures.
struct ReadProblem {
  enum class Kind { kOsError, kNotRegularFile, kTooLarge } kind;
  std::string os_error;  // kOsError
};

// Reads a whole rule file. Only regular files are read (a FIFO without a
// writer would block for ever, /dev/zero never ends), opened without blocking,
// and only up to kMaxRuleFileBytes; every read error is reported, never taken
// for the end of the file.
std::optional<std::string> ReadFile(const std::string& path, ReadProblem& problem) {
  auto os_error = [&] {
    problem = {ReadProblem::Kind::kOsError, std::strerror(errno)};
    return std::nullopt;
  };
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return os_error();
  struct Closer { int fd; ~Closer() { close(fd); } } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) return os_error();
  if (!S_ISREG(st.st_mode)) {
    problem = {ReadProblem::Kind::kNotRegularFile, {}};
    return std::nullopt;
  }
  if (st.st_size > kMaxRuleFileBytes) {
    problem = {ReadProblem::Kind::kTooLarge, {}};
    return std::nullopt;
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  for (;;) {
    if (got == text.size()) {  // the file may have grown since fstat
      if (text.size() > static_cast<size_t>(kMaxRuleFileBytes)) {
        problem = {ReadProblem::Kind::kTooLarge, {}};
        return std::nullopt;
      }
      text.resize(std::max<size_t>(text.size() * 2, 4096));
    }
    ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error();
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  if (got > static_cast<size_t>(kMaxRuleFileBytes)) {
    problem = {ReadProblem::Kind::kTooLarge, {}};
    return std::nullopt;
  }
  return text;
}

std::string Canonical(const std::string& path) { return CanonicalPath(path); }

// The codes a `# qm: allow W0004, W0009` (or `//`) comment in `line` names;
// `own_line` says the comment must be the whole line. A `#` inside a string
// starts no comment.
std::vector<std::string> AllowedBy(std::string_view line, bool own_line) {
  size_t at = std::string_view::npos;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '#' || (c == '/' && i + 1 < line.size() && line[i + 1] == '/')) {
      at = i;
      break;
    } else if (own_line && c != ' ' && c != '\t' && c != '\r') {
      return {};
    }
  }
  if (at == std::string_view::npos) return {};
  std::string_view comment = line.substr(at);
  size_t key = comment.find("qm: allow");
  if (key == std::string_view::npos) return {};
  std::vector<std::string> codes;
  std::string code;
  for (char c : comment.substr(key + 9)) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      code += c;
    } else if (!code.empty()) {
      codes.push_back(code);
      code.clear();
    }
  }
  if (!code.empty()) codes.push_back(code);
  return codes;
}

// Drops the warnings of `file` its `# qm: allow` comments silence: a comment
// on the lines right above a declaration or rule, or at the end of one of
// its lines, covers the warnings inside it.
void ApplyAllowComments(const ast::RuleFile& file, Diagnostics& diags) {
  if (file.source == nullptr || file.source->text().find("qm: allow") == std::string::npos) return;
  const Source& source = *file.source;
  std::vector<std::string_view> lines;
  std::string_view text = source.text();
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  struct Allowed {
    Span span;
    std::vector<std::string> codes;
  };
  std::vector<Allowed> allowed;
  for (const Span& span : file.item_spans) {
    int first = source.Locate(span.begin).line - 1, last = source.Locate(std::max(span.begin, span.end - 1)).line - 1;
    std::vector<std::string> codes;
    for (int l = first - 1; l >= 0; --l) {  // the comment lines right above
      std::string_view trimmed = lines[l].substr(std::min(lines[l].find_first_not_of(" \t"), lines[l].size()));
      if (trimmed.empty() || (trimmed[0] != '#' && trimmed.substr(0, 2) != "//")) break;
      for (std::string& c : AllowedBy(lines[l], true)) codes.push_back(std::move(c));
    }
    for (int l = first; l <= last && l < static_cast<int>(lines.size()); ++l)
      for (std::string& c : AllowedBy(lines[l], false)) codes.push_back(std::move(c));
    if (!codes.empty()) allowed.push_back({span, std::move(codes)});
  }
  if (allowed.empty()) return;
  diags.DropWarnings([&](const Diagnostic& d) {
    if (d.source != &source) return false;
    for (const Allowed& a : allowed)
      if (d.span.begin >= a.span.begin && d.span.begin < a.span.end)
        return std::find(a.codes.begin(), a.codes.end(), InfoOf(d.kind).code) != a.codes.end();
    return false;
  });
}

class Loader {
 public:
  explicit Loader(Compilation& c, const OpenDocuments* open = nullptr) : c_(c), open_(open) {}

  // An open document's text, or the file's.
  std::optional<std::string> Read(const std::string& path, ReadProblem& problem) {
    if (open_ != nullptr) {
      auto it = open_->find(Canonical(path));
      if (it != open_->end()) return it->second;
    }
    return ReadFile(path, problem);
  }

  // Why `path` cannot be read: at an import's `span` in `source`, or of no
  // file for a command-line path (`source` null).
  void Unreadable(const ReadProblem& problem, const std::string& path, const Source* source, Span span) {
    switch (problem.kind) {
      case ReadProblem::Kind::kOsError:
        if (source != nullptr) c_.diags.Add<DiagKind::kImportNotFound>(source, span, {path, problem.os_error});
        else c_.diags.Add<DiagKind::kCannotReadFile>(nullptr, span, {path, problem.os_error});
        return;
      case ReadProblem::Kind::kNotRegularFile: c_.diags.Add<DiagKind::kNotRegularFile>(source, span, {path}); return;
      case ReadProblem::Kind::kTooLarge:
        c_.diags.Add<DiagKind::kFileTooLarge>(source, span, {path, std::to_string(kMaxRuleFileBytes)});
        return;
    }
  }

  void LoadPath(const std::string& path) {
    ReadProblem problem;
    std::optional<std::string> text = Read(path, problem);
    if (!text) {
      Unreadable(problem, path, nullptr, {});
      return;
    }
    Load(path, std::move(*text));
  }

  // Parses one file and splices its imports in at the point of the import,
  // depth first (A9). An explicit stack, not recursion: a chain of 15,000
  // imports must not exhaust the call stack.
  void Load(const std::string& display, std::string text) {
    struct Frame {
      const ast::RuleFile* file;
      std::string display, key;
      size_t next_item = 0;
    };
    std::vector<Frame> stack;
    auto open = [&](const std::string& shown, std::string content) {
      std::string key = Canonical(shown);
      if (!loaded_.insert(key).second) return;
      active_.insert(key);
      c_.sources.push_back(std::make_unique<Source>(shown, std::move(content)));
      c_.files.push_back(std::make_unique<ast::RuleFile>(parse::Parse(*c_.sources.back(), c_.diags)));
      stack.push_back(Frame{c_.files.back().get(), shown, std::move(key)});
    };
    open(display, std::move(text));
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next_item == top.file->items.size()) {
        active_.erase(top.key);
        stack.pop_back();
        continue;
      }
      const ast::RuleFile* file = top.file;
      const ast::Item& item = file->items[top.next_item++];
      const auto* import = std::get_if<ast::ImportDecl>(&item);
      if (import == nullptr) {
        items_.push_back({&item, file});
        continue;
      }
      const Source* source = file->source;
      fs::path dir = fs::path(top.display).parent_path();
      std::string target = (dir / import->path).lexically_normal().string();
      std::string target_key = Canonical(target);
      if (active_.count(target_key)) {
        std::string chain;
        auto on_stack = std::find_if(stack.begin(), stack.end(), [&](const Frame& f) { return f.key == target_key; });
        for (auto it = on_stack; it != stack.end(); ++it) chain += "`" + fs::path(it->key).filename().string() + "` → ";
        chain += "`" + fs::path(target_key).filename().string() + "`";
        c_.diags.Add<DiagKind::kImportCycle>(source, import->span, {chain});
        continue;
      }
      if (loaded_.count(target_key)) continue;
      ReadProblem problem;
      std::optional<std::string> imported = Read(target, problem);
      if (!imported) {
        Unreadable(problem, import->path, source, import->span);
        continue;
      }
      open(target, std::move(*imported));  // invalidates `top`
    }
  }

  void Finish() {
    std::vector<const ast::RuleFile*> files;
    for (const auto& f : c_.files) files.push_back(f.get());
    check::CheckResult result = check::Check(items_, files, c_.diags);
    c_.program = std::move(result.program);
    c_.index = std::move(result.index);
    for (const auto& f : c_.files) ApplyAllowComments(*f, c_.diags);
    std::vector<const Source*> order;
    for (const auto& s : c_.sources) order.push_back(s.get());
    c_.diags.SortBy(order);
  }

 private:
  Compilation& c_;
  const OpenDocuments* open_;
  std::unordered_set<std::string> loaded_;
  std::unordered_set<std::string> active_;  // files whose imports are being loaded
  std::vector<check::SourceItem> items_;
};

}  // namespace

std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

std::unique_ptr<Compilation> CompileFiles(const std::vector<std::string>& paths, const std::vector<std::string>& allow,
                                          const OpenDocuments* open) {
  auto c = std::make_unique<Compilation>();
  Loader loader(*c, open);
  for (const std::string& p : paths) loader.LoadPath(p);
  loader.Finish();
  if (!allow.empty())
    c->diags.DropWarnings([&](const Diagnostic& d) {
      return std::find(allow.begin(), allow.end(), InfoOf(d.kind).code) != allow.end();
    });
  return c;
}

std::optional<std::string> FormatText(const std::string& display_name, std::string text, Compilation& c) {
  c.sources.push_back(std::make_unique<Source>(display_name, std::move(text)));
  std::optional<std::string> formatted = format::Format(*c.sources.back(), c.diags);
  c.diags.SortBy({c.sources.back().get()});
  return formatted;
}

std::optional<std::string> FormatFile(const std::string& path, Compilation& c) {
  ReadProblem problem;
  std::optional<std::string> text = ReadFile(path, problem);
  if (!text) {
    Loader(c).Unreadable(problem, path, nullptr, {});
    return std::nullopt;
  }
  return FormatText(path, std::move(*text), c);
}

std::unique_ptr<Compilation> CompileText(const std::string& display_name, std::string text) {
  auto c = std::make_unique<Compilation>();
  Loader loader(*c);
  loader.Load(display_name, std::move(text));
  loader.Finish();
  return c;
}

}  // namespace qm::driver
