// `qm report --state DIR [-o report.html]`: the customer base on one page,
// for the people who run the rules: tag coverage with review candidates,
// a funnel per stage field, segments, and what the rules did since the state
// began. One self-contained HTML file: inline CSS, charts as inline SVG, no
// script and nothing fetched, so it opens offline and can be mailed.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/table.h"

namespace qm::cli {
namespace {


std::string Number(int64_t n) {  // 1234567 -> 1,234,567
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// A horizontal bar `part` of `whole` wide, as inline SVG.
std::string Bar(int64_t part, int64_t whole, const char* css_class = "bar") {
  double share = whole > 0 ? std::min(1.0, static_cast<double>(part) / static_cast<double>(whole)) : 0.0;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "<svg class=\"%s\" viewBox=\"0 0 200 14\" width=\"200\" height=\"14\" role=\"img\">"
                "<rect class=\"track\" x=\"0\" y=\"0\" width=\"200\" height=\"14\" rx=\"3\"/>"
                "<rect class=\"fill\" x=\"0\" y=\"0\" width=\"%.1f\" height=\"14\" rx=\"3\"/></svg>",
                css_class, 200.0 * share);
  return buf;
}

struct Words {
  bool zh;
  std::string operator()(const char* en, const char* chinese) const { return zh ? chinese : en; }
};

const char* kStyle = R"(
:root { --ink:#1f2328; --muted:#656d76; --line:#d8dee4; --accent:#2f6feb; --warn:#b35900; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.6 "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", "Source Han Sans SC", system-ui, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1040px; margin: 0 auto; padding: 32px 24px 64px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px; margin-top: 24px; }
section h2 { margin: 0 0 4px; font-size: 19px; }
section > p.note { margin: 0 0 14px; color: var(--muted); font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 16px; margin-top: 24px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 18px; }
.card .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 13px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: 13px; color: var(--muted); font-weight: 500; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.desc { color: var(--muted); }
tr.review td { background: #fff8f0; }
.badge { display: inline-block; margin-left: 6px; padding: 0 7px; border-radius: 9px; font-size: 12px; background: #ffe8cc; color: var(--warn); }
.badge.segment { background: #e7f0ff; color: var(--accent); }
svg.bar .track, svg.step .track { fill: #eef1f4; }
svg.bar .fill { fill: var(--accent); }
svg.step .fill { fill: #1a7f37; }
tr.review svg.bar .fill { fill: var(--warn); }
.funnel h3 { margin: 18px 0 6px; font-size: 16px; }
.conv { color: var(--muted); font-size: 13px; white-space: nowrap; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
table.rfm th { white-space: nowrap; }
table.rfm td.cell { text-align: center; border: 2px solid #fff; border-radius: 6px; padding: 8px 6px; }
table.rfm .n { font-weight: 600; font-variant-numeric: tabular-nums; }
table.rfm .m { font-size: 12px; color: #3b4552; }
)";

}  // namespace

int ReportCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  Flags flags;
  qianmian::Language language = LangOfArgs(args, lang);
  if (std::optional<Error> e = SplitFlags(args, {"--state", "-o", "--out", "--lang", "--review-below"}, {}, "report", flags))
    return Usage(*e, language);
  if (!flags.positional.empty())
    return Usage(Error::Of<ErrorKind::kTakesNoArguments>({"report", flags.positional[0]}), language);
  if (!flags.Get("--state")) return Usage(Error::Of<ErrorKind::kReportNeedsState>(), language);
  const std::string* out_path = flags.Get("-o") ? flags.Get("-o") : flags.Get("--out");
  double review_below = 1.0;  // percent of customers
  if (const std::string* v = flags.Get("--review-below")) {
    char* end = nullptr;
    std::string number = v->substr(0, v->size() - (!v->empty() && v->back() == '%'));
    review_below = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(review_below >= 0 && review_below <= 100))
      return Usage(Error::Of<ErrorKind::kReviewBelowTakes>({*v}), language);
  }
  Words w{language == qianmian::Language::kChinese};

  std::string dir = *flags.Get("--state"), error;
  std::unique_ptr<qianmian::StateDirectory> state = qianmian::StateDirectory::Open(dir, &error, language);
  qianmian::StateSummary s;
  if (state) error = state->Summarize(s);
  if (!error.empty()) {
    std::fprintf(stderr, "qm: %s\n", error.c_str());
    return kExitErrors;
  }

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"" + std::string(w.zh ? "zh-CN" : "en") + "\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + Markup(w("Customer report", "客户分层报告")) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  std::string files;
  for (size_t i = 0; i < s.rule_files.size(); ++i) files += (i ? ", " : "") + s.rule_files[i];
  h += "<header><h1>" + Markup(w("Customer report", "客户分层报告")) + "</h1><p>" +
       Markup(w("State directory ", "状态目录 ")) + "<code>" + Markup(dir) + "</code>" +
       (files.empty() ? "" : Markup(w(" · rules ", " · 规则 ")) + Markup(files)) + "</p></header>\n";

  // Summary cards.
  auto card = [&](const std::string& id, int64_t value, const std::string& label) {
    h += "<div class=\"card\" id=\"" + id + "\"><div class=\"value\">" + Number(value) + "</div><div class=\"label\">" +
         Markup(label) + "</div></div>\n";
  };
  h += "<div class=\"cards\">\n";
  card("customers", s.customers, w("customers", "位客户"));
  card("merged", s.merged, w("ids merged into another customer", "个账号已合并到同一客户"));
  card("pending", s.pending_timers, w("timers pending", "个待触发的计时器"));
  card("lines", s.input_lines, w("input lines read", "行输入已处理"));
  h += "</div>\n";

  // Tag coverage, largest first; the small ones are review candidates.
  h += "<section id=\"tags\"><h2>" + Markup(w("Tag coverage", "标签覆盖")) + "</h2><p class=\"note\">";
  char threshold[64];
  std::snprintf(threshold, sizeof threshold, "%g%%", review_below);
  h += Markup(w("Customers carrying each tag, largest first. Tags on fewer than ", "每个标签覆盖的客户数，从多到少。覆盖不到 ")) +
       threshold + Markup(w(" of customers are marked for review: stale or too narrow to act on.",
                          " 客户的标签标为“建议复查”：可能已过时，或太窄不值得运营。")) + "</p>\n";
  std::vector<std::pair<std::string, int64_t>> tags = s.tags;
  std::stable_sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> segment_names;
  for (const auto& seg : s.segments) segment_names.push_back(seg.name);
  if (tags.empty()) {
    h += "<p class=\"empty\">" + Markup(w("The rules declare no tags.", "规则没有声明标签。")) + "</p>\n";
  } else {
    h += "<table><thead><tr><th>" + Markup(w("tag", "标签")) + "</th><th>" + Markup(w("description", "说明")) +
         "</th><th></th><th class=\"num\">" + Markup(w("customers", "客户数")) + "</th><th class=\"num\">" +
         Markup(w("share", "占比")) + "</th></tr></thead><tbody>\n";
    int review = 0;
    for (const auto& [tag, n] : tags) {
      bool small = s.customers > 0 && 100.0 * static_cast<double>(n) < review_below * static_cast<double>(s.customers);
      bool segment = std::find(segment_names.begin(), segment_names.end(), tag) != segment_names.end();
      review += small;
      auto d = s.tag_descriptions.find(tag);
      h += std::string("<tr") + (small ? " class=\"review\"" : "") + " data-tag=\"" + Markup(tag) + "\"><td>" + Markup(tag) +
           (segment ? "<span class=\"badge segment\">" + Markup(w("segment", "分群")) + "</span>" : "") +
           (small ? "<span class=\"badge\">" + Markup(w("review", "建议复查")) + "</span>" : "") + "</td><td class=\"desc\">" +
           Markup(d == s.tag_descriptions.end() ? "" : d->second) + "</td><td>" + Bar(n, s.customers) +
           "</td><td class=\"num\">" + Number(n) + "</td><td class=\"num\">" + Percent(n, s.customers) + "</td></tr>\n";
    }
    h += "</tbody></table>\n<p class=\"note\" id=\"review-count\">" +
         (w.zh ? "建议复查的标签：" + std::to_string(review) + " 个。"
               : std::to_string(review) + " tag" + (review == 1 ? "" : "s") + " to review.") + "</p>\n";
  }
  h += "</section>\n";

  // A funnel per enum field, members in declaration order.
  h += "<section id=\"funnels\" class=\"funnel\"><h2>" + Markup(w("Stage funnels", "阶段漏斗")) + "</h2><p class=\"note\">" +
       Markup(w("Customers at each value of every enum-typed profile field, in the order the rules declare them; "
              "the percentage is the next step's customers as a share of this step's.",
              "每个枚举型档案字段在各取值上的客户数，按规则中声明的顺序排列；百分比是下一步客户数相对本步的比例。")) +
       "</p>\n";
  if (s.fields.empty()) h += "<p class=\"empty\">" + Markup(w("No enum-typed profile field.", "没有枚举型档案字段。")) + "</p>\n";
  for (const qianmian::StateSummary::Field& f : s.fields) {
    int64_t widest = f.unset;
    for (const auto& [member, n] : f.members) widest = std::max(widest, n);
    h += "<h3>" + Markup(f.name) + "</h3><table data-field=\"" + Markup(f.name) + "\"><tbody>\n";
    for (size_t k = 0; k < f.members.size(); ++k) {
      const auto& [member, n] = f.members[k];
      std::string conversion;
      if (k + 1 < f.members.size())
        conversion = w("next: ", "下一步：") + (n > 0 ? Percent(f.members[k + 1].second, n) : "–");
      h += "<tr><td>" + Markup(member) + "</td><td>" + Bar(n, widest, "step") + "</td><td class=\"num\">" + Number(n) +
           "</td><td class=\"num\">" + Percent(n, s.customers) + "</td><td class=\"conv\">" + conversion + "</td></tr>\n";
    }
    if (f.unset > 0)
      h += "<tr><td class=\"desc\">" + Markup(w("(unset)", "（未设置）")) + "</td><td>" + Bar(f.unset, widest, "step") +
           "</td><td class=\"num\">" + Number(f.unset) + "</td><td class=\"num\">" + Percent(f.unset, s.customers) +
           "</td><td></td></tr>\n";
    h += "</tbody></table>\n";
  }
  h += "</section>\n";

  // Segments (D13).
  if (!s.segments.empty()) {
    h += "<section id=\"segments\"><h2>" + Markup(w("Segments", "分群")) + "</h2><p class=\"note\">" +
         Markup(w("Ranked tags the engine keeps, at their last refresh: members among the customers ranked, and the value of the last member taken.",
                "由引擎按排名维护的标签，取其最近一次刷新：入选人数、参与排名的客户数，以及最后一位入选者的取值（门槛）。")) +
         "</p>\n<table><thead><tr><th>" + Markup(w("segment", "分群")) + "</th><th></th><th class=\"num\">" +
         Markup(w("members", "入选")) + "</th><th class=\"num\">" + Markup(w("ranked", "参与排名")) + "</th><th class=\"num\">" +
         Markup(w("threshold", "门槛")) + "</th><th>" + Markup(w("last refresh", "最近刷新")) + "</th><th>" +
         Markup(w("next", "下次")) + "</th></tr></thead><tbody>\n";
    for (const qianmian::StateSummary::Segment& g : s.segments)
      h += "<tr data-segment=\"" + Markup(g.name) + "\"><td>" + Markup(g.name) + "</td><td>" + Bar(g.members, g.ranked) +
           "</td><td class=\"num\">" + Number(g.members) + "</td><td class=\"num\">" + Number(g.ranked) +
           "</td><td class=\"num\">" + Markup(g.threshold.empty() ? "–" : g.threshold) + "</td><td>" +
           Markup(g.last_refresh.empty() ? w("(not yet)", "（尚未刷新）") : g.last_refresh) + "</td><td>" +
           Markup(g.next_refresh.empty() ? "–" : g.next_refresh) + "</td></tr>\n";
    h += "</tbody></table></section>\n";
  }

  // RFM: recency rows, frequency columns, the shade of a cell its customers.
  if (s.rfm) {
    const qianmian::RfmGrid& g = *s.rfm;
    int64_t most = 0;
    for (const auto& row : g.customers)
      for (int64_t n : row) most = std::max(most, n);
    h += "<section id=\"rfm\"><h2>" + Markup(w("RFM grid", "RFM 网格")) + "</h2><p class=\"note\">" +
         Markup(w("Customers by how recently (rows) and how often (columns) they bought, with the average of ",
                "按最近一次购买距今（行）和购买次数（列）划分的客户数，以及每位客户的平均 ")) +
         "<code>" + Markup(g.by) + "</code>" +
         Markup(w(" per customer. Recency counts from the latest purchase of anyone.",
                "。距今天数从所有客户中最近的一次购买算起。")) + "</p>\n<table class=\"rfm\"><thead><tr><th>" +
         Markup(w("last purchase \\ purchases", "最近一次 \\ 次数")) + "</th>";
    for (size_t f = 0; f < g.frequency.size(); ++f) {
      std::string label = f + 1 < g.frequency.size()
                              ? (g.frequency[f + 1] - 1 == g.frequency[f]
                                     ? std::to_string(g.frequency[f])
                                     : std::to_string(g.frequency[f]) + "–" + std::to_string(g.frequency[f + 1] - 1))
                              : std::to_string(g.frequency[f]) + "+";
      h += "<th class=\"num\">" + Markup(label + w("", " 次")) + "</th>";
    }
    h += "</tr></thead><tbody>\n";
    for (size_t r = 0; r < g.customers.size(); ++r) {
      int64_t from = r == 0 ? 0 : g.recency_days[r - 1] + 1;
      std::string label = r < g.recency_days.size()
                              ? (r == 0 ? w("within ", "") + std::to_string(g.recency_days[0]) + w(" days", " 天内")
                                        : std::to_string(from) + "–" + std::to_string(g.recency_days[r]) + w(" days", " 天"))
                              : w("over ", "") + std::to_string(g.recency_days.back()) + w(" days", " 天以上");
      h += "<tr><th>" + Markup(label) + "</th>";
      for (size_t f = 0; f < g.customers[r].size(); ++f) {
        int64_t n = g.customers[r][f];
        char shade[64];
        std::snprintf(shade, sizeof shade, "rgba(47,111,235,%.2f)", most > 0 ? 0.06 + 0.6 * static_cast<double>(n) / static_cast<double>(most) : 0.0);
        h += "<td class=\"cell\" data-r=\"" + std::to_string(r) + "\" data-f=\"" + std::to_string(f) +
             "\" style=\"background:" + shade + "\"><div class=\"n\">" + Number(n) + "</div><div class=\"m\">" +
             Markup(g.average[r][f].empty() ? "–" : "¥" + g.average[r][f]) + "</div></td>";
      }
      h += "</tr>\n";
    }
    h += "</tbody></table><p class=\"note\">" +
         Markup(w.zh ? "没有购买记录的客户：" + Number(g.without) + " 位。" : Number(g.without) + " customers without a purchase.") +
         "</p></section>\n";
  }

  // What the rules did since the state began.
  h += "<section id=\"rules\"><h2>" + Markup(w("What the rules did", "规则执行情况")) + "</h2><p class=\"note\">" +
       Markup(w("Since the state began: steps in which each rule held and ran, action lines by kind, and attempts that "
              "sent nothing.",
              "自状态开始以来：每条规则成立并执行的次数、各类动作的条数，以及未发出的尝试。")) +
       "</p>\n";
  if (s.rules_fired.empty()) {
    h += "<p class=\"empty\">" + Markup(w("No rule has fired yet (or the directory was last written before qm counted this).",
                                         "还没有规则执行过（或该目录最后一次写入时 qm 尚未记录这些计数）。")) + "</p>\n";
  } else {
    std::vector<std::pair<std::string, int64_t>> fired(s.rules_fired.begin(), s.rules_fired.end());
    std::stable_sort(fired.begin(), fired.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    h += "<table><thead><tr><th>" + Markup(w("rule", "规则")) + "</th><th></th><th class=\"num\">" +
         Markup(w("fired", "执行次数")) + "</th></tr></thead><tbody>\n";
    for (const auto& [rule, n] : fired)
      h += "<tr data-rule=\"" + Markup(rule) + "\"><td>" + Markup(rule) + "</td><td>" + Bar(n, fired.front().second) +
           "</td><td class=\"num\">" + Number(n) + "</td></tr>\n";
    h += "</tbody></table>\n";
  }
  auto counts = [&](const char* id, const std::string& title, const std::map<std::string, int64_t>& m,
                    const std::map<std::string, std::string>& names) {
    if (m.empty()) return;
    int64_t most = 0;
    for (const auto& [key, n] : m) most = std::max(most, n);
    h += "<h3>" + Markup(title) + "</h3><table id=\"" + std::string(id) + "\"><tbody>\n";
    for (const auto& [key, n] : m) {
      auto name = names.find(key);
      h += "<tr data-key=\"" + Markup(key) + "\"><td>" + Markup(name == names.end() ? key : name->second) + "</td><td>" +
           Bar(n, most) + "</td><td class=\"num\">" + Number(n) + "</td></tr>\n";
    }
    h += "</tbody></table>\n";
  };
  counts("actions", w("Actions written", "已写出的动作"), s.actions, {});
  std::map<std::string, std::string> reasons = {
      {"once", w("once: already sent", "只发一次：已发过")},
      {"every", w("every: sent within the interval", "间隔内已发过")},
      {"cap", w("cap: a frequency cap was full", "频控已满")},
      {"quiet", w("quiet: dropped in quiet hours", "免打扰时段内放弃")}};
  counts("suppressed", w("Suppressed pushes and invites, by reason", "未发出的推送和邀请（按原因）"), s.suppressed, reasons);
  h += "</section>\n";

  h += "<footer>" + Markup(w("Made by qm report from the state directory's last commit, without the rule files.",
                           "由 qm report 根据状态目录的最近一次提交生成，无需规则文件。")) + "</footer>\n";
  h += "</main>\n</body>\n</html>\n";

  if (out_path == nullptr || *out_path == "-") {
    std::fwrite(h.data(), 1, h.size(), stdout);
    return kExitOk;
  }
  std::ofstream out(*out_path, std::ios::binary | std::ios::trunc);
  out << h;
  out.flush();
  if (!out) {
    std::fprintf(stderr, "qm: %s\n", Error::Of<ErrorKind::kCannotWrite>({*out_path, std::strerror(errno)}).Message(LangOf(language)).c_str());
    return kExitErrors;
  }
  return kExitOk;
}

}  // namespace qm::cli
