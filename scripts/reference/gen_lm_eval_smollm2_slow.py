"""lm-evaluation-harness on SmolLM2-135M-Instruct (the bundled GGUF): the golden files of
LmEvalModelParitySlow, written as gen_lm_eval_model.py writes the tiny models' (same runs, layout
and index.json; see that file for how the model and its tokenizer are loaded). Kept apart because
it takes ~15 min on one core; scripts/test.sh runs `*_slow.py` generators only with --slow."""
import sys

import gen_lm_eval_model
from gen_lm_eval_model import INPUT_PACKAGES, input_files  # noqa: F401 (run_generator's stamp)


def generate(out_dir):
    gen_lm_eval_model.generate(out_dir, only=("smollm2_135m",))


if __name__ == "__main__":
    generate(sys.argv[1])
