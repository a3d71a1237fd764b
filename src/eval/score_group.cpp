#include "slmq/eval/score_group.h"

#include <map>

namespace slmq::eval {

std::vector<size_t> ScoreGroup::input_owners() const {
  std::map<std::vector<int64_t>, size_t> first_with;
  std::vector<size_t> owners;
  for (size_t i = 0; i < suffixes.size(); ++i) {
    const auto& s = suffixes[i];
    std::vector<int64_t> input(s.begin(), s.empty() ? s.end() : s.end() - 1);
    owners.push_back(first_with.emplace(std::move(input), i).first->second);
  }
  return owners;
}

size_t ScoreGroup::packed_size() const {
  size_t n = prefix.size();
  const std::vector<size_t> owners = input_owners();
  for (size_t i = 0; i < suffixes.size(); ++i)
    if (owners[i] == i && !suffixes[i].empty()) n += suffixes[i].size() - 1;
  return n;
}

}  // namespace slmq::eval
