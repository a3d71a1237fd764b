#include "slmq/eval/stem_merge.h"

#include <algorithm>
#include <numeric>

namespace slmq::eval {
namespace {

size_t common_prefix(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first - a.begin());
}

// Groups order[first, last) as one group with prefix = the first `stem` tokens they share.
ScoreGroup merge(const std::vector<ScoreGroup>& groups, const std::vector<size_t>& order,
                 size_t first, size_t last, size_t stem, MergedGroups& out) {
  const ScoreGroup& lead = groups[order[first]];
  ScoreGroup merged{std::vector<int64_t>(lead.prefix.begin(), lead.prefix.begin() + stem), {}, {}};
  for (size_t k = first; k < last; ++k) {
    const ScoreGroup& g = groups[order[k]];
    auto& where = out.where[order[k]];
    for (size_t i = 0; i < g.suffixes.size(); ++i) {
      std::vector<int64_t> suffix(g.prefix.begin() + stem, g.prefix.end());
      suffix.insert(suffix.end(), g.suffixes[i].begin(), g.suffixes[i].end());
      where.emplace_back(out.groups.size(), merged.suffixes.size());
      merged.suffixes.push_back(std::move(suffix));
      merged.score_from.push_back(g.score_from[i]);
    }
  }
  return merged;
}

}  // namespace

MergedGroups merge_shared_stems(const std::vector<ScoreGroup>& groups,
                                const StemMergeOptions& options) {
  MergedGroups out;
  out.where.resize(groups.size());
  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  // Lexicographic order puts groups with a common stem next to each other.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return groups[a].prefix < groups[b].prefix; });
  const auto min_stem = static_cast<size_t>(std::max<int64_t>(options.min_stem, 1));
  const auto max_width = static_cast<size_t>(std::max<int64_t>(options.max_width, 0));
  std::vector<size_t> size(groups.size());  // packed sizes, computed once
  for (size_t g = 0; g < groups.size(); ++g) size[g] = groups[g].packed_size();
  for (size_t first = 0; first < order.size();) {
    size_t last = first + 1, stem = groups[order[first]].prefix.size();
    while (options.max_width > 0 && last < order.size()) {
      const size_t s =
          std::min(stem, common_prefix(groups[order[first]].prefix, groups[order[last]].prefix));
      // Join only while the stem stays at least as large as what each member adds, and the
      // merged group stays within max_width.
      size_t width = s;
      bool worth = s >= min_stem;
      for (size_t k = first; worth && k <= last; ++k) {
        const size_t tail = size[order[k]] - s;  // what member k adds after the stem
        worth = tail <= s;
        width += tail;
      }
      if (!worth || width > max_width) break;
      stem = s;
      ++last;
    }
    if (last == first + 1) {
      const size_t g = order[first];
      for (size_t i = 0; i < groups[g].suffixes.size(); ++i)
        out.where[g].emplace_back(out.groups.size(), i);
      out.groups.push_back(groups[g]);
    } else {
      ScoreGroup merged = merge(groups, order, first, last, stem, out);
      out.groups.push_back(std::move(merged));
    }
    first = last;
  }
  return out;
}

}  // namespace slmq::eval
