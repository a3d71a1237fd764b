// inspect.html and its SVG files, in report.html's style (same palette, fonts and figure markup:
// <figure class="chart" data-chart=ID data-points=N>, N marks of class "mark").
#include "slmq/report/inspect_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include "slmq/core/error.h"

namespace slmq::report {
namespace {

using nlohmann::json;

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
constexpr size_t kMaxColumns = 288;  // wider channel axes are max-pooled into this many bins

const char* const kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1400px;color:#111;padding:0 16px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f4f6}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
figure.chart{margin:16px 8px 16px 0;display:inline-block;vertical-align:top}figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:11px;fill:#222}.axis{stroke:#333}.grid{stroke:#e5e7eb}.note{color:#555;font-size:12px;margin:2px 0}
)";

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

std::string svg_open(double w, double h, const std::string& title) {
  return fmt::format(
      "<svg viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><style>text{{font:11px sans-serif;fill:#222}}"
      ".axis{{stroke:#333}}.grid{{stroke:#e5e7eb}}</style><title>{2}</title>",
      num(w), num(h), esc(title));
}

// White through yellow and orange to dark red; t in [0, 1].
std::string heat_color(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const double stops[4][3] = {{255, 255, 255}, {254, 217, 118}, {240, 59, 32}, {128, 0, 38}};
  const double x = t * 3;
  const int i = std::min(2, static_cast<int>(x));
  const double f = x - i;
  auto ch = [&](int c) {
    return static_cast<int>(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]));
  };
  return fmt::format("rgb({},{},{})", ch(0), ch(1), ch(2));
}

std::vector<const json*> linears_named(const json& snap, const std::string& linear) {
  if (!snap.contains("linears")) throw InternalError("inspect chart: no 'linears' in the snapshot");
  std::vector<const json*> out;
  for (const auto& l : snap["linears"])
    if (l.at("linear") == linear) out.push_back(&l);
  return out;
}

std::vector<std::string> linear_names(const json& snap) {
  std::vector<std::string> names;
  for (const auto& l : snap.at("linears")) {
    const std::string n = l.at("linear");
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return names;
}

// Rows = layers, columns = channels (max-pooled to kMaxColumns), colour = log10 abs-max over
// [lo, hi] shared by the before and after charts of one input.
std::string heatmap(const std::vector<const json*>& rows, const std::string& kind,
                    const std::string& title, double lo, double hi, size_t& marks) {
  const size_t channels = rows.front()->at(kind).at("channel_abs_max").size();
  const size_t bins = std::min(channels, kMaxColumns);
  const double x0 = 60, y0 = 24, cw = 2.4 * 288.0 / static_cast<double>(bins), ch = 14;
  const double width = x0 + cw * static_cast<double>(bins) + 110;
  const double height = y0 + ch * static_cast<double>(rows.size()) + 40;
  std::string svg = svg_open(width, height, title);
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& v = rows[r]->at(kind).at("channel_abs_max");
    const double y = y0 + ch * static_cast<double>(r);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", num(x0 - 4),
                       num(y + 11), rows[r]->at("layer").get<int64_t>());
    for (size_t b = 0; b < bins; ++b) {
      const size_t c0 = b * channels / bins, c1 = (b + 1) * channels / bins;
      double m = 0;
      for (size_t c = c0; c < c1; ++c) m = std::max(m, v[c].get<double>());
      const double t = (std::log10(std::max(m, 1e-8)) - lo) / std::max(hi - lo, 1e-9);
      svg += fmt::format(
          "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
          num(x0 + cw * static_cast<double>(b)), num(y), fmt::format("{:.2f}", cw + 0.05),
          num(ch - 1), heat_color(t));
      ++marks;
    }
  }
  const double yb = y0 + ch * static_cast<double>(rows.size());
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">input channel (0..{}){}</text>",
      num(x0 + cw * bins / 2), num(yb + 16), channels - 1, bins < channels ? ", max-pooled" : "");
  svg += fmt::format("<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\">layer</text>",
                     num(y0 + 40), num(y0 + 40));
  // Colour key: log10 abs-max.
  const double kx = x0 + cw * static_cast<double>(bins) + 20;
  for (int i = 0; i < 10; ++i)
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{}\"/>", num(kx),
                       num(y0 + 10.0 * (9 - i)), heat_color(i / 9.0));
  svg += fmt::format("<text x=\"{}\" y=\"{}\">{:.3g}</text>", num(kx + 18), num(y0 + 8),
                     std::pow(10.0, hi));
  svg += fmt::format("<text x=\"{}\" y=\"{}\">{:.3g}</text>", num(kx + 18), num(y0 + 100),
                     std::pow(10.0, lo));
  svg += fmt::format("<text x=\"{}\" y=\"{}\">abs-max</text>", num(kx), num(y0 + 118));
  return svg + "</svg>\n";
}

