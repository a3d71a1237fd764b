#include "slmq/data/datasets.h"

#include <algorithm>

#include "slmq/data/data_files.h"
#include "slmq/data/py_regex.h"
#include "slmq/data/py_text.h"

namespace slmq::data {
namespace fs = std::filesystem;
namespace {

// A benchmark file with no documents would score nothing and report a metric of nothing (or a
// perplexity of 1): it is a truncated or wrong file.
template <typename Doc>
std::vector<Doc> nonempty(std::vector<Doc> docs, const fs::path& file) {
  if (docs.empty()) throw_data_error(file, 0, "holds no documents");
  return docs;
}

}  // namespace

std::vector<ArcDoc> load_arc(const fs::path& data_dir, const std::string& config,
                             const std::string& split) {
  const fs::path file = data_dir / "arc" / (config + "-" + split + ".jsonl");
  std::vector<ArcDoc> docs;
  for (const auto& [row, line] : read_jsonl(file)) {
    ArcDoc d;
    d.id = json_string(row, "id", file, line);
    d.question = json_string(row, "question", file, line);
    if (!row.contains("choices") || !row["choices"].is_object())
      throw_data_error(file, line, "missing object 'choices'");
    d.choice_texts = json_string_list(row["choices"], "text", file, line);
    d.choice_labels = json_string_list(row["choices"], "label", file, line);
    d.answer_key = json_string(row, "answerKey", file, line);
    if (d.choice_texts.size() != d.choice_labels.size() || d.choice_texts.empty()) {
      throw_data_error(file, line, "choices.text and choices.label differ in length");
    }
    const auto it = std::find(d.choice_labels.begin(), d.choice_labels.end(), d.answer_key);
    if (it == d.choice_labels.end())
      throw_data_error(file, line, "answerKey '" + d.answer_key + "' is not a choice label");
    d.gold = it - d.choice_labels.begin();
    docs.push_back(std::move(d));
  }
  return nonempty(std::move(docs), file);
}

std::vector<MmluDoc> load_mmlu(const fs::path& data_dir, const std::string& subject,
                               const std::string& split) {
  const fs::path csv = data_dir / "mmlu" / "data" / split / (subject + "_" + split + ".csv");
  const fs::path hf = data_dir / "mmlu" / "hf" / subject / (split + ".jsonl");
  std::vector<MmluDoc> docs;
  if (!fs::exists(csv) && fs::exists(hf)) {
    for (const auto& [row, line] : read_jsonl(hf)) {
      MmluDoc d{json_string(row, "question", hf, line), subject,
                json_string_list(row, "choices", hf, line), json_int(row, "answer", hf, line)};
      if (d.choices.size() != 4 || d.answer < 0 || d.answer > 3)
        throw_data_error(hf, line, "expected 4 choices and answer 0-3");
      docs.push_back(std::move(d));
    }
    return nonempty(std::move(docs), hf);
  }
  for (auto& [fields, line] :
       read_csv(csv, {"question", "choice0", "choice1", "choice2", "choice3", "answer"})) {
    const std::string& a = fields[5];
    if (a.size() != 1 || a[0] < '0' || a[0] > '3')
      throw_data_error(csv, line, "answer must be 0-3, found '" + a + "'");
    docs.push_back({fields[0], subject, {fields[1], fields[2], fields[3], fields[4]}, a[0] - '0'});
  }
  return nonempty(std::move(docs), csv);
}

namespace {

std::vector<long> read_labels(const fs::path& file) {
  const auto lines = split_lines(read_text_file(file));
  std::vector<long> labels;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string v = py_strip(lines[i]);
    if (v.empty()) continue;
    if (v != "0" && v != "1")
      throw_data_error(file, i + 1, "label must be 0 or 1, found '" + v + "'");
    labels.push_back(v[0] - '0');
  }
  return labels;
}

}  // namespace

