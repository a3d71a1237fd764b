#pragma once
// The SLMQuant scores (SLMQ_perf, SLMQ_infer, SLMQ_quant) exactly as the paper defines them, and
// SLiM-Eval's relative metrics under slmquant's measurement protocol. Definitions:
// docs/scores.md; published values they reproduce: ../shared/reference/paper_tables.json.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slmq/score/run_record.h"

namespace slmq::score {

// 100 * sqrt(mean_i r_i^2). Throws InternalError for an empty list.
double root_mean_square_score(const std::vector<double>& ratios);

struct PerfScore {
  double value = 0;
  std::vector<std::string> tasks;        // tasks that entered the score, in name order
  std::map<std::string, double> ratios;  // per task: q/b for accuracy, b/q for perplexity
  std::vector<std::string> skipped;  // "task: why" for tasks present in only one run or mismatched
};

// SLMQ_perf of `run` against `baseline` over the tasks both have with the same kind and metric:
// r = A_quant / A_base for accuracies, r = PPL_base / PPL_quant for perplexities (lower is better).
// nullopt when they share no task.
std::optional<PerfScore> slmq_perf(const RunRecord& run, const RunRecord& baseline);

// Which throughput term SLMQ_infer uses. The paper's formula has (TPS_c/TPS)^2 with c the
// compressed model, i.e. the squared speedup; its Table 3 is reproduced only with the MAC ratio
// MACs/MACs_c in that place, because the table reports MACs, not tokens/s.
enum class InferThroughput { kTokensPerS, kMacs };

// 100 * sqrt(((M_b/M_q)^2 + (T)^2 + (S_b/S_q)^2) / 3), M = peak inference memory, S = model size,
// T = TPS_q/TPS_b (kTokensPerS) or MACs_b/MACs_q (kMacs). nullopt when an input is missing or the
// memory kinds differ.
std::optional<double> slmq_infer(const RunRecord& run, const RunRecord& baseline,
                                 InferThroughput term);

// SLMQ_quant for each of `runs` (quantized runs of one model): 100 * sqrt(((T_max/T)^2 +
// (M_max/M)^2) / 2), with T_max and M_max the largest quantization time and peak memory over the
// runs that have both. nullopt for a run without both measurements.
std::vector<std::optional<double>> slmq_quant(const std::vector<const RunRecord*>& runs);

// SLiM-Eval's relative metrics, computed slmquant's way (see docs/scores.md for how each differs
// from the paper's own measurement).
struct RelativeMetrics {
  std::optional<double> speedup;               // TPS_q / TPS_b at the fixed output length
  std::optional<double> latency_ratio;         // p50 latency_b / latency_q (SLiM-Eval's "speedup")
  std::optional<double> memory_change_pct;     // 100 (M_q - M_b) / M_b, same memory_kind only
  std::optional<double> size_change_pct;       // 100 (S_q - S_b) / S_b
  std::optional<double> energy_reduction_pct;  // 100 (1 - E_q / E_b), same fixed workload
  std::map<std::string, double> accuracy_change_pct;  // 100 (A_q - A_b) / A_b; negative = drop
};

RelativeMetrics relative_metrics(const RunRecord& run, const RunRecord& baseline);

// Whether two task results measure the same thing (kind and metric); `why` says otherwise.
bool comparable(const TaskResult& a, const TaskResult& b, std::string* why);

}  // namespace slmq::score
