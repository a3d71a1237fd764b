#include "task_docs.h"

#include <algorithm>
#include <regex>

#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/py_text.h"

namespace slmq::eval::detail {

using nlohmann::json;

namespace {

std::filesystem::path locate(const TaskFileConfig& cfg, const std::string& name,
                             const std::string& split, const std::filesystem::path& data_dir) {
  const std::filesystem::path p(name);
  if (p.is_absolute()) {
    if (!std::filesystem::exists(p))
      data::throw_data_error(cfg.file, 0, "data file for split '" + split + "' not found: " + name);
    return p;
  }
  const auto beside = cfg.file.parent_path() / p;
  if (std::filesystem::exists(beside)) return beside;
  const auto in_data = data_dir / p;
  if (std::filesystem::exists(in_data)) return in_data;
  data::throw_data_error(cfg.file, 0,
                         "data file '" + name + "' for split '" + split +
                             "' not found (looked in " + beside.string() + " and " +
                             in_data.string() + ")");
}

void read_jsonl_docs(const std::filesystem::path& file, std::vector<TaskDoc>& out) {
  for (auto& row : data::read_jsonl(file)) {
    if (!row.value.is_object()) data::throw_data_error(file, row.line, "expected a JSON object");
    out.push_back({std::move(row.value), file.string() + ":" + std::to_string(row.line)});
  }
}

void read_csv_docs(const std::filesystem::path& file, std::vector<TaskDoc>& out) {
  const auto table = data::read_csv_table(file);
  static const std::regex kInt("-?[0-9]+");
  std::vector<bool> integer(table.header.size(), !table.rows.empty());
  for (const auto& row : table.rows)
    for (size_t c = 0; c < row.fields.size(); ++c)
      if (!std::regex_match(row.fields[c], kInt)) integer[c] = false;
  for (const auto& row : table.rows) {
    json doc = json::object();
    for (size_t c = 0; c < row.fields.size(); ++c) {
      if (integer[c])
        doc[table.header[c]] = std::stoll(row.fields[c]);
      else
        doc[table.header[c]] = row.fields[c];
    }
    out.push_back({std::move(doc), file.string() + ":" + std::to_string(row.line)});
  }
}

bool is_column(const std::vector<std::string>& columns, const json& value) {
  return value.is_string() &&
         std::find(columns.begin(), columns.end(), value.get<std::string>()) != columns.end();
}

}  // namespace

std::vector<TaskDoc> load_task_split(const TaskFileConfig& cfg, const std::string& split,
                                     const std::filesystem::path& data_dir) {
  std::vector<TaskDoc> docs;
  for (const auto& name : cfg.data_files.at(split)) {
    const auto file = locate(cfg, name, split, data_dir);
    if (cfg.dataset_format == "json")
      read_jsonl_docs(file, docs);
    else
      read_csv_docs(file, docs);
  }
  return docs;
}

TaskDocs::TaskDocs(const TaskFileConfig& cfg, std::vector<std::string> columns)
    : cfg_(cfg), columns_(std::move(columns)) {
  auto compile = [&](const DocField& f, std::optional<JinjaTemplate>& out) {
    if (!f.present || !f.value.is_string() || is_column(columns_, f.value)) return;
    out.emplace(f.value.get<std::string>(), f.where);
    for (const auto& name : out->fields()) {
      if (std::find(columns_.begin(), columns_.end(), name) != columns_.end()) continue;
      std::string list;
      for (const auto& c : columns_) list += (list.empty() ? "" : ", ") + c;
      throw ConfigError(f.where + ": the template refers to '" + name +
                        "', which is not a column of the data (columns: " + list + ")");
    }
  };
  compile(cfg.doc_to_text, text_);
  compile(cfg.doc_to_target, target_);
  compile(cfg.doc_to_choice, choice_);
  if (choice_ && !choice_->single_expression())
    throw UnsupportedError(cfg.doc_to_choice.where +
                           ": doc_to_choice must be a column, a list, or one {{ expression }} "
                           "giving a list");
  if (!cfg.description.empty()) {
    DocField d{true, cfg.description, cfg.where("description")};
    compile(d, description_);
  }
}

json TaskDocs::field(const DocField& f, const std::optional<JinjaTemplate>& t,
                     const TaskDoc& d) const {
  if (!f.present) return nullptr;
  if (!f.value.is_string()) return f.value;  // an integer or a YAML list
  if (!t) {
    const auto it = d.doc.find(f.value.get<std::string>());
    if (it == d.doc.end())
      throw DataError(d.where + ": missing column '" + f.value.get<std::string>() + "' (" +
                      f.where + ")");
    return *it;
  }
  return t->render(d.doc, d.where);
}

json TaskDocs::text(const TaskDoc& d) const {
  json v = field(cfg_.doc_to_text, text_, d);
  // lm-eval: a rendered template of digits is an index when the task has choices.
  if (text_ && cfg_.doc_to_choice.present && data::is_ascii_digits(v.get<std::string>()))
    return std::stoll(v.get<std::string>());
  return v;
}

json TaskDocs::target(const TaskDoc& d) const {
  json v = field(cfg_.doc_to_target, target_, d);
  if (!target_) return v;
  const std::string s = v.get<std::string>();
  if (cfg_.doc_to_choice.present && data::is_ascii_digits(s)) return std::stoll(s);
  // lm-eval literal_evals "[...]": a list of targets. Only a template that is one expression
  // giving a list reproduces that exactly.
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']' && target_->single_expression()) {
    json list = target_->evaluate(d.doc, d.where);
    if (list.is_array()) return list;
  }
  return v;
}

