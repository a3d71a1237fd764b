// report.html: one self-contained page (inline CSS and SVG, no scripts, no external assets).
// Every chart is a <figure class="chart" data-chart=ID data-points=N> whose N data marks carry
// class "mark", so a test (and a reader's tools) can count what was drawn.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "slmq/report/report.h"

namespace slmq::report {
namespace {

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

// Round tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over [lo, hi].
double tick_step(double lo, double hi, int count) {
  double raw = (hi - lo) / count;
  if (raw <= 0) return 1;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

struct Range {
  double lo, hi;
  double at(double v, double a, double b) const {
    return hi > lo ? a + (v - lo) / (hi - lo) * (b - a) : (a + b) / 2;
  }
};

Range padded(std::vector<double> v, bool include_zero) {
  if (include_zero) v.push_back(0);
  auto [mn, mx] = std::minmax_element(v.begin(), v.end());
  double lo = *mn, hi = *mx;
  double pad = hi > lo ? 0.06 * (hi - lo) : (std::abs(hi) > 0 ? 0.1 * std::abs(hi) : 1);
  return {include_zero && lo >= 0 ? 0 : lo - pad, hi + pad};
}

std::string figure(const std::string& id, const std::string& title, std::size_t points,
                   const std::string& svg, const std::string& note) {
  return fmt::format(
      "<figure class=\"chart\" id=\"chart-{0}\" data-chart=\"{0}\" "
      "data-points=\"{1}\">\n<figcaption>{2}</figcaption>\n"
      "{3}{4}</figure>\n",
      esc(id), points, esc(title), svg,
      note.empty() ? "" : "<p class=\"note\">" + esc(note) + "</p>\n");
}

std::string axis_ticks_x(const Range& r, double x0, double x1, double y) {
  std::string s;
  double step = tick_step(r.lo, r.hi, 5);
  for (double t = std::ceil(r.lo / step) * step; t <= r.hi + 1e-9 * step; t += step) {
    double x = r.at(t, x0, x1);
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" class=\"tick\"/><text x=\"{0}\" "
        "y=\"{3}\" "
        "text-anchor=\"middle\">{4:g}</text>",
        num(x), num(y), num(y + 4), num(y + 16), std::abs(t) < 1e-12 ? 0.0 : t);
  }
  return s;
}

std::string axis_ticks_y(const Range& r, double y0, double y1, double x) {
  std::string s;
  double step = tick_step(r.lo, r.hi, 5);
  for (double t = std::ceil(r.lo / step) * step; t <= r.hi + 1e-9 * step; t += step) {
    double y = r.at(t, y0, y1);
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" class=\"grid\"/><text x=\"{3}\" "
        "y=\"{4}\" "
        "text-anchor=\"end\">{5:g}</text>",
        num(x), num(x + 520), num(y), num(x - 6), num(y + 4), std::abs(t) < 1e-12 ? 0.0 : t);
  }
  return s;
}

struct Point {
  std::string label;
  double x, y;
  bool front;
  std::string color;
};

std::string scatter(const std::string& id, const std::string& title, const std::string& xl,
                    const std::string& yl, const std::vector<Point>& pts,
                    const std::vector<std::string>& legend) {
  const double x0 = 70, x1 = 590, y0 = 330, y1 = 20;
  std::vector<double> xs, ys;
  for (const auto& p : pts) {
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  Range rx = padded(xs, false), ry = padded(ys, false);
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 780 400\" width=\"780\" height=\"400\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
      esc(title));
  svg += axis_ticks_y(ry, y0, y1, x0) + axis_ticks_x(rx, x0, x1, y0);
  svg +=
      fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" class=\"axis\"/>", x0, x1, y0);
  svg += fmt::format("<text x=\"{}\" y=\"368\" text-anchor=\"middle\">{}</text>", (x0 + x1) / 2,
                     esc(xl));
  svg += fmt::format(
      "<text x=\"16\" y=\"{0}\" transform=\"rotate(-90 16 {0})\" text-anchor=\"middle\">{1}</text>",
      (y0 + y1) / 2, esc(yl));
  std::vector<const Point*> front;
  for (const auto& p : pts) {
    if (p.front) front.push_back(&p);
  }
  std::sort(front.begin(), front.end(), [](const Point* a, const Point* b) { return a->x < b->x; });
  std::string line;
  for (const Point* p : front)
    line += fmt::format("{},{} ", num(rx.at(p->x, x0, x1)), num(ry.at(p->y, y0, y1)));
  if (front.size() > 1) svg += "<polyline class=\"front\" points=\"" + line + "\"/>";
  for (const auto& p : pts) {
    svg += fmt::format(
        "<circle class=\"mark{}\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"><title>{}: {:.4g}, "
        "{:.4g}{}"
        "</title></circle>",
        p.front ? " on-front" : "", num(rx.at(p.x, x0, x1)), num(ry.at(p.y, y0, y1)),
        p.front ? 6 : 4, p.color, esc(p.label), p.x, p.y, p.front ? " (Pareto front)" : "");
  }
  for (std::size_t i = 0; i < legend.size(); ++i) {
    svg += fmt::format(
        "<rect x=\"600\" y=\"{0}\" width=\"8\" height=\"8\" fill=\"{1}\"/><text x=\"612\" "
        "y=\"{2}\" "
        "class=\"legend\">{3}</text>",
        20 + 14 * i, kPalette[i % 8], 28 + 14 * i, esc(legend[i].substr(0, 28)));
  }
  svg += "</svg>\n";
  return figure(id, title, pts.size(), svg,
                "Larger dots with the line: the non-dominated (Pareto) front.");
}

