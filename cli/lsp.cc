// `qm lsp`: a Language Server Protocol server over standard input and output
// (JSON-RPC with Content-Length framing), for VS Code and any LSP client. The
// answers come from qianmian::Workspace; this file only speaks the protocol:
// URIs, UTF-16 positions, and the shapes of requests and replies.
#include <poll.h>
#include <cerrno>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"

namespace qm::cli {
namespace {

using nlohmann::json;

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kServerNotInitialized = -32002;
constexpr int kRequestFailed = -32803;

// ------------------------------------------------------------- transport

// Messages from the client: `Content-Length` headers, a blank line, the
// body. Buffered here, so the server knows when more input is already waiting.
class Input {
 public:
  explicit Input(int fd) : fd_(fd) {}

  // The next message body; nullopt at the end of input. A header block
  // without a usable Content-Length is skipped.
  std::optional<std::string> Next() {
    for (;;) {
      size_t end;
      while ((end = buffer_.find("\r\n\r\n", pos_)) == std::string::npos) {
        if (!Fill()) return std::nullopt;
      }
      std::string_view headers(buffer_.data() + pos_, end - pos_);
      pos_ = end + 4;
      std::optional<size_t> length = ContentLength(headers);
      if (!length) continue;
      while (buffer_.size() - pos_ < *length) {
        if (!Fill()) return std::nullopt;
      }
      std::string body = buffer_.substr(pos_, *length);
      pos_ += *length;
      return body;
    }
  }

  // Whether more of the client's input is already here or readable now.
  bool Waiting() const {
    if (pos_ < buffer_.size()) return true;
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
  }

 private:
  static std::optional<size_t> ContentLength(std::string_view headers) {
    constexpr std::string_view kName = "content-length:";
    for (size_t at = 0; at < headers.size();) {
      size_t eol = std::min(headers.find("\r\n", at), headers.size());
      std::string line(headers.substr(at, eol - at));
      at = eol + 2;
      if (line.size() <= kName.size()) continue;
      for (size_t i = 0; i < kName.size(); ++i) line[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
      if (line.compare(0, kName.size(), kName) != 0) continue;
      char* stop = nullptr;
      long n = std::strtol(line.c_str() + kName.size(), &stop, 10);
      if (stop != line.c_str() + kName.size() && n >= 0 && n <= (64L << 20)) return static_cast<size_t>(n);
    }
    return std::nullopt;
  }

  bool Fill() {
    if (pos_ > 0 && pos_ == buffer_.size()) buffer_.clear(), pos_ = 0;
    char chunk[65536];
    for (;;) {
      ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_;
  std::string buffer_;
  size_t pos_ = 0;
};

void WriteMessage(const json& message) {
  std::string body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

// ------------------------------------------------------------------ URIs

std::string PathOfUri(const std::string& uri) {
  std::string_view rest = uri;
  if (rest.substr(0, 7) != "file://") return uri;
  rest.remove_prefix(7);
  if (!rest.empty() && rest[0] != '/') rest.remove_prefix(std::min(rest.find('/'), rest.size()));  // a host
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    auto hex = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10); };
    if (rest[i] == '%' && i + 2 < rest.size() + 0 && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      out += static_cast<char>(hex(rest[i + 1]) * 16 + hex(rest[i + 2]));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  return out;
}

std::string UriOfPath(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// ------------------------------------------------------------- positions

// LSP counts UTF-16 code units in a line; the API counts code points.
int CodePointColumn(std::string_view line, int64_t units) {
  int column = 1;
  int64_t seen = 0;
  for (size_t i = 0; i < line.size() && seen < units;) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    seen += len == 4 ? 2 : 1;
    i += len;
    ++column;
  }
  return column;
}

int64_t Utf16Units(std::string_view line, int column) {
  int64_t units = 0;
  size_t i = 0;
  for (int col = 1; col < column && i < line.size(); ++col) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return units;
}

std::string_view LineOf(const std::string& text, int64_t line) {  // 0-based; empty past the end
  size_t start = 0;
  for (int64_t l = 0; l < line; ++l) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) return {};
    start = nl + 1;
  }
  size_t end = text.find('\n', start);
  std::string_view out(text.data() + start, (end == std::string::npos ? text.size() : end) - start);
  if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
  return out;
}

// ---------------------------------------------------------------- server

class Server {
 public:
  explicit Server(qianmian::Language language) : workspace_(language) {}

