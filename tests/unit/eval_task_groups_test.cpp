// lm-eval's names for parts of a group: mmlu_<subject> and mmlu_<category> build exactly the
// requests of those subjects inside `mmlu` and score to the same result as the matching child of
// the whole mmlu run given the same answers (the reference: the full task, whose grouping the
// lm-eval parity tests check); ai2_arc stands for arc_easy and arc_challenge.
#include <gtest/gtest.h>

#include "slmq/core/error.h"
#include "slmq/eval/eval_run.h"
#include "slmq/eval/task.h"

namespace slmq::eval {
namespace {

// Deterministic pseudo-answers that depend on the request text, so that the same request gets
// the same loglikelihood in any task.
std::vector<Response> answers(const std::vector<Request>& requests) {
  std::vector<Response> out;
  for (const auto& r : requests) {
    const size_t h = std::hash<std::string>{}((r.context ? *r.context : "") + r.continuation);
    out.push_back({-static_cast<double>(h % 1000) / 100.0, false, ""});
  }
  return out;
}

TEST(EvalTaskGroups, MmluPartsEqualTheirPlaceInTheWholeGroup) {
  TaskOptions options;
  options.limit = 2;
  auto whole = make_task("mmlu", options);
  const TaskResult all = whole->score(answers(whole->requests()));
  for (const char* name : {"mmlu_high_school_biology", "mmlu_stem", "mmlu_humanities",
                           "mmlu_social_sciences", "mmlu_other", "mmlu_abstract_algebra"}) {
    ASSERT_TRUE(is_task_name(name)) << name;
    auto part = make_task(name, options);
    EXPECT_EQ(part->name(), name);
    const TaskResult r = part->score(answers(part->requests()));
    const TaskResult* expected = all.find(name);
    ASSERT_NE(expected, nullptr) << name;
    EXPECT_EQ(r.name, expected->name);
    EXPECT_EQ(r.num_samples, expected->num_samples) << name;
    EXPECT_EQ(r.children.size(), expected->children.size()) << name;
    ASSERT_NE(r.metric("acc"), nullptr) << name;
    EXPECT_DOUBLE_EQ(r.metric("acc")->value, expected->metric("acc")->value) << name;
  }
  EXPECT_EQ(make_task("mmlu_high_school_biology", options)->requests().size(), 2u * 4u);
  EXPECT_FALSE(is_task_name("mmlu_cooking"));
  EXPECT_THROW(make_task("mmlu_cooking", options), ConfigError);
  EXPECT_THROW(validate_task_names({"mmlu_cooking"}, "--tasks"), ConfigError);
}

TEST(EvalTaskGroups, Ai2ArcIsArcEasyAndArcChallenge) {
  EXPECT_EQ(expand_task_groups({"ai2_arc"}),
            (std::vector<std::string>{"arc_easy", "arc_challenge"}));
  EXPECT_EQ(expand_task_groups({"arc_easy", "ai2_arc", "piqa"}),
            (std::vector<std::string>{"arc_easy", "arc_challenge", "piqa"}));
  EXPECT_NO_THROW(validate_task_names({"ai2_arc", "mmlu_stem"}, "--tasks"));
}

}  // namespace
}  // namespace slmq::eval
