"""OmniQuant on tiny Llamas, written from specs/quant_methods.md §5 and §8 and the structure of
OpenGVLab/OmniQuant (95fae1b) quantize/omniquant.py and LLMC (05eedff) omniq.py: learnable weight
clipping (UniformAffineQuantizer / IntegerQuantizer with sigmoid-scaled min and max, init 4.0),
learnable equivalent transforms (s_qkv, s_fc1, s_out, s_qk, use_shift off, truncation at 1e-2
before every use), block-by-block AdamW training with the two parameter groups on the MSE to the
FP block's output (+ the aug loss), then the in-place fold and the quantized chain's inputs
(quant_out). Written for this test, not copied.

The block is the model's own Llama block (RMSNorm normalised in fp32 as transformers does, RoPE
tables in fp32 cast to the compute dtype, causal SDPA), so the reference and
slmquant quantize the same function; the OmniQuant parts follow the references:
* official: asymmetric per-token activation quantizers on every linear input and on Q, K (after
  RoPE) and V; LET init from max|W| of the keyed linear (q_proj, up_proj, o_proj);
* llmc: linear inputs only; LET init from the signed column max with the power taken in fp16;
  symmetric LWC learns one factor per row; on GQA v_proj's temporary weight is reset to the
  unscaled weight when the v -> o transform is skipped (LLMC's smooth_fc_fc_tmp), while the fold
  scales it.
Both skip s_out and s_qk on GQA (LLMC's rule; the official code crashes there).

Each case runs twice, in fp64 and in fp32 (N_SAMPLES windows of SEQLEN random tokens, batch 1,
EPOCHS epochs). Writes <model>/ (HF checkpoint, fp32) with calib.safetensors (calib_ids [N,T]),
and per case <case>/{fp64,fp32}.safetensors:
  layers.<i>.step_loss [steps], layers.<i>.epoch_loss [epochs],
  layers.<i>.<s_name> and layers.<i>.<s_name>.init (LET scales), layers.<i>.<linear>.upper/.lower
  (LWC factors), layers.<i>.<linear>.codes (int64) and .scales [out, groups] (float64).
cases.json lists the cases and their settings.
"""
import json

import _outlier_models as om

INPUT_PACKAGES = ("torch", "transformers", "safetensors")

N_SAMPLES, SEQLEN, EPOCHS = 4, 32, 2
LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def model_specs():
    from transformers import LlamaConfig
    common = dict(vocab_size=384, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, max_position_embeddings=256, rms_norm_eps=1e-5,
                  bos_token_id=1, eos_token_id=2, initializer_range=0.08, tie_word_embeddings=True)
    return {"omni_llama_gqa": LlamaConfig(**common, num_key_value_heads=2),
            "omni_llama_mha": LlamaConfig(**common, num_key_value_heads=4)}


def case(name, model, flavour, wbits, wsym, group, abits=None, asym=True, lwc=True, let=True,
         aug_loss=False):
    return dict(name=name, model=model, flavour=flavour,
                weight=dict(bits=wbits, symmetric=wsym, group_size=group),
                activation=None if abits is None else dict(bits=abits, symmetric=not asym),
                lwc=lwc, let=let, aug_loss=aug_loss, epochs=EPOCHS, alpha=0.5, lwc_lr=1e-2,
                let_lr=5e-3, batch_size=1)


CASES = [
    # GQA: s_out and s_qk skipped; Q/K/V quantized.
    case("gqa_official_w4a8_g32", "omni_llama_gqa", "official", 4, False, 32, abits=8),
    # MHA: all four transforms, symmetric LWC (two factors), the aug loss.
    case("mha_official_w6a6_sym", "omni_llama_mha", "official", 6, True, 0, abits=6, aug_loss=True),
    # Weight-only, LWC only (the official weight-only Llama recipe).
    case("gqa_official_w3a16_g32", "omni_llama_gqa", "official", 3, False, 32, let=False),
    # LLMC on GQA: symmetric LWC with one factor, v_proj trained without s_qkv.
    case("gqa_llmc_w4a8_sym", "omni_llama_gqa", "llmc", 4, True, 0, abits=8, asym=False),
    # LLMC on MHA: s_out and s_qk, asymmetric grouped weights and activations.
    case("mha_llmc_w4a8_g32", "omni_llama_mha", "llmc", 4, False, 32, abits=8),
]