  int Run() {
    Input input(0);
    while (std::optional<std::string> body = input.Next()) {
      Handle(*body);
      if (exit_code_) return *exit_code_;
      if (!input.Waiting()) PublishPending();
    }
    return shutdown_ ? kExitOk : kExitErrors;  // LSP: exit 1 when the client vanished without `shutdown`
  }

 private:
  struct Document {
    std::string path;
    std::string text;
  };

  void Handle(const std::string& body) {
    json message = json::parse(body, nullptr, false);
    if (message.is_discarded() || !message.is_object()) {
      Reply(nullptr, Error(kParseError, "the message is not a JSON object"));
      return;
    }
    json id = message.contains("id") ? message["id"] : json();
    auto method_it = message.find("method");
    if (method_it == message.end() || !method_it->is_string()) {
      // A reply to the server's own request (workspace/codeLens/refresh) needs nothing.
      bool reply = method_it == message.end() && (message.contains("result") || message.contains("error"));
      if (!reply && !id.is_null()) Reply(id, Error(kInvalidRequest, "a request needs a method name (a string)"));
      return;
    }
    std::string method = method_it->get<std::string>();
    json params = message.contains("params") ? message["params"] : json::object();
    try {
      if (id.is_null()) {
        Notification(method, params);
      } else if (!initialized_ && method != "initialize") {
        Reply(id, Error(kServerNotInitialized, "initialize first"));
      } else {
        Request(id, method, params);
      }
    } catch (const json::exception& e) {
      if (!id.is_null()) Reply(id, Error(kInvalidParams, std::string("invalid parameters: ") + e.what()));
    } catch (const std::exception& e) {  // a file system error, memory: the request fails, the server goes on
      if (!id.is_null()) Reply(id, Error(kRequestFailed, e.what()));
    }
  }

  static json Error(int code, const std::string& message) { return {{"code", code}, {"message", message}}; }

  void Reply(const json& id, const json& error_or_result, bool is_error = true) {
    json out = {{"jsonrpc", "2.0"}, {"id", id}};
    if (is_error) out["error"] = error_or_result;
    else out["result"] = error_or_result;
    WriteMessage(out);
  }
  void Result(const json& id, const json& result) { Reply(id, result, false); }

  void Notification(const std::string& method, const json& params) {
    if (method == "exit") {
      exit_code_ = shutdown_ ? kExitOk : kExitErrors;
    } else if (method == "textDocument/didOpen") {
      const json& doc = params.at("textDocument");
      std::string uri = doc.at("uri").get<std::string>();
      Document& d = documents_[uri];
      d.path = PathOfUri(uri);
      d.text = doc.at("text").get<std::string>();
      workspace_.Open(d.path, d.text);
      Changed(d.path);
    } else if (method == "textDocument/didChange") {
      std::string uri = params.at("textDocument").at("uri").get<std::string>();
      auto it = documents_.find(uri);
      if (it == documents_.end()) return;
      for (const json& change : params.at("contentChanges")) ApplyChange(it->second.text, change);
      workspace_.Open(it->second.path, it->second.text);
      Changed(it->second.path);
    } else if (method == "textDocument/didSave") {
      activity_.clear();  // code lenses count what the saved rules do
      if (code_lens_refresh_)
        WriteMessage({{"jsonrpc", "2.0"}, {"id", "qm-refresh-" + std::to_string(++refreshes_)}, {"method", "workspace/codeLens/refresh"}});
      Changed(PathOf(params.at("textDocument").at("uri").get<std::string>()));
    } else if (method == "textDocument/didClose") {
      std::string uri = params.at("textDocument").at("uri").get<std::string>();
      auto it = documents_.find(uri);
      if (it == documents_.end()) return;
      std::string path = it->second.path;
      workspace_.Close(path);
      documents_.erase(it);
      analyses_.erase(uri);
      pending_.erase(uri);
      Publish(uri, json::array());
      Changed(path);  // those importing it read the disk now
    }
    // initialized, $/cancelRequest, $/setTrace and the rest need nothing.
  }

