#pragma once
// The benchmark datasets in the row schema lm-eval reads from the HF hub, loaded from the local
// layouts of data/SOURCES.md or from HF-schema JSONL as `datasets` exports it
// (scripts/export_datasets.py). Rows keep HF split order. Missing or malformed files throw
// DataError naming file and line.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace slmq::data {

struct ArcDoc {
  std::string id, question;
  std::vector<std::string> choice_texts, choice_labels;
  std::string answer_key;
  long gold = -1;  // choice_labels.index(answer_key)
  bool operator==(const ArcDoc&) const = default;
};
// arc/<config>-<split>.jsonl; config "ARC-Easy" | "ARC-Challenge", split "train" | "validation" |
// "test".
std::vector<ArcDoc> load_arc(const std::filesystem::path& data_dir, const std::string& config,
                             const std::string& split);

struct MmluDoc {
  std::string question, subject;
  std::vector<std::string> choices;  // 4
  long answer = -1;                  // 0..3
};
// mmlu/data/<split>/<subject>_<split>.csv (header question,choice0..3,answer) or the HF export
// mmlu/hf/<subject>/<split>.jsonl (question, subject, choices, answer); split "test" | "dev".
std::vector<MmluDoc> load_mmlu(const std::filesystem::path& data_dir, const std::string& subject,
                               const std::string& split);

struct PiqaDoc {
  std::string goal, sol1, sol2;
  long label = -1;
  bool operator==(const PiqaDoc&) const = default;
};
// validation: piqa/dev.jsonl + piqa/dev-labels.lst (original) or piqa/validation.jsonl (HF);
// train: piqa/train.jsonl (HF, with label) or piqa/train.jsonl + train-labels.lst (original).
std::vector<PiqaDoc> load_piqa(const std::filesystem::path& data_dir, const std::string& split);

struct Gsm8kDoc {
  std::string question, answer;
};
// gsm8k/<split>.jsonl (question, answer), split "train" | "test".
std::vector<Gsm8kDoc> load_gsm8k(const std::filesystem::path& data_dir, const std::string& split);

// HellaSwag as lm-eval's process_docs leaves it: query, choices, gold. `raw` holds the HF row
// fields when the source was the raw schema (needed to compare docs for few-shot exclusion).
struct HellaswagDoc {
  std::string query;
  std::vector<std::string> choices;
  long gold = -1;
  std::string raw_key;  // canonical dump of the raw row; empty for the llama.cpp layout
};
// lm-eval's hellaswag preprocess(text): strip, " [title]" -> ". ", drop [..], one pass "  " -> " ".
std::string hellaswag_preprocess(const std::string& text);
// One raw HF row (ind, activity_label, ctx_a, ctx_b, ctx, endings, source_id, split, split_type,
// label as string or int) through lm-eval's process_docs.
struct HellaswagRaw {
  std::string activity_label, ctx_a, ctx_b;
  std::vector<std::string> endings;
  long label = -1;
};
HellaswagDoc hellaswag_process(const HellaswagRaw& raw);
enum class HellaswagLayout { kHfRaw, kLlamaCpp };
struct HellaswagData {
  HellaswagLayout layout = HellaswagLayout::kHfRaw;
  std::vector<HellaswagDoc> validation;
  std::vector<HellaswagDoc> train;  // HF layout with hellaswag/train.jsonl only
};
// hellaswag/validation.jsonl (+ train.jsonl) in the raw HF schema when present, else the
// llama.cpp text layout hellaswag/hellaswag_val_full.txt (6 lines per item; already
// preprocessed the llama.cpp way: ctx_b not capitalised).
HellaswagData load_hellaswag(const std::filesystem::path& data_dir);
std::vector<HellaswagDoc> load_hellaswag_hf(const std::filesystem::path& file);
std::vector<HellaswagDoc> load_hellaswag_llamacpp(const std::filesystem::path& file);

}  // namespace slmq::data
