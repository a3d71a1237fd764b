#include "slmq/score/pareto.h"

#include "slmq/core/error.h"

namespace slmq::score {

bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Direction>& dirs) {
  if (a.size() != dirs.size() || b.size() != dirs.size()) {
    throw InternalError("dominates: points and directions differ in size");
  }
  bool strictly_better = false;
  for (std::size_t k = 0; k < dirs.size(); ++k) {
    double better = dirs[k] == Direction::kMaximize ? a[k] - b[k] : b[k] - a[k];
    if (better < 0) return false;
    if (better > 0) strictly_better = true;
  }
  return strictly_better;
}

std::vector<std::size_t> pareto_set(const std::vector<std::vector<double>>& points,
                                    const std::vector<Direction>& dirs) {
  // Quadratic, which is fine for the hundreds of runs a sweep produces.
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j) {
      dominated = j != i && dominates(points[j], points[i], dirs);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace slmq::score