  // Applies one change: the whole text, or a range in UTF-16 positions.
  static void ApplyChange(std::string& text, const json& change) {
    std::string replacement = change.at("text").get<std::string>();
    if (!change.contains("range")) {
      text = std::move(replacement);
      return;
    }
    auto offset = [&](const json& pos) {
      int64_t line = pos.at("line").get<int64_t>(), character = pos.at("character").get<int64_t>();
      std::string_view l = LineOf(text, line);
      if (l.data() == nullptr || (l.empty() && line > 0 && l.data() == text.data())) return text.size();
      size_t base = static_cast<size_t>(l.data() - text.data());
      int col = CodePointColumn(l, character);
      size_t i = 0;
      for (int c = 1; c < col && i < l.size(); ++c) {
        ++i;
        while (i < l.size() && (static_cast<unsigned char>(l[i]) & 0xC0) == 0x80) ++i;
      }
      return base + i;
    };
    size_t from = offset(change["range"].at("start")), to = offset(change["range"].at("end"));
    if (from > text.size()) from = text.size();
    if (to < from) to = from;
    if (to > text.size()) to = text.size();
    text.replace(from, to - from, replacement);
  }

  // The file at `path` changed (typed, saved, closed): the open documents
  // whose last check read it are checked again, and those with errors (an
  // import that was missing may be there now).
  void Changed(const std::string& path) {
    for (auto& [uri, doc] : documents_) {
      auto it = analyses_.find(uri);
      bool again = it == analyses_.end() || SameFile(doc.path, path);
      if (!again) {
        for (const std::string& file : it->second.files()) again = again || SameFile(file, path);
        for (const qianmian::Diagnostic& d : it->second.diagnostics()) again = again || d.error;
      }
      if (!again) continue;
      if (it != analyses_.end()) analyses_.erase(it);
      pending_[uri] = true;
    }
  }

  const qianmian::Analysis& AnalysisOf(const std::string& uri) {
    auto it = analyses_.find(uri);
    if (it == analyses_.end())
      it = analyses_.emplace(uri, workspace_.Check(documents_.count(uri) ? documents_[uri].path : PathOfUri(uri))).first;
    return it->second;
  }

  void PublishPending() {
    for (auto it = pending_.begin(); it != pending_.end(); it = pending_.erase(it)) {
      const std::string& uri = it->first;
      const qianmian::Analysis& analysis = AnalysisOf(uri);
      std::string path = documents_[uri].path;
      json list = json::array();
      for (const qianmian::Diagnostic& d : analysis.diagnostics())
        if (!d.file.empty() && SameFile(d.file, path)) list.push_back(DiagnosticJson(d));
      Publish(uri, list);
    }
  }

  json DiagnosticJson(const qianmian::Diagnostic& d) {
    return {{"range", RangeJson(d.file, {d.line, d.column}, {d.end_line, d.end_column})},
            {"severity", d.error ? 1 : 2},
            {"code", d.code},
            {"source", "qm"},
            {"message", d.help.empty() ? d.message : d.message + "\n" + d.help}};
  }

  void Publish(const std::string& uri, const json& diagnostics) {
    WriteMessage({{"jsonrpc", "2.0"},
                  {"method", "textDocument/publishDiagnostics"},
                  {"params", {{"uri", uri}, {"diagnostics", diagnostics}}}});
  }

  bool SameFile(const std::string& a, const std::string& b) {
    if (a == b) return true;
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a.c_str(), ra) != nullptr && realpath(b.c_str(), rb) != nullptr && std::string(ra) == rb;
  }