struct Bar {
  std::string label;
  double value;
  std::string color;
};

std::string bars(const std::string& id, const std::string& title, const std::string& unit,
                 const std::vector<Bar>& data, double reference, const std::string& note) {
  const double x0 = 330, x1 = 730, row = 18;
  const double height = 50 + row * static_cast<double>(data.size());
  std::vector<double> vs = {reference};
  for (const auto& b : data) vs.push_back(b.value);
  Range r = padded(vs, reference == 0);
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 760 {0}\" width=\"760\" height=\"{0}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>{1}</title>",
      num(height), esc(title));
  svg += axis_ticks_x(r, x0, x1, height - 30);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", (x0 + x1) / 2,
                     num(height - 2), esc(unit));
  double ref = r.at(reference, x0, x1);
  for (std::size_t i = 0; i < data.size(); ++i) {
    double y = 10 + row * static_cast<double>(i);
    double v = r.at(data[i].value, x0, x1);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", x0 - 6, num(y + 12),
                       esc(data[i].label));
    svg += fmt::format(
        "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: "
        "{:.4g} "
        "{}</title></rect>",
        num(std::min(v, ref)), num(y + 2), num(std::max(std::abs(v - ref), 0.5)), row - 4,
        data[i].color, esc(data[i].label), data[i].value, esc(unit));
  }
  svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"6\" y2=\"{1}\" class=\"axis\"/></svg>\n",
                     num(ref), num(height - 30));
  return figure(id, title, data.size(), svg, note);
}

std::string heat_color(double t) {
  // White to dark blue; t in [0, 1].
  int r = static_cast<int>(247 - t * (247 - 8)), g = static_cast<int>(251 - t * (251 - 48)),
      b = static_cast<int>(255 - t * (255 - 107));
  return fmt::format("rgb({},{},{})", r, g, b);
}