EMPTY = object()  # a recorder that has seen nothing yet


def round_ste(x):
    return (x.round() - x).detach() + x


class Quantizer:
    """UniformAffineQuantizer (official) or IntegerQuantizer with calib_algo learnable (llmc)."""

    def __init__(self, torch, flavour, bits, sym, group=0, shape=None, lwc=False, dtype=None):
        self.torch, self.flavour, self.bits, self.sym, self.group = torch, flavour, bits, sym, group
        if flavour == "llmc" and sym:
            self.qmin, self.qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        else:
            self.qmin, self.qmax = 0, 2 ** bits - 1
        self.up = self.low = None
        if lwc:
            rows = shape[0] * (shape[1] // group if group else 1)
            self.up = torch.nn.Parameter(torch.ones((rows, 1), dtype=dtype) * 4.0)
            if not (flavour == "llmc" and sym):
                self.low = torch.nn.Parameter(torch.ones((rows, 1), dtype=dtype) * 4.0)

    def reshape(self, x):
        return x.reshape(-1, self.group) if self.group else x

    def scale_zero(self, x):
        torch = self.torch
        xmin, xmax = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
        if self.flavour == "official":
            if self.up is not None:
                xmax = torch.sigmoid(self.up) * xmax
                xmin = torch.sigmoid(self.low) * xmin
            if self.sym:
                abs_max = torch.max(xmax.abs(), xmin.abs())
                scale = (abs_max / (2 ** (self.bits - 1) - 1)).clamp(1e-5, 1e4)
                zero = (2 ** (self.bits - 1) - 1) * torch.ones_like(scale)
            else:
                scale = ((xmax - xmin) / (2 ** self.bits - 1)).clamp(1e-5, 1e4)
                zero = -xmin / scale
            return scale, zero.clamp(-1e4, 1e4).round()
        if self.sym:  # llmc get_learnable_range + get_qparams
            if self.up is not None:
                abs_max = torch.max(xmax.abs(), xmin.abs()).clamp(min=1e-5)
                abs_max = torch.sigmoid(self.up) * abs_max
                xmin, xmax = -abs_max, abs_max
            abs_max = torch.max(xmax.abs(), xmin.abs()).clamp(min=1e-5)
            scale = abs_max / self.qmax
            return scale, torch.zeros_like(scale)
        if self.up is not None:
            xmin = torch.sigmoid(self.low) * xmin
            xmax = torch.sigmoid(self.up) * xmax
        scale = (xmax - xmin).clamp(min=1e-5) / (self.qmax - self.qmin)
        zero = (self.qmin - torch.round(xmin / scale)).clamp(self.qmin, self.qmax)
        return scale, zero

    def __call__(self, x):
        shape = x.shape
        x = self.reshape(x)
        scale, zero = self.scale_zero(x)
        q = (round_ste(x / scale) + zero).clamp(self.qmin, self.qmax)
        return ((q - zero) * scale).reshape(shape)

    def codes(self, w):
        with self.torch.no_grad():
            x = self.reshape(w)
            scale, zero = self.scale_zero(x)
            q = (self.torch.round(x / scale) + zero).clamp(self.qmin, self.qmax)
            return q.reshape(w.shape).long(), scale.reshape(w.shape[0], -1)


class QuantLinear:
    def __init__(self, torch, linear, c, dtype):
        self.weight = linear.weight.detach().to(dtype).clone()
        self.wq = Quantizer(torch, c["flavour"], c["weight"]["bits"], c["weight"]["symmetric"],
                            c["weight"]["group_size"], self.weight.shape, c["lwc"], dtype)
        a = c["activation"]
        self.aq = None if a is None else Quantizer(torch, c["flavour"], a["bits"], a["symmetric"])
        self.temp_weight = None
        self.act_quant = False
        self.stat = None  # per-channel abs-max of the inputs while recording
        self.torch = torch

    def __call__(self, x):
        w = self.temp_weight if self.temp_weight is not None else self.weight
        if self.stat is not None:
            seen = x.reshape(-1, x.shape[-1]).abs().max(dim=0)[0]
            self.stat = seen if self.stat is EMPTY else self.torch.maximum(self.stat, seen)
        if self.act_quant and self.aq is not None:
            x = self.aq(x)
        return self.torch.nn.functional.linear(x, w)


class Block:
    """The Llama block with QuantLinears, temporary norm weights and the Q/K/V quantizers."""

    def __init__(self, torch, layer, config, c, dtype):
        self.torch, self.c = torch, c
        self.ln1 = layer.input_layernorm.weight.detach().to(dtype).clone()
        self.ln2 = layer.post_attention_layernorm.weight.detach().to(dtype).clone()
        self.ln1_temp = self.ln2_temp = None
        self.eps = config.rms_norm_eps
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.lin = {n: QuantLinear(torch, layer.get_submodule(n), c, dtype) for n in LINEARS}
        a = c["activation"]
        self.qkv_quant = None
        if c["flavour"] == "official" and a is not None:
            self.qkv_quant = Quantizer(torch, "official", a["bits"], a["symmetric"])
        self.act_quant = False

    def set_act_quant(self, on):
        self.act_quant = on
        for m in self.lin.values():
            m.act_quant = on

    def norm(self, x, w):
        h = x.to(self.torch.float32)
        h = h * self.torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return w * h.to(x.dtype)

    def __call__(self, x, cos, sin):
        torch, F = self.torch, self.torch.nn.functional
        b, t, _ = x.shape
        ln1 = self.ln1_temp if self.ln1_temp is not None else self.ln1
        ln2 = self.ln2_temp if self.ln2_temp is not None else self.ln2
        h = self.norm(x, ln1)
        q = self.lin["self_attn.q_proj"](h).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.lin["self_attn.k_proj"](h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.lin["self_attn.v_proj"](h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)

        def rope(z):
            half = z.shape[-1] // 2
            return z * cos + torch.cat((-z[..., half:], z[..., :half]), -1) * sin

        q, k = rope(q), rope(k)
        if self.act_quant and self.qkv_quant is not None:
            q, k, v = self.qkv_quant(q), self.qkv_quant(k), self.qkv_quant(v)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.head_dim ** -0.5,
                                           enable_gqa=self.heads != self.kv_heads)
        x = x + self.lin["self_attn.o_proj"](o.transpose(1, 2).reshape(b, t, -1))
        h = self.norm(x, ln2)
        gate = F.silu(self.lin["mlp.gate_proj"](h))
        return x + self.lin["mlp.down_proj"](gate * self.lin["mlp.up_proj"](h))


def rope_tables(torch, config, seqlen, dtype):
    dim = config.hidden_size // config.num_attention_heads
    exponent = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
    inv_freq = 1.0 / (config.rope_parameters["rope_theta"] ** exponent)
    freqs = torch.arange(seqlen).float()[None, :, None] * inv_freq
    emb = torch.cat((freqs, freqs), -1)[:, None]
    return emb.cos().to(dtype), emb.sin().to(dtype)


def truncate(torch, s):
    with torch.no_grad():
        small = s.abs() < 1e-2
        s.data[small] = s.data[small].sign() * 1e-2


def init_scale(torch, act, weight, alpha, flavour):
    act = act.clamp(min=1e-5)
    if flavour == "official":
        w = weight.abs().max(dim=0)[0].clamp(min=1e-5)
        return (act.pow(alpha) / w.pow(1 - alpha)).clamp(min=1e-5)
    w = weight.max(dim=0)[0].clamp(min=1e-5)
    return (act.pow(alpha) / w.half().pow(1 - alpha)).clamp(min=1e-5)


def smooth_temporary(blk, scales, mha):
    """smooth_and_quant_temporary: LET (official order; LLMC's GQA reset of v_proj), then LWC."""
    L = blk.lin
    for s in scales.values():
        truncate(blk.torch, s)
    for m in L.values():
        m.temp_weight = m.weight
    if scales:
        s = scales["s_qkv"]
        blk.ln1_temp = blk.ln1 / s
        for n in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
            L[n].temp_weight = L[n].weight * s.view(1, -1)
        s = scales["s_fc1"]
        blk.ln2_temp = blk.ln2 / s
        for n in ("mlp.up_proj", "mlp.gate_proj"):
            L[n].temp_weight = L[n].weight * s.view(1, -1)
        v, o = L["self_attn.v_proj"], L["self_attn.o_proj"]
        if mha:
            v.temp_weight = v.temp_weight / scales["s_out"].view(-1, 1)
            o.temp_weight = o.weight * scales["s_out"].view(1, -1)
            q, k = L["self_attn.q_proj"], L["self_attn.k_proj"]
            q.temp_weight = q.temp_weight / scales["s_qk"].view(-1, 1)
            k.temp_weight = k.temp_weight * scales["s_qk"].view(-1, 1)
        elif blk.c["flavour"] == "llmc":
            v.temp_weight = v.weight  # LLMC smooth_fc_fc_tmp when out_features != in_features
    for m in L.values():
        m.temp_weight = m.wq(m.temp_weight)


def fold(blk, scales, mha):
    """smooth_and_quant_inplace; returns {linear: (codes, scales)}."""
    torch, L = blk.torch, blk.lin
    with torch.no_grad():
        for s in scales.values():
            truncate(torch, s)
        if scales:
            s = scales["s_qkv"]
            blk.ln1 = blk.ln1 / s
            for n in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                L[n].weight = L[n].weight * s.view(1, -1)
            s = scales["s_fc1"]
            blk.ln2 = blk.ln2 / s
            for n in ("mlp.up_proj", "mlp.gate_proj"):
                L[n].weight = L[n].weight * s.view(1, -1)
            if mha:
                v, o = L["self_attn.v_proj"], L["self_attn.o_proj"]
                q, k = L["self_attn.q_proj"], L["self_attn.k_proj"]
                v.weight = v.weight / scales["s_out"].view(-1, 1)
                o.weight = o.weight * scales["s_out"].view(1, -1)
                q.weight = q.weight / scales["s_qk"].view(-1, 1)
                k.weight = k.weight * scales["s_qk"].view(-1, 1)
        blk.ln1_temp = blk.ln2_temp = None
        out = {}
        for n, m in L.items():
            out[n] = m.wq.codes(m.weight)
            m.weight = m.wq(m.weight)
            m.temp_weight = None
    return out


def omniquant(torch, model, ids, c, dtype, out):
    config = model.config
    mha = config.num_key_value_heads == config.num_attention_heads
    cos, sin = rope_tables(torch, config, ids.shape[1], dtype)
    with torch.no_grad():
        inps = model.model.embed_tokens.weight.to(dtype)[ids]
    fp_inps, quant_inps = inps.clone(), inps.clone()
    fp_inps_2 = inps.clone() if c["aug_loss"] else None
    let = c["let"]
    for i, layer in enumerate(model.model.layers):
        blk = Block(torch, layer, config, c, dtype)
        keyed = {"s_qkv": "self_attn.q_proj", "s_fc1": "mlp.up_proj"}
        if mha:
            keyed["s_out"] = "self_attn.o_proj"
        for lin in keyed.values():
            blk.lin[lin].stat = EMPTY if let else None
        with torch.no_grad():  # FP targets; act scales as generate_act_scale_shift.py
            for j in range(ids.shape[0]):
                if c["aug_loss"]:
                    fp_inps_2[j:j + 1] = blk(quant_inps[j:j + 1], cos, sin)
                fp_inps[j:j + 1] = blk(fp_inps[j:j + 1], cos, sin)
        act = {name: blk.lin[lin].stat for name, lin in keyed.items()} if let else {}
        for lin in keyed.values():
            blk.lin[lin].stat = None
        blk.set_act_quant(True)
        scales = {}
        if let:
            for name, lin in keyed.items():
                s = init_scale(torch, act[name], blk.lin[lin].weight, c["alpha"], c["flavour"])
                out[f"layers.{i}.{name}.init"] = s.clone()
                scales[name] = torch.nn.Parameter(s.clone())
            if mha:
                s = torch.ones(config.num_attention_heads * blk.head_dim, dtype=dtype)
                out[f"layers.{i}.s_qk.init"] = s.clone()
                scales["s_qk"] = torch.nn.Parameter(s)
        lwc = [p for m in blk.lin.values() for p in (m.wq.up, m.wq.low) if p is not None]
        optimizer = torch.optim.AdamW([{"params": list(scales.values()), "lr": c["let_lr"]},
                                       {"params": lwc, "lr": c["lwc_lr"]}],
                                      weight_decay=0.0, foreach=False)
        steps, epochs = [], []
        for _ in range(c["epochs"]):
            first = len(steps)
            for j in range(ids.shape[0]):
                smooth_temporary(blk, scales, mha)
                quant_out = blk(quant_inps[j:j + 1], cos, sin)
                loss = torch.nn.functional.mse_loss(fp_inps[j:j + 1], quant_out)
                if c["aug_loss"]:
                    loss = loss + torch.nn.functional.mse_loss(fp_inps_2[j:j + 1], quant_out)
                steps.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            epochs.append(sum(steps[first:]) / (len(steps) - first))
        out[f"layers.{i}.step_loss"] = torch.tensor(steps, dtype=torch.float64)
        out[f"layers.{i}.epoch_loss"] = torch.tensor(epochs, dtype=torch.float64)
        codes = fold(blk, scales, mha)
        for name, s in scales.items():
            out[f"layers.{i}.{name}"] = s.detach().clone()
        for n, m in blk.lin.items():
            if m.wq.up is not None:
                out[f"layers.{i}.{n}.upper"] = m.wq.up.detach().clone()
            if m.wq.low is not None:
                out[f"layers.{i}.{n}.lower"] = m.wq.low.detach().clone()
            out[f"layers.{i}.{n}.codes"] = codes[n][0]
            out[f"layers.{i}.{n}.scales"] = codes[n][1].to(torch.float64)
        with torch.no_grad():  # quant_out: the quantized block on the quantized chain
            for j in range(ids.shape[0]):
                quant_inps[j:j + 1] = blk(quant_inps[j:j + 1], cos, sin)


def generate(out_dir):
    import torch
    from safetensors.torch import save_file
    from transformers import LlamaForCausalLM

    torch.use_deterministic_algorithms(True)
    models, ids = {}, {}
    for index, (name, config) in enumerate(model_specs().items()):
        model = om.build(torch, LlamaForCausalLM, config, 700 + index)
        model.save_pretrained(out_dir / name)
        models[name] = model
        ids[name] = om.calibration_ids(torch, N_SAMPLES, SEQLEN, config.vocab_size, 750 + index)
        save_file({"calib_ids": ids[name]}, out_dir / name / "calib.safetensors")
    for c in CASES:
        (out_dir / c["name"]).mkdir()
        for label, dtype in (("fp64", torch.float64), ("fp32", torch.float32)):
            out = {}
            omniquant(torch, models[c["model"]], ids[c["model"]], c, dtype, out)
            save_file({k: v.contiguous() for k, v in out.items()},
                      out_dir / c["name"] / f"{label}.safetensors")
    (out_dir / "cases.json").write_text(json.dumps({"cases": CASES}, indent=1))
