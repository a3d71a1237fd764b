#include "slmq/eval/eval_run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "slmq/core/error.h"
#include "slmq/core/hash.h"
#include "slmq/core/progress.h"
#include "slmq/core/timing.h"
#include "slmq/eval/task_file.h"

namespace slmq::eval {

void validate_task_names(const std::vector<std::string>& tasks, const std::string& what) {
  if (tasks.empty()) throw ConfigError(what + ": no eval tasks given");
  for (const auto& t : expand_task_groups(tasks)) {
    if (!is_task_name(t) && !find_task_file(t)) {
      std::string list;
      for (const auto& k : task_names()) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError(what + ": unknown eval task '" + t + "'; known tasks: " + list +
                        ", ai2_arc, mmlu_<category> (stem, other, social_sciences, humanities), "
                        "mmlu_<subject>; or a task file (a .yaml path, or <name>.yaml in tasks/ "
                        "or configs/tasks/)");
    }
  }
}

std::string model_files_fingerprint(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::string what = fs::absolute(path).lexically_normal().string();
  for (const auto& file : files) {
    what += "|" + file.filename().string() + ":" + std::to_string(fs::file_size(file)) + ":" +
            std::to_string(fs::last_write_time(file).time_since_epoch().count());
  }
  return hex64(fnv1a64(what));
}

std::vector<std::string> split_task_list(const std::string& list, const std::string& what) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    std::string name = list.substr(start, comma == std::string::npos ? comma : comma - start);
    if (name.empty()) throw ConfigError(what + ": empty task name in '" + list + "'");
    out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

namespace {

// Bumped when a change to the evaluator or the tasks changes what a journaled unit holds.
constexpr int kJournalVersion = 1;

// What a task's journal must match to be reused: the model, the settings that shape score groups
// and every request.
std::string journal_fingerprint(const LanguageModel& lm, const EvalRunOptions& options,
                                const std::string& task, const std::vector<Request>& requests) {
  const nlohmann::json settings = {{"journal_version", kJournalVersion},
                                   {"model", options.model_fingerprint},
                                   {"task", task},
                                   {"bos", bos_policy_name(options.bos)},
                                   {"stem_merge_width", options.stem_merge_width},
                                   {"max_length", lm.max_length()}};
  uint64_t h = fnv1a64(settings.dump());
  const std::string sep(1, '\x1e');
  for (const Request& r : requests) {
    h = fnv1a64(std::string(request_type_name(r.type)) + sep + std::to_string(r.doc_index) + sep +
                    std::to_string(r.choice_index) + sep + (r.context ? *r.context : "") + sep +
                    r.continuation + sep + std::to_string(r.generation.max_gen_toks) + sep,
                h);
    for (const auto& stop : r.generation.until) h = fnv1a64(stop + sep, h);
  }
  return hex64(h);
}

TaskOptions task_options_for(const EvalRunOptions& options) {
  TaskOptions task_options;
  task_options.data_dir = options.data_dir;
  task_options.num_fewshot = options.num_fewshot;
  task_options.limit = options.limit;
  return task_options;
}

}  // namespace

void check_task_data(const EvalRunOptions& options) {
  validate_task_names(options.tasks, "eval");
  for (const auto& name : expand_task_groups(options.tasks))
    make_task(name, task_options_for(options));
}

std::vector<TaskRun> run_eval_tasks(const LanguageModel& lm, const EvalRunOptions& options,
                                    const std::function<void(const TaskRun&)>& on_done) {
  validate_task_names(options.tasks, "eval");
  std::vector<TaskRun> runs;
  for (const auto& name : expand_task_groups(options.tasks)) {
    TaskRun run;
    run.task = name;
    auto start = SteadyClock::now();
    TaskOptions task_options = task_options_for(options);
    auto task = make_task(name, task_options);
    run.task = task->name();  // a task file's `task:`, not its path
    run.load_seconds = seconds_since(start);
    spdlog::info("{}: {} docs, {} {} requests (data and prompts in {:.1f} s)", name,
                 task->num_docs(), task->requests().size(), request_type_name(task->request_type()),
                 run.load_seconds);

    start = SteadyClock::now();
    ProgressReporter progress(name);
    EvaluatorOptions eval_options;
    eval_options.bos = options.bos;
    eval_options.batch_tokens = options.batch_tokens;
    eval_options.stem_merge.max_width = options.stem_merge_width;
    if (options.progress) {
      eval_options.progress = [&](size_t done, size_t total, const std::string& unit) {
        progress.update(done, total, unit);
      };
    }
    std::unique_ptr<FileEvalJournal> journal;
    if (!options.journal_dir.empty()) {
      // The task's own name: a task-file path is no file name.
      const std::filesystem::path journal_path = options.journal_dir / (task->name() + ".jsonl");
      journal = std::make_unique<FileEvalJournal>(
          journal_path, journal_fingerprint(lm, options, name, task->requests()), options.resume);
      eval_options.journal = journal.get();
      run.resumed_seconds = journal->resumed_seconds();
      if (journal->resumed_units() > 0)
        spdlog::info("{}: resuming; {} finished units in {} ({:.1f} model seconds)", name,
                     journal->resumed_units(), journal_path.string(), journal->resumed_seconds());
    }
    Evaluator evaluator(lm, eval_options);
    std::vector<Response> responses = evaluator.run(task->requests());
    if (options.progress) progress.finish();
    run.result = task->score(responses);
    run.run_seconds = seconds_since(start);
    run.stats = evaluator.stats();
    spdlog::info("{}: {} requests in {:.1f} s ({:.2f} requests/s, {} batches)", name,
                 run.stats.requests, run.run_seconds, run.requests_per_second(), run.stats.batches);
    if (run.stats.resumed_rows > 0)
      spdlog::info("{}: {} rows taken from the journal (earlier runs spent {:.1f} s on them)", name,
                   run.stats.resumed_rows, run.resumed_seconds);
    if (on_done) on_done(run);
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace slmq::eval