// Linears whose input no other listed linear shares (k/v read q's input, up reads gate's), with
// the legend label of that input.
std::vector<std::pair<std::string, std::string>> distinct_inputs(const json& snap) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& n : linear_names(snap)) {
    if (n.ends_with("k_proj") || n.ends_with("v_proj") || n.ends_with("up_proj")) continue;
    const std::string label = n.ends_with("q_proj")      ? "q/k/v input"
                              : n.ends_with("gate_proj") ? "gate/up input"
                                                         : n + " input";
    out.emplace_back(n, label);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> all_linears(const json& snap) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& n : linear_names(snap)) out.emplace_back(n, n);
  return out;
}

// One line per (linear, legend label) over the layers, log10 y.
std::string line_chart(const json& snap, const std::string& title, const std::string& ylabel,
                       const std::vector<std::pair<std::string, std::string>>& lines,
                       const std::function<std::optional<double>(const json&)>& value,
                       size_t& marks) {
  std::vector<std::string> names, labels;
  for (const auto& [n, l] : lines) {
    names.push_back(n);
    labels.push_back(l);
  }
  std::vector<std::vector<std::pair<double, double>>> series(names.size());
  double lo = 1e300, hi = -1e300, max_layer = 0;
  for (size_t n = 0; n < names.size(); ++n)
    for (const json* l : linears_named(snap, names[n])) {
      const auto v = value(*l);
      if (!v || *v <= 0) continue;
      const double layer = l->at("layer").get<double>(), y = std::log10(*v);
      series[n].emplace_back(layer, y);
      lo = std::min(lo, y);
      hi = std::max(hi, y);
      max_layer = std::max(max_layer, layer);
    }
  if (hi < lo) return "";
  lo = std::floor(lo);
  hi = std::max(std::ceil(hi), lo + 1);
  const double x0 = 60, x1 = 560, y0 = 20, y1 = 300;
  auto X = [&](double l) { return x0 + (max_layer > 0 ? l / max_layer : 0.5) * (x1 - x0); };
  auto Y = [&](double v) { return y1 - (v - lo) / (hi - lo) * (y1 - y0); };
  std::string svg = svg_open(720, 340, title);
  for (double e = lo; e <= hi; e += 1) {
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", x0, x1,
                       num(Y(e)), num(Y(e)));
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:g}</text>", x0 - 4,
                       num(Y(e) + 4), std::pow(10.0, e));
  }
  svg +=
      fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", x0, y0, y1);
  svg +=
      fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>", x0, x1, y1);
  for (int l = 0; l <= static_cast<int>(max_layer);
       l += std::max(1, static_cast<int>(max_layer) / 10))
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", num(X(l)),
                       y1 + 14, l);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">layer</text>", (x0 + x1) / 2,
                     y1 + 30);
  svg += fmt::format(
      "<text x=\"14\" y=\"{0}\" transform=\"rotate(-90 14 {0})\" "
      "text-anchor=\"middle\">{1}</text>",
      (y0 + y1) / 2, esc(ylabel));
  for (size_t n = 0; n < names.size(); ++n) {
    const std::string color = kPalette[n % 8];
    std::string pts;
    for (const auto& [l, v] : series[n]) pts += num(X(l)) + "," + num(Y(v)) + " ";
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>",
                       color, pts);
    for (const auto& [l, v] : series[n]) {
      svg += fmt::format(
          "<circle class=\"mark\" cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\">"
          "<title>{} layer {}: {:.4g}</title></circle>",
          num(X(l)), num(Y(v)), color, esc(names[n]), l, std::pow(10.0, v));
      ++marks;
    }
    svg += fmt::format(
        "<rect x=\"575\" y=\"{0}\" width=\"10\" height=\"10\" fill=\"{1}\"/>"
        "<text x=\"590\" y=\"{2}\">{3}</text>",
        num(24 + 16.0 * n), color, num(33 + 16.0 * n), esc(names[n]));
  }
  return svg + "</svg>\n";
}

struct Chart {
  std::string file, title, svg, note;
  size_t marks = 0;
};

