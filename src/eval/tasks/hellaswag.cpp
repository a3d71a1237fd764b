// hellaswag (lm-eval tasks/hellaswag): context = preprocessed "activity_label: ctx_a Ctx_b",
// choices the preprocessed endings. With the raw HF rows this is lm-eval exactly; with the
// llama.cpp text layout the items were preprocessed llama.cpp's way (ctx_b not capitalised, only
// some tags removed) and the result says so.
#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/datasets.h"
#include "task_support.h"

namespace slmq::eval::detail {

std::unique_ptr<Task> make_hellaswag_task(const TaskOptions& options) {
  const auto dir = data::resolve_data_dir(options.data_dir);
  const data::HellaswagData hellaswag = data::load_hellaswag(dir);
  const int k = options.num_fewshot.value_or(0);
  if (k > 0 && hellaswag.train.empty()) {
    throw ConfigError("hellaswag: " + std::to_string(k) + "-shot needs the raw HF train split (" +
                      (dir / "hellaswag" / "train.jsonl").string() + ")");
  }
  FewshotSampler sampler(hellaswag.train.size(), options.fewshot_seed);
  std::vector<McDoc> docs;
  std::vector<std::string> contexts;
  for (size_t i = 0; i < apply_limit(hellaswag.validation.size(), options); ++i) {
    const data::HellaswagDoc& d = hellaswag.validation[i];
    docs.push_back({d.query, d.choices, d.gold});
    std::string ctx;
    auto same = [&](size_t t) { return hellaswag.train[t].raw_key == d.raw_key; };
    for (size_t j : sampler.sample(static_cast<size_t>(k), same)) {
      const data::HellaswagDoc& s = hellaswag.train[j];
      ctx += fewshot_turn(s.query, s.choices.at(static_cast<size_t>(s.gold)));
    }
    contexts.push_back(ctx + d.query);
  }
  std::map<std::string, std::string> notes;
  if (hellaswag.layout == data::HellaswagLayout::kHfRaw) {
    notes = {{"dataset", "Rowan/hellaswag validation (raw rows)"}, {"preprocessing", "lm-eval"}};
  } else {
    notes = {{"dataset", "hellaswag_val_full.txt (llama.cpp layout)"},
             {"preprocessing", "llama.cpp (ctx_b not capitalised; not lm-eval's exact text)"}};
  }
  return std::make_unique<MultipleChoiceTask>("hellaswag", "1.0", k, std::move(docs), contexts,
                                              true, std::move(notes));
}

}  // namespace slmq::eval::detail