  // A file's text: the open document's, else the file on disk.
  const std::string& TextOf(const std::string& path) {
    for (auto& [uri, d] : documents_)
      if (d.path == path) return d.text;
    auto it = disk_.find(path);
    if (it == disk_.end()) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      it = disk_.emplace(path, ss.str()).first;
    }
    return it->second;
  }

  json PositionJson(const std::string& file, qianmian::Position p) {
    std::string_view line = LineOf(TextOf(file), p.line - 1);
    return {{"line", std::max(0, p.line - 1)}, {"character", Utf16Units(line, p.column)}};
  }
  json RangeJson(const std::string& file, qianmian::Position b, qianmian::Position e) {
    return {{"start", PositionJson(file, b)}, {"end", PositionJson(file, e)}};
  }
  json LocationJson(const qianmian::Range& r) {
    return {{"uri", UriFor(r.file)}, {"range", RangeJson(r.file, r.begin, r.end)}};
  }
  std::string UriFor(const std::string& file) {
    for (auto& [uri, d] : documents_)
      if (SameFile(d.path, file)) return uri;
    char real[PATH_MAX];
    return UriOfPath(realpath(file.c_str(), real) != nullptr ? std::string(real) : file);
  }

  // The document and API position a request's textDocument/position names.
  std::pair<std::string, qianmian::Position> Where(const json& params) {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    std::string path = documents_.count(uri) ? documents_[uri].path : PathOfUri(uri);
    const json& pos = params.at("position");
    int64_t line = pos.at("line").get<int64_t>();
    int64_t character = pos.at("character").get<int64_t>();
    std::string_view text = LineOf(TextOf(path), line);
    return {uri, {static_cast<int>(line + 1), CodePointColumn(text, character)}};
  }

  std::string PathOf(const std::string& uri) { return documents_.count(uri) ? documents_[uri].path : PathOfUri(uri); }

  void Request(const json& id, const std::string& method, const json& params) {
    disk_.clear();  // files on disk may have changed since the last request
    PublishPending();  // the client sees the diagnostics of the text it asks about
    if (method == "initialize") {
      Initialize(id, params);
    } else if (method == "shutdown") {
      shutdown_ = true;
      Result(id, nullptr);
    } else if (method == "textDocument/hover") {
      auto [uri, at] = Where(params);
      std::string text = AnalysisOf(uri).Hover(PathOf(uri), at);
      Result(id, text.empty() ? json() : json{{"contents", {{"kind", "markdown"}, {"value", text}}}});
    } else if (method == "textDocument/definition") {
      auto [uri, at] = Where(params);
      json out = json::array();
      for (const qianmian::Range& r : AnalysisOf(uri).Definition(PathOf(uri), at)) out.push_back(LocationJson(r));
      Result(id, out);
    } else if (method == "textDocument/references") {
      auto [uri, at] = Where(params);
      bool declaration = params.contains("context") && params["context"].value("includeDeclaration", false);
      json out = json::array();
      for (const qianmian::Range& r : AnalysisOf(uri).References(PathOf(uri), at, declaration))
        out.push_back(LocationJson(r));
      Result(id, out);
    } else if (method == "textDocument/rename") {
      auto [uri, at] = Where(params);
      std::vector<qianmian::TextEdit> edits;
      std::string problem = AnalysisOf(uri).Rename(PathOf(uri), at, params.at("newName").get<std::string>(), edits);
      if (!problem.empty()) {
        Reply(id, Error(kRequestFailed, problem));
        return;
      }
      json changes = json::object();
      for (const qianmian::TextEdit& e : edits)
        changes[UriFor(e.range.file)].push_back(
            {{"range", RangeJson(e.range.file, e.range.begin, e.range.end)}, {"newText", e.text}});
      Result(id, {{"changes", changes}});
    } else if (method == "textDocument/documentSymbol") {
      Result(id, Symbols(params.at("textDocument").at("uri").get<std::string>()));
    } else if (method == "textDocument/formatting") {
      Format(id, params.at("textDocument").at("uri").get<std::string>());
    } else if (method == "textDocument/completion") {
      auto [uri, at] = Where(params);
      json items = json::array();
      for (const qianmian::Completion& c : AnalysisOf(uri).Complete(PathOf(uri), at)) {
        json item = {{"label", c.label}, {"kind", CompletionKind(c.kind)}, {"insertText", c.insert}};
        if (!c.detail.empty()) item["detail"] = c.detail;
        if (c.snippet) item["insertTextFormat"] = 2;
        items.push_back(item);
      }
      Result(id, {{"isIncomplete", false}, {"items", items}});
    } else if (method == "textDocument/codeAction") {
      Result(id, CodeActions(params));
    } else if (method == "textDocument/codeLens") {
      Result(id, CodeLenses(params.at("textDocument").at("uri").get<std::string>()));
    } else {
      Reply(id, Error(kMethodNotFound, "unknown method: " + method));
    }
  }