std::string heatmap(const Analysis& a) {
  std::vector<std::string> tasks;
  for (const auto& t : a.tasks) {
    bool acc = std::any_of(a.runs.begin(), a.runs.end(), [&](const RunSummary& r) {
      auto it = r.tasks.find(t);
      return it != r.tasks.end() && it->second.result.kind == score::TaskKind::kAccuracy;
    });
    if (acc) tasks.push_back(t);
  }
  std::sort(tasks.begin(), tasks.end(), paper_order);
  std::vector<const RunSummary*> runs;
  for (const auto& r : a.runs) {
    if (r.ok && r.mean_accuracy) runs.push_back(&r);
  }
  if (tasks.empty() || runs.empty()) return "";
  const double x0 = 250, cw = std::min(90.0, 400.0 / static_cast<double>(tasks.size())), ch = 18;
  const double width = x0 + cw * static_cast<double>(tasks.size()) + 10,
               height = 40 + ch * static_cast<double>(runs.size());
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>Task accuracy</title>",
      num(width), num(height));
  std::size_t marks = 0;
  for (std::size_t c = 0; c < tasks.size(); ++c) {
    svg += fmt::format("<text x=\"{}\" y=\"14\" text-anchor=\"middle\">{}</text>",
                       num(x0 + cw * (c + 0.5)), esc(display_name(tasks[c])));
  }
  for (std::size_t r = 0; r < runs.size(); ++r) {
    double y = 22 + ch * static_cast<double>(r);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", x0 - 6, num(y + 13),
                       esc(runs[r]->id));
    for (std::size_t c = 0; c < tasks.size(); ++c) {
      auto it = runs[r]->tasks.find(tasks[c]);
      if (it == runs[r]->tasks.end() || it->second.result.kind != score::TaskKind::kAccuracy)
        continue;
      double v = it->second.result.value;
      svg += fmt::format(
          "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} "
          "{}: "
          "{:.2f}%</title></rect><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" "
          "fill=\"{}\">{:.1f}</text>",
          num(x0 + cw * c), num(y), num(cw - 1), ch - 1, heat_color(v), esc(runs[r]->id),
          esc(tasks[c]), 100 * v, num(x0 + cw * (c + 0.5)), num(y + 13), v > 0.55 ? "#fff" : "#111",
          100 * v);
      ++marks;
    }
  }
  svg += "</svg>\n";
  return figure("accuracy-heatmap", "Task accuracy (%)", marks, svg, "Darker is more accurate.");
}

std::string model_color(const Analysis& a, const std::string& model) {
  for (std::size_t i = 0; i < a.groups.size(); ++i) {
    if (a.groups[i].model == model) return kPalette[i % 8];
  }
  return kPalette[0];
}

const Objective& objective_of(const std::string& name) {
  for (const auto& o : objective_catalog()) {
    if (o.name == name) return o;
  }
  return objective_catalog().front();
}

std::string pareto_charts(const Analysis& a) {
  std::vector<std::string> legend;
  for (const auto& g : a.groups) legend.push_back(g.model);
  std::string out;
  for (const auto& f : a.pareto.fronts_2d) {
    std::vector<Point> pts;
    for (const auto& id : f.points) {
      const RunSummary& r = *find_run(a, id);
      bool on = std::find(f.front.begin(), f.front.end(), id) != f.front.end();
      pts.push_back({id, r.objectives.at(f.x), r.objectives.at(f.y), on, model_color(a, r.model)});
    }
    if (pts.empty()) continue;
    const auto& ox = objective_of(f.x);
    const auto& oy = objective_of(f.y);
    out += scatter("pareto-" + f.x + "-vs-" + f.y, oy.label + " vs " + ox.label, ox.label, oy.label,
                   pts, legend);
  }
  return out;
}

// One bar per quantized run that has the value.
template <typename F>
std::string run_bars(const Analysis& a, const std::string& id, const std::string& title,
                     const std::string& unit, double reference, const std::string& note, F value) {
  std::vector<Bar> data;
  for (const auto& r : a.runs) {
    if (r.is_baseline || !r.ok) continue;
    if (auto v = value(r)) data.push_back({r.id, *v, model_color(a, r.model)});
  }
  return data.empty() ? "" : bars(id, title, unit, data, reference, note);
}