std::vector<Chart> charts(const json& before, const json* after) {
  std::vector<Chart> out;
  std::vector<std::pair<std::string, const json*>> snaps = {{"before", &before}};
  if (after) snaps.emplace_back("after", after);
  const bool has_act = !before.at("linears").empty() && before["linears"][0].contains("activation");
  for (const std::string kind : {"activation", "weight"}) {
    if (kind == "activation" && !has_act) continue;
    for (const auto& name : linear_names(before)) {
      // k/v and up share q's and gate's input: their heatmaps would repeat those.
      if (name.ends_with("k_proj") || name.ends_with("v_proj") || name.ends_with("up_proj"))
        continue;
      // One colour range for the before and after charts of this input: from the 1st
      // percentile (a few near-zero channels would wash the rest out) to the maximum.
      std::vector<double> logs;
      for (const auto& [label, s] : snaps)
        for (const json* l : linears_named(*s, name))
          for (const auto& v : l->at(kind).at("channel_abs_max"))
            logs.push_back(std::log10(std::max(v.get<double>(), 1e-8)));
      const double hi = *std::max_element(logs.begin(), logs.end());
      std::nth_element(logs.begin(), logs.begin() + logs.size() / 100, logs.end());
      const double lo = logs[logs.size() / 100];
      for (const auto& [label, s] : snaps) {
        Chart c;
        c.file = "heatmap_" + kind + "_" + name + (after ? "_" + label : "") + ".svg";
        c.title = (kind == "activation" ? "Input activation" : "Weight input-channel") +
                  std::string(" abs-max by layer: ") + name + (after ? " (" + label + ")" : "");
        c.svg = heatmap(linears_named(*s, name), kind, c.title, lo, hi, c.marks);
        out.push_back(std::move(c));
      }
    }
  }
  for (const auto& [label, s] : snaps) {
    const std::string suffix = after ? " (" + label + ")" : "";
    if (has_act) {
      Chart c{"outliers_activation" + (after ? "_" + label : "") + ".svg",
              "Activation outliers per layer: max / median channel abs-max" + suffix, "", ""};
      c.svg = line_chart(
          *s, c.title, "max / median", distinct_inputs(*s),
          [](const json& l) -> std::optional<double> {
            return l.at("activation").at("channel_spread").get<double>();
          },
          c.marks);
      out.push_back(std::move(c));
      Chart t{"token_max" + (after ? "_" + label : "") + ".svg",
              "Largest per-token max |x| per layer" + suffix, "", ""};
      t.svg = line_chart(
          *s, t.title, "max over tokens of max |x|", distinct_inputs(*s),
          [](const json& l) -> std::optional<double> {
            return l.at("activation").at("token_max").at("max").get<double>();
          },
          t.marks);
      out.push_back(std::move(t));
    }
    Chart k{"kurtosis_weight" + (after ? "_" + label : "") + ".svg",
            "Weight kurtosis per layer" + suffix, "", ""};
    k.svg = line_chart(
        *s, k.title, "kurtosis (Gaussian = 3)", all_linears(*s),
        [](const json& l) -> std::optional<double> {
          return l.at("weight").at("kurtosis").get<double>();
        },
        k.marks);
    out.push_back(std::move(k));
  }
  return out;
}

std::string summary_table(const json& snap) {
  std::string t =
      "<table><tr><th>linear</th><th>weight abs-max (max over layers)</th>"
      "<th>weight kurtosis (max)</th><th>act. abs-max (max)</th>"
      "<th>act. max/median (max)</th><th>act. outlier channels (mean share)</th></tr>";
  for (const auto& name : linear_names(snap)) {
    double wmax = 0, kmax = 0, amax = 0, spread = 0, share = 0;
    const auto rows = linears_named(snap, name);
    for (const json* l : rows) {
      wmax = std::max(wmax, l->at("weight").at("abs_max").get<double>());
      kmax = std::max(kmax, l->at("weight").at("kurtosis").get<double>());
      if (l->contains("activation")) {
        amax = std::max(amax, (*l)["activation"]["abs_max"].get<double>());
        spread = std::max(spread, (*l)["activation"]["channel_spread"].get<double>());
        share +=
            (*l)["activation"]["outlier_share"].get<double>() / static_cast<double>(rows.size());
      }
    }
    t += fmt::format(
        "<tr><td>{}</td><td>{:.4g}</td><td>{:.4g}</td><td>{:.4g}</td><td>{:.4g}</td>"
        "<td>{:.2f}%</td></tr>",
        esc(name), wmax, kmax, amax, spread, 100 * share);
  }
  return t + "</table>\n";
}

}  // namespace

std::map<std::string, std::string> inspect_svgs(const json& before, const json* after) {
  std::map<std::string, std::string> out;
  for (auto& c : charts(before, after))
    if (!c.svg.empty()) out[c.file] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + c.svg;
  return out;
}

std::string inspect_html(const json& before, const json* after, const std::string& title) {
  std::string html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + esc(title) +
                     "</title><style>" + kStyle + "</style></head><body>\n<h1>" + esc(title) +
                     "</h1>\n";
  html += "<p class=\"note\">Outlier channels: abs-max above " +
          fmt::format("{:g}", before.at("options").at("outlier_factor").get<double>()) +
          " x the median channel abs-max of the same tensor. Heatmaps use a log10 colour scale "
          "shared by the before and after charts of one input.</p>\n";
  html += "<h2>Summary" + std::string(after ? " before" : "") + "</h2>\n" + summary_table(before);
  if (after) html += "<h2>Summary after</h2>\n" + summary_table(*after);
  html += "<h2>Charts</h2>\n";
  for (const auto& c : charts(before, after)) {
    if (c.svg.empty()) continue;
    html += fmt::format(
        "<figure class=\"chart\" data-chart=\"{}\" data-points=\"{}\">"
        "<figcaption>{}</figcaption>{}</figure>\n",
        esc(c.file), c.marks, esc(c.title), c.svg);
  }
  return html + "</body></html>\n";
}

}  // namespace slmq::report