std::vector<PiqaDoc> load_piqa(const fs::path& data_dir, const std::string& split) {
  const fs::path dir = data_dir / "piqa";
  const fs::path original = dir / (split == "validation" ? "dev.jsonl" : split + ".jsonl");
  const fs::path labels_file =
      dir / ((split == "validation" ? std::string("dev") : split) + "-labels.lst");
  const bool use_original = fs::exists(labels_file);
  const fs::path file = use_original ? original : dir / (split + ".jsonl");
  // The original layout with its labels file lost: name the file that is missing.
  if (!use_original && !fs::exists(file) && fs::exists(original))
    throw_data_error(labels_file, 0, "is missing (the labels of " + original.string() + ")");
  const auto rows = read_jsonl(file);
  std::vector<long> labels;
  if (use_original) {
    labels = read_labels(labels_file);
    if (labels.size() != rows.size()) {
      throw_data_error(labels_file, 0,
                       std::to_string(labels.size()) + " labels for " +
                           std::to_string(rows.size()) + " rows of " + original.string());
    }
  }
  std::vector<PiqaDoc> docs;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [row, line] = rows[i];
    docs.push_back({json_string(row, "goal", file, line), json_string(row, "sol1", file, line),
                    json_string(row, "sol2", file, line),
                    use_original ? labels[i] : json_int(row, "label", file, line)});
  }
  return nonempty(std::move(docs), file);
}

std::vector<Gsm8kDoc> load_gsm8k(const fs::path& data_dir, const std::string& split) {
  const fs::path file = data_dir / "gsm8k" / (split + ".jsonl");
  std::vector<Gsm8kDoc> docs;
  for (const auto& [row, line] : read_jsonl(file)) {
    docs.push_back(
        {json_string(row, "question", file, line), json_string(row, "answer", file, line)});
  }
  return nonempty(std::move(docs), file);
}

std::string hellaswag_preprocess(const std::string& text) {
  static const PyRegex kBrackets("\\[.*?\\]");
  std::string s = py_strip(text);
  s = py_replace(s, " [title]", ". ");
  s = kBrackets.sub(s, "");
  return py_replace(s, "  ", " ");
}

HellaswagDoc hellaswag_process(const HellaswagRaw& raw) {
  HellaswagDoc d;
  const std::string ctx = raw.ctx_a + " " + py_capitalize(raw.ctx_b);
  d.query = hellaswag_preprocess(raw.activity_label + ": " + ctx);
  for (const auto& e : raw.endings) d.choices.push_back(hellaswag_preprocess(e));
  d.gold = raw.label;
  return d;
}

std::vector<HellaswagDoc> load_hellaswag_hf(const fs::path& file) {
  std::vector<HellaswagDoc> docs;
  for (const auto& [row, line] : read_jsonl(file)) {
    HellaswagRaw raw{json_string(row, "activity_label", file, line),
                     json_string(row, "ctx_a", file, line), json_string(row, "ctx_b", file, line),
                     json_string_list(row, "endings", file, line),
                     json_int(row, "label", file, line)};
    if (raw.label < 0 || static_cast<size_t>(raw.label) >= raw.endings.size()) {
      throw_data_error(file, line, "label out of range of the endings");
    }
    HellaswagDoc d = hellaswag_process(raw);
    d.raw_key = row.dump();
    docs.push_back(std::move(d));
  }
  return nonempty(std::move(docs), file);
}

std::vector<HellaswagDoc> load_hellaswag_llamacpp(const fs::path& file) {
  auto lines = split_lines(read_text_file(file));
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.size() % 6 != 0) throw_data_error(file, lines.size(), "expected 6 lines per item");
  std::vector<HellaswagDoc> docs;
  for (size_t i = 0; i < lines.size(); i += 6) {
    const std::string& g = lines[i + 1];
    if (g.size() != 1 || g[0] < '0' || g[0] > '3')
      throw_data_error(file, i + 2, "gold must be 0-3, found '" + g + "'");
    docs.push_back(
        {lines[i], {lines[i + 2], lines[i + 3], lines[i + 4], lines[i + 5]}, g[0] - '0', {}});
  }
  return nonempty(std::move(docs), file);
}

HellaswagData load_hellaswag(const fs::path& data_dir) {
  const fs::path dir = data_dir / "hellaswag";
  HellaswagData data;
  if (fs::exists(dir / "validation.jsonl")) {
    data.layout = HellaswagLayout::kHfRaw;
    data.validation = load_hellaswag_hf(dir / "validation.jsonl");
    if (fs::exists(dir / "train.jsonl")) data.train = load_hellaswag_hf(dir / "train.jsonl");
    return data;
  }
  data.layout = HellaswagLayout::kLlamaCpp;
  data.validation = load_hellaswag_llamacpp(dir / "hellaswag_val_full.txt");
  return data;
}

}  // namespace slmq::data
