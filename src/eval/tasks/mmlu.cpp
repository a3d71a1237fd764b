// mmlu (lm-eval tasks/mmlu/default): 57 subtasks mmlu_<subject>, each with the subject
// description, first_n few-shot examples from dev, metric acc; groups mmlu_stem, mmlu_other,
// mmlu_social_sciences, mmlu_humanities and mmlu aggregate their leaf subtasks weighted by size.
#include <array>

#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/datasets.h"
#include "slmq/data/py_text.h"
#include "task_support.h"

namespace slmq::eval::detail {
namespace {

struct Subject {
  const char* name;
  const char* category;  // group suffix: stem, other, social_sciences, humanities
};

// Category tags of lm-eval's mmlu_<subject>.yaml files.
constexpr std::array<Subject, 57> kSubjects = {{
    {"abstract_algebra", "stem"},
    {"anatomy", "stem"},
    {"astronomy", "stem"},
    {"business_ethics", "other"},
    {"clinical_knowledge", "other"},
    {"college_biology", "stem"},
    {"college_chemistry", "stem"},
    {"college_computer_science", "stem"},
    {"college_mathematics", "stem"},
    {"college_medicine", "other"},
    {"college_physics", "stem"},
    {"computer_security", "stem"},
    {"conceptual_physics", "stem"},
    {"econometrics", "social_sciences"},
    {"electrical_engineering", "stem"},
    {"elementary_mathematics", "stem"},
    {"formal_logic", "humanities"},
    {"global_facts", "other"},
    {"high_school_biology", "stem"},
    {"high_school_chemistry", "stem"},
    {"high_school_computer_science", "stem"},
    {"high_school_european_history", "humanities"},
    {"high_school_geography", "social_sciences"},
    {"high_school_government_and_politics", "social_sciences"},
    {"high_school_macroeconomics", "social_sciences"},
    {"high_school_mathematics", "stem"},
    {"high_school_microeconomics", "social_sciences"},
    {"high_school_physics", "stem"},
    {"high_school_psychology", "social_sciences"},
    {"high_school_statistics", "stem"},
    {"high_school_us_history", "humanities"},
    {"high_school_world_history", "humanities"},
    {"human_aging", "other"},
    {"human_sexuality", "social_sciences"},
    {"international_law", "humanities"},
    {"jurisprudence", "humanities"},
    {"logical_fallacies", "humanities"},
    {"machine_learning", "stem"},
    {"management", "other"},
    {"marketing", "other"},
    {"medical_genetics", "other"},
    {"miscellaneous", "other"},
    {"moral_disputes", "humanities"},
    {"moral_scenarios", "humanities"},
    {"nutrition", "other"},
    {"philosophy", "humanities"},
    {"prehistory", "humanities"},
    {"professional_accounting", "other"},
    {"professional_law", "humanities"},
    {"professional_medicine", "other"},
    {"professional_psychology", "social_sciences"},
    {"public_relations", "social_sciences"},
    {"security_studies", "social_sciences"},
    {"sociology", "social_sciences"},
    {"us_foreign_policy", "social_sciences"},
    {"virology", "other"},
    {"world_religions", "humanities"},
}};
constexpr std::array<const char*, 4> kCategories = {"stem", "other", "social_sciences",
                                                    "humanities"};

std::string doc_to_text(const data::MmluDoc& d) {
  return data::py_strip(d.question) + "\nA. " + d.choices[0] + "\nB. " + d.choices[1] + "\nC. " +
         d.choices[2] + "\nD. " + d.choices[3] + "\nAnswer:";
}

const std::vector<std::string>& letters() {
  static const std::vector<std::string> kLetters = {"A", "B", "C", "D"};
  return kLetters;
}

// Which subjects lm-eval's task or group `name` covers: mmlu (all), mmlu_<category>,
// mmlu_<subject>; empty for other names.
std::vector<const Subject*> selected_subjects(const std::string& name) {
  std::vector<const Subject*> out;
  for (const auto& subject : kSubjects) {
    if (name == "mmlu" || name == std::string("mmlu_") + subject.category ||
        name == std::string("mmlu_") + subject.name)
      out.push_back(&subject);
  }
  return out;
}

class MmluTask : public Task {
 public:
  MmluTask(const TaskOptions& options, std::string name)
      : name_(std::move(name)), k_(options.num_fewshot.value_or(0)) {
    const auto subjects = selected_subjects(name_);
    if (subjects.empty()) throw ConfigError("unknown MMLU task or group '" + name_ + "'");
    if (k_ > 5)
      throw ConfigError("mmlu: num_fewshot " + std::to_string(k_) +
                        " exceeds the 5 dev examples per subject");
    const auto dir = data::resolve_data_dir(options.data_dir);
    for (const Subject* s : subjects) {
      const Subject& subject = *s;
      const auto test = data::load_mmlu(dir, subject.name, "test");
      std::string prefix = "The following are multiple choice questions (with answers) about " +
                           data::py_replace(subject.name, "_", " ") + ".\n\n";
      if (k_ > 0) {
        const auto dev = data::load_mmlu(dir, subject.name, "dev");
        if (dev.size() < static_cast<size_t>(k_)) {
          data::throw_data_error(
              dir / "mmlu", 0,
              std::string(subject.name) + " has fewer than " + std::to_string(k_) + " dev rows");
        }
        for (int i = 0; i < k_; ++i)
          prefix += fewshot_turn(doc_to_text(dev[i]), letters()[dev[i].answer]);
      }
      Part part{subject.name, subject.category, requests_.size(), {}};
      for (size_t i = 0; i < apply_limit(test.size(), options); ++i) {
        part.docs.push_back({doc_to_text(test[i]), letters(), test[i].answer});
        append_choice_requests(requests_, num_docs_ + i, prefix + part.docs.back().query,
                               part.docs.back());
      }
      num_docs_ += part.docs.size();
      parts_.push_back(std::move(part));
    }
  }

