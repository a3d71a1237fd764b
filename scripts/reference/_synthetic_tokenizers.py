"""Small tokenizers trained on the fly, wired with the components the real tokenizers in
assets/data do not use (Metaspace, Prepend, Strip, NFKC/NFD, every Split behavior and invert,
byte fallback with a fused unk, subword prefix/suffix, added tokens with lstrip, rstrip,
single_word and normalized=true, Template/Bert processing, Replace/Strip/Metaspace decoders),
so that the golden test covers them against HF tokenizers too."""
import copy
import json

from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, trainers


def _train(model, pre_tokenizer, texts, **trainer_kwargs):
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizer
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=1500, show_progress=False,
                                                       **trainer_kwargs))
    return json.loads(tok.to_str())


def _with_added(doc, tokens):
    """Re-loads `doc` in HF and adds `tokens` there, so ids are assigned the HF way."""
    tok = Tokenizer.from_str(json.dumps(doc))
    tok.add_tokens(tokens)
    return json.loads(tok.to_str())


def _added_tokens():
    return [AddedToken("[MASK]", lstrip=True, special=True, normalized=False),
            AddedToken("<tab>", rstrip=True, special=False, normalized=False),
            AddedToken("hello world", single_word=True, normalized=True),
            AddedToken("ﬁx", normalized=True),
            AddedToken("Ωmega", normalized=True, single_word=True, lstrip=True, rstrip=True),
            AddedToken("<sep>", special=True, normalized=False)]


def _metaspace_model(texts):
    return _train(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True),
                  pre_tokenizers.Metaspace(), texts, special_tokens=["<unk>", "<s>", "</s>"])


def metaspace_llama2(trained):
    """Llama-2 style: Prepend + Replace normalizers, byte fallback, fused unk, Strip decoder."""
    doc = copy.deepcopy(trained)
    vocab = doc["model"]["vocab"]
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    doc["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    doc["pre_tokenizer"] = None
    doc["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    doc["post_processor"] = {"type": "TemplateProcessing",
                             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}}],
                             "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                                      {"Sequence": {"id": "B", "type_id": 1}}],
                             "special_tokens": {"<s>": {"id": "<s>", "ids": [vocab["<s>"]],
                                                        "tokens": ["<s>"]}}}
    return doc


def metaspace_pretokenizer(trained, scheme, split):
    """NFKC + Metaspace pre-tokenizer and decoder with the given prepend scheme."""
    doc = metaspace_llama2(trained)
    doc["normalizer"] = {"type": "NFKC"}
    meta = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}
    doc["pre_tokenizer"] = meta
    doc["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, dict(meta)]}
    ids = doc["model"]["vocab"]
    doc["post_processor"]["single"].append({"SpecialToken": {"id": "</s>", "type_id": 0}})
    doc["post_processor"]["special_tokens"]["</s>"] = {"id": "</s>", "ids": [ids["</s>"]],
                                                       "tokens": ["</s>"]}
    return _with_added(doc, _added_tokens())


def split_behaviors(texts):
    """Byte-level BPE behind a chain of Split pre-tokenizers, one per behavior, and invert."""
    doc = _train(models.BPE(), pre_tokenizers.ByteLevel(add_prefix_space=True), texts,
                 initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<|end|>"])
    doc["model"]["ignore_merges"] = True
    split = lambda kind, pattern, behavior, invert=False: {
        "type": "Split", "pattern": {kind: pattern}, "behavior": behavior, "invert": invert}
    doc["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "NFD"}, {"type": "Replace", "pattern": {"Regex": "[\u0300-\u036f]+"}, "content": ""},
        {"type": "Strip", "strip_left": False, "strip_right": True}]}
    doc["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        split("Regex", r"[.,!?;]", "Removed"),
        split("String", "-", "MergedWithNext"),
        split("String", "'", "MergedWithPrevious"),
        split("Regex", r"\p{N}", "Contiguous"),
        split("Regex", r"[\p{L}\p{M}]+|\s+", "Isolated", True),
        {"type": "Digits", "individual_digits": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}]}
    doc["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                             "use_regex": True}
    doc["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                      "use_regex": True}
    return _with_added(doc, _added_tokens())


def subword_affixes(texts):
    """continuing_subword_prefix + end_of_word_suffix, unk without fusing, Bert processing."""
    doc = _train(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##",
                            end_of_word_suffix="</w>"),
                 pre_tokenizers.WhitespaceSplit(), texts, continuing_subword_prefix="##",
                 end_of_word_suffix="</w>", special_tokens=["[UNK]", "[CLS]", "[SEP]"],
                 limit_alphabet=120)
    vocab = doc["model"]["vocab"]
    doc["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKD"},
                                                             {"type": "Strip", "strip_left": True, "strip_right": True}]}
    doc["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", vocab["[SEP]"]],
                             "cls": ["[CLS]", vocab["[CLS]"]]}
    doc["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "</w>"}, "content": " "},
        {"type": "Replace", "pattern": {"Regex": "^##"}, "content": ""},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return doc


def build_all(texts):
    trained = _metaspace_model(texts)
    return {
        "synthetic_llama2": metaspace_llama2(trained),
        "synthetic_metaspace_first": metaspace_pretokenizer(trained, "first", True),
        "synthetic_metaspace_always": metaspace_pretokenizer(trained, "always", False),
        "synthetic_split": split_behaviors(texts),
        "synthetic_affixes": subword_affixes(texts),
    }
