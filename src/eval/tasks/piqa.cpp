// piqa (lm-eval tasks/piqa): "Question: {{goal}}\nAnswer:", choices [sol1, sol2]. Few-shot
// examples come from train (not shipped here), drawing k+1 and dropping the eval doc.
#include "slmq/data/data_files.h"
#include "slmq/data/datasets.h"
#include "task_support.h"

namespace slmq::eval::detail {
namespace {

McDoc to_mc(const data::PiqaDoc& d) {
  return {"Question: " + d.goal + "\nAnswer:", {d.sol1, d.sol2}, d.label};
}

}  // namespace

std::unique_ptr<Task> make_piqa_task(const TaskOptions& options) {
  const auto dir = data::resolve_data_dir(options.data_dir);
  const auto validation = data::load_piqa(dir, "validation");
  const int k = options.num_fewshot.value_or(0);
  std::vector<data::PiqaDoc> train;
  if (k > 0) train = data::load_piqa(dir, "train");
  FewshotSampler sampler(train.size(), options.fewshot_seed);
  std::vector<McDoc> docs;
  std::vector<std::string> contexts;
  for (size_t i = 0; i < apply_limit(validation.size(), options); ++i) {
    docs.push_back(to_mc(validation[i]));
    std::string ctx;
    for (size_t j : sampler.sample(static_cast<size_t>(k),
                                   [&](size_t t) { return train[t] == validation[i]; })) {
      const McDoc shot = to_mc(train[j]);
      ctx += fewshot_turn(shot.query, shot.choices[shot.gold]);
    }
    contexts.push_back(ctx + docs.back().query);
  }
  return std::make_unique<MultipleChoiceTask>(
      "piqa", "1.0", k, std::move(docs), contexts, true,
      std::map<std::string, std::string>{{"dataset", "baber/piqa validation"}});
}

}  // namespace slmq::eval::detail