  bool Chinese() const { return workspace_.language() == qianmian::Language::kChinese; }

  // Quick fixes: the diagnostics in the range whose fix is certain (did you
  // mean, full-width punctuation).
  json CodeActions(const json& params) {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    std::string path = PathOf(uri);
    int64_t first = params.at("range").at("start").at("line").get<int64_t>() + 1;
    int64_t last = params.at("range").at("end").at("line").get<int64_t>() + 1;
    json out = json::array();
    for (const qianmian::Diagnostic& d : AnalysisOf(uri).diagnostics()) {
      if (d.fix.empty() || d.file.empty() || !SameFile(d.file, path) || d.end_line < first || d.line > last) continue;
      json diagnostic = DiagnosticJson(d);
      std::string title = Chinese() ? "改为 `" + d.fix + "`" : "Change to `" + d.fix + "`";
      out.push_back({{"title", title},
                     {"kind", "quickfix"},
                     {"isPreferred", true},
                     {"diagnostics", json::array({diagnostic})},
                     {"edit", {{"changes", {{uri, json::array({{{"range", diagnostic["range"]}, {"newText", d.fix}}})}}}}}});
    }
    return out;
  }

  // Above each rule, what it did on the events beside the rule file
  // (`events.jsonl`, or the `events` initialization option): how often it
  // held, the lines each action wrote and the attempts suppressed.
  json CodeLenses(const std::string& uri) {
    std::string path = PathOf(uri);
    auto cached = activity_.find(uri);
    if (cached == activity_.end()) cached = activity_.emplace(uri, Activity(path)).first;
    json out = json::array();
    if (cached->second.empty()) return out;
    for (const qianmian::SymbolInfo& s : AnalysisOf(uri).Symbols(path)) {
      if (s.kind != qianmian::SymbolInfo::Kind::kRule) continue;
      auto it = cached->second.find(s.name);
      if (it == cached->second.end()) continue;
      out.push_back({{"range", RangeJson(s.range.file, s.range.begin, s.range.end)},
                     {"command", {{"title", LensTitle(it->second)}, {"command", ""}}}});
    }
    return out;
  }

  std::string LensTitle(const qianmian::Coverage::RuleActivity& a) {
    bool zh = Chinese();
    if (a.matched == 0) return zh ? "未命中（" + events_name_ + "）" : "never matched (" + events_name_ + ")";
    std::string out = zh ? "命中 " + std::to_string(a.matched) + " 次" : "matched " + std::to_string(a.matched) + " time" + (a.matched == 1 ? "" : "s");
    std::string parts;
    for (const auto& [what, n] : a.emitted)
      if (n > 0) parts += (parts.empty() ? "" : zh ? "，" : ", ") + what + " ×" + std::to_string(n);
    static const std::pair<const char*, std::pair<const char*, const char*>> kReasons[] = {
        {"cap", {"blocked by a cap", "次被频控拦截"}},
        {"once", {"already sent once", "次因只发一次未发"}},
        {"every", {"already sent within `every`", "次因间隔内已发未发"}},
        {"quiet", {"dropped in quiet hours", "次因免打扰未发"}}};
    for (const auto& [reason, words] : kReasons) {
      auto it = a.suppressed.find(reason);
      if (it == a.suppressed.end() || it->second == 0) continue;
      std::string n = std::to_string(it->second);
      parts += (parts.empty() ? "" : zh ? "，" : "; ") + (zh ? n + words.second : n + " " + words.first);
    }
    return parts.empty() ? out : out + (zh ? "：" : ": ") + parts;
  }

