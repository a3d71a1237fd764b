#pragma once
// The documents of a task file and lm-eval's doc_to_text / doc_to_target / doc_to_choice and
// few-shot context rules over them (ConfigurableTask.fewshot_context and build_qa_turn, plain
// text without a chat template).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "slmq/eval/jinja_template.h"
#include "task_file_config.h"

namespace slmq::eval::detail {

struct TaskDoc {
  nlohmann::json doc;  // one row as a JSON object
  std::string where;   // "data.jsonl:3" for errors
};

// Rows of one split: JSONL objects as they are; CSV cells as strings, except columns whose every
// cell is an integer literal, which become integers (as pandas infers them).
std::vector<TaskDoc> load_task_split(const TaskFileConfig& cfg, const std::string& split,
                                     const std::filesystem::path& data_dir);

class TaskDocs {
 public:
  // `columns`: the eval split's fields (lm-eval's `features`); a doc_* string equal to one is that
  // column, anything else a template whose fields must all be columns (ConfigError otherwise).
  TaskDocs(const TaskFileConfig& cfg, std::vector<std::string> columns);

  // Integer (multiple-input: the gold index) or string.
  nlohmann::json text(const TaskDoc& d) const;
  // Integer (a choice index), string, or list of strings.
  nlohmann::json target(const TaskDoc& d) const;
  std::vector<std::string> choices(const TaskDoc& d) const;  // empty without doc_to_choice
  std::string description(const TaskDoc& d) const;

  // lm-eval's multiple_input mode (WinoGrande): doc_to_text of the first eval doc is an integer.
  void set_multiple_input(bool on) { multiple_input_ = on; }
  bool multiple_input() const { return multiple_input_; }

  // One few-shot example as build_qa_turn renders it: question, target delimiter, answer, few-shot
  // delimiter.
  std::string fewshot_turn(const TaskDoc& d) const;
  // The eval doc's question (DataError when it is not a string).
  std::string question(const TaskDoc& d) const;

 private:
  nlohmann::json field(const DocField& f, const std::optional<JinjaTemplate>& t,
                       const TaskDoc& d) const;

  const TaskFileConfig& cfg_;
  std::vector<std::string> columns_;
  std::optional<JinjaTemplate> text_, target_, choice_, description_;
  bool multiple_input_ = false;
};

}  // namespace slmq::eval::detail
