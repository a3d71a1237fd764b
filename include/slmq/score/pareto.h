#pragma once
// Non-dominated sets over any number of objectives, each with its direction.
#include <cstddef>
#include <string>
#include <vector>

namespace slmq::score {

enum class Direction { kMaximize, kMinimize };

// True when `a` is at least as good as `b` in every objective and strictly better in one.
// Throws InternalError when the sizes differ.
bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Direction>& dirs);

// Indices (ascending) of the points no other point dominates. Equal points are all kept.
// points[i][k] is objective k of candidate i; every point needs dirs.size() values.
std::vector<std::size_t> pareto_set(const std::vector<std::vector<double>>& points,
                                    const std::vector<Direction>& dirs);

}  // namespace slmq::score