  // The rules of `path` (as saved) run over its events file; by rule name.
  std::map<std::string, qianmian::Coverage::RuleActivity> Activity(const std::string& path) {
    std::map<std::string, qianmian::Coverage::RuleActivity> out;
    std::string events = events_option_.empty() ? "events.jsonl" : events_option_;
    std::filesystem::path events_path = std::filesystem::path(events).is_absolute()
                                            ? std::filesystem::path(events)
                                            : std::filesystem::path(path).parent_path() / events;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(events_path, ec)) return out;
    events_name_ = events_path.filename().string();
    qianmian::RuleSet rules = qianmian::RuleSet::FromFiles({path}, workspace_.language());
    if (!rules.ok()) return out;
    qianmian::Coverage coverage(rules);
    qianmian::RunOptions options;
    options.coverage = &coverage;
    auto ignore = [](std::string_view) {};
    std::unique_ptr<qianmian::Runner> runner = qianmian::Runner::Create(rules, options, ignore, ignore);
    if (!runner) return out;
    std::ifstream in(events_path, std::ios::binary);
    for (std::string line; std::getline(in, line);) runner->Feed(line);
    runner->EndOfInput();
    for (qianmian::Coverage::RuleActivity& a : coverage.Activity()) out.emplace(a.rule, std::move(a));
    return out;
  }

