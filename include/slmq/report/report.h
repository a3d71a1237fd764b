#pragma once
// Formats an Analysis: summary.json (schema "slmquant.summary" v1, schemas/summary-v1.schema.json),
// results.csv, report.md, a self-contained report.html with inline SVG charts, and a terminal
// table.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slmq/report/analysis.h"

namespace slmq::report {

inline constexpr int kSummarySchemaVersion = 1;

nlohmann::json summary_json(const Analysis& analysis);
std::string results_csv(const Analysis& analysis);
std::string report_markdown(const Analysis& analysis);
std::string report_html(const Analysis& analysis);
// Fixed-width table of every run for a terminal, `width` columns at most.
std::string terminal_table(const Analysis& analysis, int width);

struct ReportOptions {
  std::vector<std::filesystem::path> inputs;
  std::filesystem::path out_dir;
  AnalysisOptions analysis;
};

// Loads, analyzes and writes the four files atomically into out_dir. Throws ConfigError when no
// input holds a usable result (the skipped files are named in the message).
Analysis write_report(const ReportOptions& options);

// Task columns in the papers' order (MMLU, ARC-c, ARC-e, PIQA, HellaSwag, GSM8K, WikiText), then
// the rest alphabetically; and the papers' column names for them.
bool paper_order(const std::string& a, const std::string& b);
std::string display_name(const std::string& task);

// Number formatting shared by the writers: fixed decimals, "-" for a missing value.
std::string fixed(const std::optional<double>& v, int decimals);

}  // namespace slmq::report
