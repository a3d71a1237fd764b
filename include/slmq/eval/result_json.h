#pragma once
// TaskResult as JSON: our schema plus lm-eval's keys ("acc,none", "acc_stderr,none" with "N/A"
// where lm-eval has no stderr), and per-item records shaped like lm-eval's --log_samples lines.
#include <nlohmann/json.hpp>

#include "slmq/eval/task.h"

namespace slmq::eval {

// {"name", "version", "num_fewshot", "samples", "metrics": {...}, "lm_eval": {"acc,none": ...},
//  "notes": {...}, "children": [...]} (children only for groups).
nlohmann::json result_to_json(const TaskResult& result);
// One item: doc_id, prompt, targets, loglikelihoods, prediction(s), gold, generation, filtered,
// metrics. Written one per line by the caller (tasks never write files).
nlohmann::json item_to_json(const ItemRecord& item);

}  // namespace slmq::eval