  void Initialize(const json& id, const json& params) {
    initialized_ = true;
    // Clients that can be told to ask for code lenses again get told after a save.
    const json::json_pointer refresh("/capabilities/workspace/codeLens/refreshSupport");
    code_lens_refresh_ = params.contains(refresh) && params.at(refresh).is_boolean() && params.at(refresh).get<bool>();
    // The client's locale (`zh-cn`) chooses the language, unless the
    // initialization options name one (`{"language": "zh"}`).
    std::string locale = params.contains("locale") && params["locale"].is_string() ? params["locale"].get<std::string>() : "";
    if (params.contains("initializationOptions") && params["initializationOptions"].is_object() &&
        params["initializationOptions"].contains("language") && params["initializationOptions"]["language"].is_string())
      locale = params["initializationOptions"]["language"].get<std::string>();
    if (params.contains("initializationOptions") && params["initializationOptions"].is_object() &&
        params["initializationOptions"].contains("events") && params["initializationOptions"]["events"].is_string())
      events_option_ = params["initializationOptions"]["events"].get<std::string>();
    if (!locale.empty())
      workspace_.SetLanguage(locale.rfind("zh", 0) == 0 ? qianmian::Language::kChinese : qianmian::Language::kEnglish);
    json capabilities = {
        {"textDocumentSync", {{"openClose", true}, {"change", 2}, {"save", {{"includeText", false}}}}},
        {"hoverProvider", true},
        {"definitionProvider", true},
        {"referencesProvider", true},
        {"renameProvider", true},
        {"documentSymbolProvider", true},
        {"documentFormattingProvider", true},
        {"completionProvider", {{"triggerCharacters", {".", " ", "("}}}},
        {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
        {"codeLensProvider", {{"resolveProvider", false}}},
    };
    Result(id, {{"capabilities", capabilities}, {"serverInfo", {{"name", "qm"}, {"version", qianmian::Version()}}}});
  }

  static int CompletionKind(qianmian::Completion::Kind kind) {
    switch (kind) {  // LSP CompletionItemKind
      case qianmian::Completion::Kind::kKeyword: return 14;
      case qianmian::Completion::Kind::kEvent: return 23;
      case qianmian::Completion::Kind::kField: return 5;
      case qianmian::Completion::Kind::kMember: return 20;
      case qianmian::Completion::Kind::kTag: return 21;
      case qianmian::Completion::Kind::kRule: return 3;
      case qianmian::Completion::Kind::kSnippet: return 15;
    }
    return 1;
  }

  static int SymbolKindOf(qianmian::SymbolInfo::Kind kind) {
    switch (kind) {  // LSP SymbolKind
      case qianmian::SymbolInfo::Kind::kEvent: return 24;
      case qianmian::SymbolInfo::Kind::kEventField: return 8;
      case qianmian::SymbolInfo::Kind::kProfileField: return 7;
      case qianmian::SymbolInfo::Kind::kEnum: return 10;
      case qianmian::SymbolInfo::Kind::kMember: return 22;
      case qianmian::SymbolInfo::Kind::kTag: return 14;
      case qianmian::SymbolInfo::Kind::kSegment: return 14;
      case qianmian::SymbolInfo::Kind::kRule: return 12;
    }
    return 13;
  }

  // Event fields under their event, members under their enum.
  json Symbols(const std::string& uri) {
    std::string path = PathOf(uri);
    json out = json::array();
    std::map<std::string, size_t> events, enums;
    for (const qianmian::SymbolInfo& s : AnalysisOf(uri).Symbols(path)) {
      json range = RangeJson(s.range.file, s.range.begin, s.range.end);
      json item = {{"name", s.name}, {"kind", SymbolKindOf(s.kind)}, {"range", range}, {"selectionRange", range}};
      if (!s.detail.empty()) item["detail"] = s.detail;
      using K = qianmian::SymbolInfo::Kind;
      auto& parents = s.kind == K::kEventField ? events : enums;
      if (s.kind == K::kEventField || s.kind == K::kMember) {
        auto parent = parents.find(s.container);
        if (parent != parents.end()) {
          out[parent->second]["children"].push_back(item);
          continue;
        }
      }
      if (s.kind == K::kEvent) events[s.name] = out.size();
      if (s.kind == K::kEnum) enums[s.name] = out.size();
      out.push_back(item);
    }
    return out;
  }

  void Format(const json& id, const std::string& uri) {
    std::string path = PathOf(uri);
    const std::string& text = TextOf(path);
    std::string formatted;
    std::vector<qianmian::Diagnostic> problems;
    if (!qianmian::FormatText(path, text, formatted, problems, workspace_.language())) {
      Reply(id, Error(kRequestFailed, problems.empty() ? "cannot format" : problems[0].message));
      return;
    }
    json edits = json::array();
    if (formatted != text) {
      int64_t lines = std::count(text.begin(), text.end(), '\n');
      edits.push_back({{"range", {{"start", {{"line", 0}, {"character", 0}}},
                                  {"end", {{"line", lines + 1}, {"character", 0}}}}},
                       {"newText", formatted}});
    }
    Result(id, edits);
  }

  qianmian::Workspace workspace_;
  std::map<std::string, Document> documents_;  // by URI
  std::map<std::string, qianmian::Analysis> analyses_;
  std::map<std::string, bool> pending_;  // URIs whose diagnostics are to be published
  std::map<std::string, std::string> disk_;
  std::map<std::string, std::map<std::string, qianmian::Coverage::RuleActivity>> activity_;  // by URI, as saved
  std::string events_option_;  // initializationOptions.events
  std::string events_name_ = "events.jsonl";
  bool initialized_ = false;
  bool code_lens_refresh_ = false;
  int64_t refreshes_ = 0;
  bool shutdown_ = false;
  std::optional<int> exit_code_;
};

}  // namespace

int LspCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  Flags flags;
  qianmian::Language language = LangOfArgs(args, lang);
  if (std::optional<Error> e = SplitFlags(args, {"--lang"}, {"--stdio"}, "lsp", flags)) return Usage(*e, language);
  if (!flags.positional.empty()) return Usage(Error::Of<ErrorKind::kTakesNoArguments>({"lsp", flags.positional[0]}), language);
  return Server(language).Run();
}

}  // namespace qm::cli
