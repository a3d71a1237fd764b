"""Independent reference values for slmq::score statistics and Pareto sets (generated, do not edit).

Output: cases.json with
  paired[]: per-item 0/1 vectors of a baseline and a quantized run, with
    stderr_base / stderr_quant  numpy: std(ddof=1) / sqrt(n)            (lm-eval's formula)
    mcnemar_p                   exact two-sided binomial test of b in b + c at 1/2, in integer
                                arithmetic: min(1, 2 * sum_{k <= min(b, c)} C(b + c, k) / 2^(b + c))
    ci_low / ci_high            percentile bootstrap of mean(quant - base), 95 %, drawn here as
                                counts from a multinomial over the {-1, 0, +1} differences
                                (1,000,000 resamples; distributionally the same as resampling
                                items, but a different algorithm from the C++ index resampling)
    boot_se                     standard deviation of those bootstrap means (sets the tolerance)
  pareto[]: random points with ties and duplicates, directions, and the non-dominated indices by
    brute force in numpy.
"""
import json
import math
import pathlib
from fractions import Fraction

import numpy as np

INPUT_PACKAGES = ("numpy",)


def mcnemar_exact(b, c):
    m = b + c
    if m == 0:
        return 1.0
    tail = Fraction(sum(math.comb(m, k) for k in range(min(b, c) + 1)), 2 ** m)
    return float(min(Fraction(1), 2 * tail))


def paired_case(rng, n, p_base, flip_down, flip_up):
    base = (rng.random(n) < p_base).astype(int)
    quant = base.copy()
    r = rng.random(n)
    quant[(base == 1) & (r < flip_down)] = 0
    quant[(base == 0) & (r < flip_up)] = 1
    d = quant - base
    b = int(np.sum((base == 1) & (quant == 0)))
    c = int(np.sum((base == 0) & (quant == 1)))
    counts = [np.sum(d == -1), np.sum(d == 0), np.sum(d == 1)]
    draws = rng.multinomial(n, np.array(counts) / n, size=1_000_000)
    means = (draws[:, 2] - draws[:, 0]) / n
    lo, hi = np.quantile(means, [0.025, 0.975])
    return {"base": base.tolist(), "quant": quant.tolist(), "b": b, "c": c,
            "diff": float(d.mean()),
            "stderr_base": float(np.std(base, ddof=1) / np.sqrt(n)),
            "stderr_quant": float(np.std(quant, ddof=1) / np.sqrt(n)),
            "mcnemar_p": mcnemar_exact(b, c),
            "ci_low": float(lo), "ci_high": float(hi), "boot_se": float(means.std())}


def pareto_case(rng, n, k):
    pts = rng.integers(0, 6, size=(n, k)).astype(float)  # small range: many ties
    pts[1] = pts[0]  # an exact duplicate
    dirs = ["max" if j % 2 == 0 else "min" for j in range(k)]
    sign = np.array([1.0 if d == "max" else -1.0 for d in dirs])
    s = pts * sign
    front = [i for i in range(n)
             if not any(np.all(s[j] >= s[i]) and np.any(s[j] > s[i]) for j in range(n) if j != i)]
    return {"points": pts.tolist(), "directions": dirs, "front": front}


def generate(out_dir):
    rng = np.random.default_rng(6)
    paired = [paired_case(rng, 500, 0.6, 0.10, 0.05),   # a real drop
              paired_case(rng, 3000, 0.45, 0.03, 0.03),  # no real difference
              paired_case(rng, 200, 0.7, 0.02, 0.0),    # few discordant pairs
              paired_case(rng, 1172, 0.3, 0.2, 0.15)]
    pareto = [pareto_case(rng, 40, 2), pareto_case(rng, 60, 3), pareto_case(rng, 80, 4)]
    (pathlib.Path(out_dir) / "cases.json").write_text(json.dumps({"paired": paired, "pareto": pareto}))
