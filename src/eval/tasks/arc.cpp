// arc_easy / arc_challenge (lm-eval tasks/arc): "Question: {{question}}\nAnswer:", choices the
// raw choice texts, few-shot examples drawn from train without excluding the eval doc.
#include "slmq/data/data_files.h"
#include "slmq/data/datasets.h"
#include "task_support.h"

namespace slmq::eval::detail {
namespace {

McDoc to_mc(const data::ArcDoc& d) {
  return {"Question: " + d.question + "\nAnswer:", d.choice_texts, d.gold};
}

}  // namespace

std::unique_ptr<Task> make_arc_task(const std::string& name, const TaskOptions& options) {
  const auto dir = data::resolve_data_dir(options.data_dir);
  const std::string config = name == "arc_easy" ? "ARC-Easy" : "ARC-Challenge";
  const auto test = data::load_arc(dir, config, "test");
  const int k = options.num_fewshot.value_or(0);
  std::vector<McDoc> train;
  if (k > 0) {
    for (const auto& d : data::load_arc(dir, config, "train")) train.push_back(to_mc(d));
  }
  FewshotSampler sampler(train.size(), options.fewshot_seed);
  std::vector<McDoc> docs;
  std::vector<std::string> contexts;
  for (size_t i = 0; i < apply_limit(test.size(), options); ++i) {
    docs.push_back(to_mc(test[i]));
    std::string ctx;
    for (size_t j : sampler.sample(static_cast<size_t>(k)))
      ctx += fewshot_turn(train[j].query, train[j].choices[train[j].gold]);
    contexts.push_back(ctx + docs.back().query);
  }
  return std::make_unique<MultipleChoiceTask>(
      name, "1.0", k, std::move(docs), contexts, true,
      std::map<std::string, std::string>{{"dataset", "allenai/ai2_arc " + config}});
}

}  // namespace slmq::eval::detail
