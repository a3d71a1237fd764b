#pragma once
// Turns result files into everything a report shows: groups by model with their baseline, the
// SLMQuant scores, SLiM-Eval relative metrics, paired significance, flags, Pareto sets and
// recommendations. Writers (summary.json, CSV, Markdown, HTML, terminal) only format an Analysis.
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slmq/score/pareto.h"
#include "slmq/score/run_record.h"
#include "slmq/score/scores.h"
#include "slmq/score/stats.h"

namespace slmq::report {

// One input file and what became of it.
struct InputFile {
  std::string path;
  std::string status;  // "used" | "skipped" | "duplicate"
  std::string reason;  // why skipped, or the warning (unknown keys, duplicate of ...)
};

// Finds result files: each argument is a file or a directory searched recursively for *.json.
// Files whose "schema" is "slmquant.summary" (a previous report) are ignored silently. Every other
// file that cannot be used is listed with its reason; nothing here throws for a bad file.
std::vector<score::RunRecord> load_results(const std::vector<std::filesystem::path>& inputs,
                                           std::vector<InputFile>* files);

struct TaskStat {
  score::TaskResult result;
  std::optional<double> stderr_value;
  std::string stderr_source;  // "reported" | "binomial from n" | "per-item" | "" (none)
};

struct Objective {
  std::string name;   // key, e.g. "peak_memory_mib"
  std::string label;  // axis label with unit
  score::Direction direction;
};

// The objectives `--objectives` may name, with their directions.
const std::vector<Objective>& objective_catalog();

struct RunSummary {
  std::size_t record = 0;  // index into Analysis::records
  std::string id;          // "<model> <label>", unique within the report
  std::string model;
  std::string label;
  bool is_baseline = false;
  std::string baseline_id;  // empty: none found
  std::map<std::string, TaskStat> tasks;
  std::optional<double> mean_accuracy;  // mean of accuracy tasks, fraction
  std::optional<score::PerfScore> slmq_perf;
  std::optional<double> slmq_infer_tps;
  std::optional<double> slmq_infer_macs;
  std::optional<double> slmq_quant;
  std::optional<score::RelativeMetrics> relative;
  std::map<std::string, score::PairedComparison> comparisons;  // per accuracy task
  std::vector<std::string> flags;
  std::map<std::string, double> objectives;  // objective name -> value, where measured
  bool ok = true;
  std::string failed_reason;
};

struct Front2d {
  std::string x;  // objective names
  std::string y;
  std::vector<std::string> points;  // run ids with both values
  std::vector<std::string> front;   // non-dominated run ids, sorted by x
};

struct ParetoResult {
  std::vector<std::string> objectives;
  std::vector<std::string> candidates;  // run ids with every objective measured
  std::vector<std::string> front;       // non-dominated among candidates
  std::vector<std::string> not_ranked;  // "id: missing x, y"
  std::vector<Front2d> fronts_2d;       // first plotted objective against each other one
};

struct Recommendation {
  std::string scenario;  // accuracy-critical | latency-critical | memory-constrained | ...
  std::string run_id;    // empty when nothing qualifies
  std::string reason;
};

struct Group {
  std::string model;
  std::string baseline_id;
  std::vector<std::string> run_ids;
  ParetoResult pareto;
  std::vector<Recommendation> recommendations;
};

struct AnalysisOptions {
  // Pareto objectives. Empty: per scope, the N-D set uses the default objectives measured by at
  // least half of the scope's runs, and the 2-D fronts every default objective two runs measured.
  std::vector<std::string> objectives;
  score::ComparisonOptions comparison;
  double accuracy_guard = 95.0;  // SLMQ_perf floor for the speed/memory/energy/balanced picks
};

struct Analysis {
  std::vector<score::RunRecord> records;
  std::vector<RunSummary> runs;  // baselines first within each model, models in input order
  std::vector<Group> groups;
  ParetoResult pareto;  // over all runs of all models
  std::vector<InputFile> inputs;
  std::vector<std::string> tasks;  // every task name, sorted
};

// Throws ConfigError for an unknown objective name.
Analysis analyze(std::vector<score::RunRecord> records, const AnalysisOptions& options);

const RunSummary* find_run(const Analysis& analysis, const std::string& id);

// Balanced-pick weights (documented in docs/scores.md).
struct BalancedWeight {
  const char* objective;
  double weight;
};
const std::vector<BalancedWeight>& balanced_weights();

}  // namespace slmq::report