std::string relative_charts(const Analysis& a) {
  std::string out;
  std::vector<Bar> drops;
  for (const auto& r : a.runs) {
    if (!r.relative) continue;
    for (const auto& [task, v] : r.relative->accuracy_change_pct)
      drops.push_back({r.id + " / " + task, v, model_color(a, r.model)});
  }
  if (!drops.empty()) {
    out +=
        bars("accuracy-change", "Accuracy change against the baseline (%)", "relative change (%)",
             drops, 0, "100 (A_quant - A_base) / A_base; negative is a drop.");
  }
  auto rel = [](auto pick) {
    return [pick](const RunSummary& r) { return r.relative ? pick(*r.relative) : std::nullopt; };
  };
  out += run_bars(a, "slmq-perf", "SLMQ_perf (100 = baseline)", "SLMQ_perf", 100, "",
                  [](const RunSummary& r) {
                    return r.slmq_perf ? std::optional<double>(r.slmq_perf->value) : std::nullopt;
                  });
  out += run_bars(a, "speedup", "Speedup (tokens/s ratio at fixed output length)", "x baseline", 1,
                  "", rel([](const score::RelativeMetrics& m) { return m.speedup; }));
  out += run_bars(a, "latency-ratio", "Latency ratio (baseline p50 / quantized p50)", "x baseline",
                  1, "", rel([](const score::RelativeMetrics& m) { return m.latency_ratio; }));
  out += run_bars(a, "memory-change", "Peak memory change (%)", "change (%)", 0, "",
                  rel([](const score::RelativeMetrics& m) { return m.memory_change_pct; }));
  out += run_bars(a, "size-change", "Model size change (%)", "change (%)", 0, "",
                  rel([](const score::RelativeMetrics& m) { return m.size_change_pct; }));
  out += run_bars(a, "energy-reduction", "Energy reduction (%)", "reduction (%)", 0, "",
                  rel([](const score::RelativeMetrics& m) { return m.energy_reduction_pct; }));
  return out;
}

// Absolute latency and energy of every successful run, baselines included.
std::string latency_charts(const Analysis& a) {
  auto chart = [&](const std::string& id, const std::string& title, const std::string& unit,
                   const std::string& note, auto pick) {
    std::vector<Bar> data;
    for (const auto& r : a.runs) {
      if (!r.ok) continue;
      if (auto v = pick(a.records[r.record].profile))
        data.push_back({r.id, *v, model_color(a, r.model)});
    }
    return data.empty() ? std::string() : bars(id, title, unit, data, 0, note);
  };
  return chart("ttft", "Time to first token, median (ms)", "ms", "",
               [](const score::Profile& p) { return p.ttft_ms_p50; }) +
         chart("tpot", "Time per output token, median (ms)", "ms", "",
               [](const score::Profile& p) { return p.tpot_ms_p50; }) +
         chart("energy", "Energy of the profiling workload (J)", "J",
               "Measured counters only (RAPL, NVML): absent where the machine has none.",
               [](const score::Profile& p) { return p.energy_j; });
}

std::string cost_charts(const Analysis& a) {
  std::string out;
  out += run_bars(a, "quant-time", "Quantization time (s)", "seconds", 0, "",
                  [&](const RunSummary& r) { return a.records[r.record].quant_cost.wall_time_s; });
  out +=
      run_bars(a, "quant-memory", "Quantization peak memory (MiB)", "MiB", 0, "",
               [&](const RunSummary& r) { return a.records[r.record].quant_cost.peak_memory_mib; });
  out += run_bars(a, "slmq-quant", "SLMQ_quant (cheapest method scores highest)", "SLMQ_quant", 100,
                  "", [](const RunSummary& r) { return r.slmq_quant; });
  return out;
}