std::vector<std::string> TaskDocs::choices(const TaskDoc& d) const {
  if (!cfg_.doc_to_choice.present) return {};
  const json v =
      choice_ ? choice_->evaluate(d.doc, d.where) : field(cfg_.doc_to_choice, choice_, d);
  if (v.is_object()) {
    std::vector<std::string> out;
    for (const auto& [k, x] : v.items()) out.push_back(py_str(x));
    return out;
  }
  if (!v.is_array())
    throw DataError(d.where + ": doc_to_choice gives " + py_str(v).substr(0, 60) +
                    ", not a list (" + cfg_.doc_to_choice.where + ")");
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(py_str(x));
  return out;
}

std::string TaskDocs::description(const TaskDoc& d) const {
  if (cfg_.description.empty()) return "";
  if (!description_) return py_str(d.doc.at(cfg_.description));
  return description_->render(d.doc, d.where);
}

std::string TaskDocs::question(const TaskDoc& d) const {
  const json q = text(d);
  if (!q.is_string())
    throw DataError(d.where + ": doc_to_text gives " + py_str(q) + ", not a string (" +
                    cfg_.doc_to_text.where + ")");
  return q.get<std::string>();
}

std::string TaskDocs::fewshot_turn(const TaskDoc& d) const {
  json q = text(d);
  std::vector<std::string> c = choices(d);
  const json a = target(d);
  if (multiple_input_) {
    if (!q.is_number_integer() || q.get<int64_t>() < 0 ||
        q.get<int64_t>() >= static_cast<int64_t>(c.size()))
      throw DataError(d.where + ": doc_to_text must give a choice index in multiple-input tasks");
    q = c[static_cast<size_t>(q.get<int64_t>())];
    c.clear();
  }
  if (!q.is_string()) throw DataError(d.where + ": doc_to_text of a few-shot example is not text");
  const bool has_answer = !a.is_null() && !(a.is_string() && a.get<std::string>().empty());
  std::string turn = q.get<std::string>() + (has_answer ? cfg_.target_delimiter : "");
  if (!has_answer) return turn;
  json answer = a;
  if (!c.empty() && a.is_number_integer()) {
    const int64_t i = a.get<int64_t>();
    if (i < 0 || i >= static_cast<int64_t>(c.size()))
      throw DataError(d.where + ": target index " + std::to_string(i) + " out of range");
    answer = c[static_cast<size_t>(i)];
  } else if (a.is_array() && !a.empty()) {
    answer = a.front();
  }
  if (!answer.is_string())
    throw DataError(d.where + ": the few-shot answer is " + py_str(answer) + ", not a string (" +
                    cfg_.doc_to_target.where + ")");
  return turn + answer.get<std::string>() + cfg_.fewshot_delimiter;
}

}  // namespace slmq::eval::detail