  std::string name() const override { return name_; }
  RequestType request_type() const override { return RequestType::kLoglikelihood; }
  size_t num_docs() const override { return num_docs_; }
  const std::vector<Request>& requests() const override { return requests_; }

  TaskResult score(const std::vector<Response>& responses) const override {
    check_response_count("mmlu", requests_.size(), responses.size());
    std::vector<TaskResult> leaves;
    for (const auto& p : parts_) {
      leaves.push_back(score_multiple_choice(std::string("mmlu_") + p.subject, "1.0", k_, p.docs,
                                             requests_, responses, p.first_request, false));
    }
    // A single subject is its leaf; a category group aggregates its leaves.
    if (name_ != "mmlu" && parts_.size() == 1 && name_ == leaves.front().name)
      return leaves.front();
    if (name_ != "mmlu") return group(name_, leaves, [](const Part&) { return true; });
    // The mmlu group aggregates all leaves; its children are the four category groups.
    TaskResult top = group("mmlu", leaves, [](const Part&) { return true; });
    top.children.clear();
    for (const char* category : kCategories) {
      top.children.push_back(group(std::string("mmlu_") + category, leaves, [&](const Part& p) {
        return std::string(p.category) == category;
      }));
    }
    return top;
  }

 private:
  struct Part {
    const char* subject;
    const char* category;
    size_t first_request;
    std::vector<McDoc> docs;
  };

  template <typename Pred>
  TaskResult group(const std::string& name, const std::vector<TaskResult>& leaves,
                   Pred member) const {
    TaskResult g;
    g.name = name;
    g.version = "2";
    g.num_fewshot = k_;
    std::vector<double> accs, stderrs;
    std::vector<size_t> sizes;
    bool all_stderrs = true;
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (!member(parts_[i]) || leaves[i].num_samples == 0) continue;
      const MetricValue* acc = leaves[i].metric("acc");
      accs.push_back(acc->value);
      // A one-doc subtask has no stderr ("N/A"); lm-eval then reports N/A for the group too.
      all_stderrs = all_stderrs && acc->stderr.has_value();
      stderrs.push_back(acc->stderr.value_or(0.0));
      sizes.push_back(leaves[i].num_samples);
      g.num_samples += leaves[i].num_samples;
      g.children.push_back(leaves[i]);
    }
    if (!accs.empty()) {
      const auto stderr =
          all_stderrs ? std::optional<double>(pooled_sample_stderr(stderrs, sizes)) : std::nullopt;
      g.metrics.push_back({"acc", "none", aggregate_subtask_metrics(accs, sizes), stderr});
    }
    return g;
  }

  std::string name_;
  int k_;
  size_t num_docs_ = 0;
  std::vector<Part> parts_;
  std::vector<Request> requests_;
};

}  // namespace

std::unique_ptr<Task> make_mmlu_task(const TaskOptions& options, const std::string& name) {
  return std::make_unique<MmluTask>(options, name);
}

bool is_mmlu_task_name(const std::string& name) { return !selected_subjects(name).empty(); }

}  // namespace slmq::eval::detail