std::string inline_markdown(const std::string& text) {
  std::string s = esc(text);
  for (std::size_t at; (at = s.find("**")) != std::string::npos;) {
    std::size_t end = s.find("**", at + 2);
    if (end == std::string::npos) break;
    s = s.substr(0, at) + "<strong>" + s.substr(at + 2, end - at - 2) + "</strong>" +
        s.substr(end + 2);
  }
  return s;
}

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 1;
  for (std::size_t bar; (bar = line.find(" |", start)) != std::string::npos; start = bar + 2) {
    std::string cell = line.substr(start, bar - start);
    cells.push_back(cell.empty() || cell[0] != ' ' ? cell : cell.substr(1));
  }
  return cells;
}

// The Markdown report's own subset (headings, pipe tables, lists, paragraphs) as HTML, so the two
// files always show the same tables.
std::string markdown_to_html(const std::string& md) {
  std::string html, line;
  bool in_table = false, in_list = false, header_row = false;
  auto close = [&] {
    if (in_table) html += "</tbody></table>\n";
    if (in_list) html += "</ul>\n";
    in_table = in_list = false;
  };
  std::size_t pos = 0;
  while (pos < md.size()) {
    std::size_t nl = md.find('\n', pos);
    line = md.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? md.size() : nl + 1;
    if (line.rfind("| ---", 0) == 0 || line.rfind("| --- |", 0) == 0) continue;
    if (line.rfind("| ", 0) == 0) {
      if (!in_table) {
        close();
        html += "<table><thead>";
        in_table = header_row = true;
      }
      std::string tag = header_row ? "th" : "td";
      html += "<tr>";
      for (const auto& c : split_cells(line))
        html += "<" + tag + ">" + inline_markdown(c) + "</" + tag + ">";
      html += header_row ? "</tr></thead><tbody>\n" : "</tr>\n";
      header_row = false;
      continue;
    }
    if (line.rfind("- ", 0) == 0) {
      if (!in_list) {
        close();
        html += "<ul>\n";
        in_list = true;
      }
      html += "<li>" + inline_markdown(line.substr(2)) + "</li>\n";
      continue;
    }
    close();
    if (line.empty()) continue;
    int level = 0;
    while (level < static_cast<int>(line.size()) && line[level] == '#') ++level;
    if (level > 0 && level <= 3 && line.size() > static_cast<std::size_t>(level) &&
        line[level] == ' ') {
      html += fmt::format("<h{0}>{1}</h{0}>\n", level, inline_markdown(line.substr(level + 1)));
    } else {
      html += "<p>" + inline_markdown(line) + "</p>\n";
    }
  }
  close();
  return html;
}

const char* const kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f4f6}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
figure.chart{margin:16px 0;display:inline-block;vertical-align:top}figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:11px;fill:#222}.axis{stroke:#333}.tick{stroke:#333}.grid{stroke:#e5e7eb}
.front{fill:none;stroke:#111;stroke-width:1.5;stroke-dasharray:4 3}circle.mark{stroke:#fff;stroke-width:1;opacity:.9}
circle.on-front{stroke:#111;stroke-width:1.5}.note{color:#555;font-size:12px;margin:2px 0}.legend{font-size:10px}
)";

}  // namespace

std::string report_html(const Analysis& a) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>slmquant report</title><style>";
  html += kStyle;
  html += "</style></head><body>\n";
  html += markdown_to_html(report_markdown(a));
  html += "<h2>Charts</h2>\n<section id=\"charts\">\n";
  html += "<h3>Pareto fronts</h3>\n" + pareto_charts(a);
  html += "<h3>Accuracy</h3>\n" + heatmap(a);
  html += "<h3>Relative to the baseline</h3>\n" + relative_charts(a);
  html += "<h3>Latency and energy</h3>\n" + latency_charts(a);
  html += "<h3>Quantization cost</h3>\n" + cost_charts(a);
  html += "</section>\n</body></html>\n";
  return html;
}

}  // namespace slmq::report
