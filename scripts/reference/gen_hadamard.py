"""Hadamard factor tables, transforms and random rotations as QuaRot / SpinQuant build them.

The reference factor tables H_K are those of SpinQuant's utils/hadamard_utils.py get_hadK (QuaRot's
fake_quant/hadamard_utils.py has the same ones but no 44). They are not importable here, so their
SHA-256 fingerprints (of the row-major '+'/'-' string, recorded from SpinQuant 8f47aa3 and QuaRot
5008669) are checked against the tables compressed-tensors ships (compressed_tensors/transform/
utils/hadamards.safetensors): eleven are identical; compressed-tensors' 20 is a different
Hadamard matrix, so the reference 20 is rebuilt here from its definition (Paley I over GF(19), the
normalisation of Sloane's had.20.pal) and must match the fingerprint.

Transforms are computed densely from the spec (§7.4): x viewed as a K×m row-major matrix X,
out = vec(H_K · X · H_m) / sqrt(n) with H_m Sylvester (scipy.linalg.hadamard). Random rotations use
torch's default generator after torch.manual_seed(seed), as the references do after set_seed.

Writes reference.safetensors: had<K> int8 [K,K]; transform_<n>_x / _y float64 [4,n];
random_hadamard_<n> float64 [n,n] (seed 0, drawn first after the seed); random_orthogonal_<n>
float64 (seed 1); cases.json lists the sizes.
"""
import hashlib
import json

INPUT_PACKAGES = ("torch", "safetensors", "compressed-tensors", "scipy")

SPINQUANT_SHA256 = {
    12: "e027244070138ccb47e17d12803fe848f5fd999b6356b047ef5912bc235f3500",
    20: "fe417beb154e4a025f5681e45361076a11b563319f260d39e339c077c2c1e8de",
    28: "875b595f85017a38e59a62702d330941052da02816a946c0aabe9c7999fb1aa5",
    36: "ca2f600dadc9eef2be2f175699dc6a84f3bf2d827eceec94d8fb6e51b26152e7",
    40: "f4f11581471d77d936720840ab39d86d66ec5432f57f26a0608a3f1ebddf42d2",
    44: "6077980593166a4bfd599208d9618ca4557c0addccf920cdde801753ea4a7f3d",
    52: "45407bed337ae24539d0d7e3ee1bfc8ae03e8755999c074135dd3ee057f76fa0",
    60: "134db0a162626c03430bbb587ffa201a8c4c52cec3db13548d18ca442ff3a6e0",
    108: "483c19233287dea68b9745564f557554f9be3abc3b3824dbd88b8b86aca31d39",
    140: "93ac93395665b9676512ee1efff1967efce35fbf55258a268bb6638fd1d13554",
    156: "f1a893d61b8438fc2a421451bb507e24862ae847a5ba226310aeefb19b06c7ce",
    172: "66cd19c8ae98afaf89df7699b232b24a5d6af15de96ed5a5ca8d84e68f2a38bb",
}
# get_hadK's order (SpinQuant).
ORDER = [172, 156, 140, 108, 60, 52, 36, 28, 44, 40, 20, 12]
# Sizes of the tiny models and SmolLM2 (hidden, intermediate, head_dim), and every factor once.
TRANSFORM_SIZES = [16, 64, 96, 160, 576, 960, 1536, 2560, 48, 80, 112, 144, 240, 208, 88, 216,
                   280, 312, 344]
RANDOM_SIZES = [64, 96, 576]


def fingerprint(h):
    return hashlib.sha256("".join("+" if v > 0 else "-" for v in h.flatten().tolist()).encode()).hexdigest()


def paley1(torch, q):
    """First row (1, -1, ..., -1), first column ones, core I + S, S[i][j] = legendre(i - j, q)."""
    squares = {(a * a) % q for a in range(1, q)}
    h = torch.empty(q + 1, q + 1, dtype=torch.int8)
    h[0, :] = -1
    h[:, 0] = 1
    for i in range(q):
        for j in range(q):
            d = (i - j) % q
            h[i + 1, j + 1] = 1 if d == 0 or d in squares else -1
    return h


def reference_tables(torch):
    import compressed_tensors.transform.utils.hadamard as ct_had
    from safetensors import safe_open

    tables = {}
    with safe_open(str(ct_had.REPO_PATH), framework="pt") as f:
        for k in ORDER:
            t = f.get_tensor(str(k)).to(torch.int8)
            if fingerprint(t) != SPINQUANT_SHA256[k]:
                t = paley1(torch, 19) if k == 20 else None
            if t is None or fingerprint(t) != SPINQUANT_SHA256[k]:
                raise RuntimeError(f"no reference table for K = {k}")
            tables[k] = t
    return tables


def factor_of(n):
    for k in ORDER:
        if n % k == 0:
            m = n // k
            return k if m & (m - 1) == 0 else None
    return 1 if n & (n - 1) == 0 else None


def dense_transform(torch, x, tables):
    """vec(H_K X H_m) / sqrt(n) for each row of x (float64), densely."""
    import scipy.linalg

    n = x.shape[-1]
    k = factor_of(n)
    m = n // k
    hm = torch.tensor(scipy.linalg.hadamard(m), dtype=torch.float64)
    hk = tables[k].double() if k > 1 else torch.ones(1, 1, dtype=torch.float64)
    X = x.reshape(-1, k, m)
    return (hk @ X @ hm).reshape(x.shape) / n ** 0.5


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    tables = reference_tables(torch)
    out = {f"had{k}": t.contiguous() for k, t in tables.items()}
    g = torch.Generator().manual_seed(7)
    for n in TRANSFORM_SIZES:
        x = torch.randn(4, n, generator=g, dtype=torch.float64)
        out[f"transform_{n}_x"] = x
        out[f"transform_{n}_y"] = dense_transform(torch, x, tables)
    eye_cache = {}
    for n in RANDOM_SIZES:
        torch.manual_seed(0)
        s = torch.randint(low=0, high=2, size=(n,)).to(torch.float64) * 2 - 1
        eye_cache[n] = dense_transform(torch, torch.diag(s), tables)
        out[f"random_hadamard_{n}"] = eye_cache[n]
        torch.manual_seed(1)
        a = torch.randn(n, n, dtype=torch.float64)
        q, r = torch.linalg.qr(a)
        out[f"random_orthogonal_{n}"] = (q * torch.sign(torch.diag(r)).unsqueeze(0)).contiguous()
    save_file(out, str(out_dir / "reference.safetensors"))
    (out_dir / "cases.json").write_text(json.dumps(
        {"factors": ORDER, "transform_sizes": TRANSFORM_SIZES, "random_sizes": RANDOM_SIZES,
         "unsupported": [4864, 18944, 9, 15, 14]}, indent=1))
