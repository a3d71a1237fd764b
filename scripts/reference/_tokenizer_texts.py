"""Test strings for the tokenizer golden files: a fixed-seed sample of the shared datasets plus
adversarial strings. Shared by gen_tokenizers.py and scripts/bench/tokenizer_bench.py."""
import csv
import glob
import json
import pathlib
import random

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "assets" / "data"


def _window(rng, text, max_chars):
    if len(text) <= max_chars:
        return text
    start = rng.randrange(0, len(text) - max_chars + 1)
    return text[start:start + rng.randint(max_chars // 4, max_chars)]


def dataset_strings(rng, counts=None, max_chars=400):
    """(source, text) pairs; 10,000 by default. Longer texts are cut to a random window of at
    most `max_chars` characters (a quarter of it at least), keeping the golden files small."""
    counts = counts or {"wikitext": 2000, "c4": 4000, "mmlu": 1500, "gsm8k": 1500, "arc": 1000}
    out = []
    lines = [l for l in (DATA / "wikitext2" / "wiki.test.raw").read_text(encoding="utf-8")
             .splitlines(keepends=True) if l.strip()]
    out += [("wikitext", _window(rng, l, max_chars)) for l in rng.sample(lines, counts["wikitext"])]

    docs = [json.loads(l)["text"] for l in (DATA / "calibration" / "c4" /
                                             "c4_validation_2k.jsonl").open(encoding="utf-8")]
    out += [("c4", _window(rng, rng.choice(docs), max_chars)) for _ in range(counts["c4"])]

    mmlu = []
    for path in sorted(glob.glob(str(DATA / "mmlu" / "data" / "test" / "*.csv"))):
        with open(path, newline="", encoding="utf-8") as f:
            mmlu += list(csv.DictReader(f))
    for row in rng.sample(mmlu, counts["mmlu"]):
        choices = "".join(f"\n{l}. {row[f'choice{i}']}" for i, l in enumerate("ABCD"))
        out.append(("mmlu", _window(rng, f"{row['question'].strip()}{choices}\nAnswer:", max_chars)))

    gsm = [json.loads(l) for l in (DATA / "gsm8k" / "train.jsonl").open(encoding="utf-8")]
    for row in rng.sample(gsm, counts["gsm8k"]):
        out.append(("gsm8k", _window(rng, f"Question: {row['question']}\nAnswer: {row['answer']}", max_chars)))

    arc = [json.loads(l) for l in (DATA / "arc" / "ARC-Challenge-test.jsonl").open(encoding="utf-8")]
    for row in rng.sample(arc, counts["arc"]):
        choices = " ".join(f"({l}) {t}" for l, t in zip(row["choices"]["label"], row["choices"]["text"]))
        out.append(("arc", _window(rng, f"Question: {row['question']}\n{choices}\nAnswer: {row['answerKey']}", max_chars)))
    return out


SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\r\n\r\n", "\u00a0", "\u3000",
          "\u2009", "\u0085", "\u200b", "\x0b", "\x0c", "\u2028", "\u2029", "\u1680", "\u180e",
          "\ufeff", "\u202f", "\u205f", "\x1c", "\t\t", " \n ", "\n \n"]
WORDS = ["hello", "Hello", "HELLO", "world", "the", "The", "a", "is", "état", "naïve", "über",
         "Straße", "東京", "こんにちは", "안녕하세요", "Привет", "مرحبا", "שלום", "नमस्ते", "ไทย",
         "😀", "x", "1", "42", ".", ",", "!", "?", "...", "--", "(", ")", "\"", "'", "`", "$",
         "%", "#", "@", "&", "*", "<", ">", "/", "\\", "|", "_", "=", "+", "~", "^", "{", "}"]
CONTRACTIONS = ["I'm", "I'M", "i'M", "don't", "DON'T", "Don'T", "we've", "we'Ve", "WE'VE",
                "they're", "they'RE", "THEY'Re", "she'll", "SHE'LL", "she'Ll", "he'd", "HE'D",
                "it's", "IT'S", "It'S", "it’s", "they’re", "'s", "''s", "'S", "'ſ", "'\u212a",
                "rock'n'roll", "o'clock", "'tis", "y'all", "'LL", "'Ve", "'re'", "''"]
EMOJI = ["😀", "👨‍👩‍👧‍👦", "🇫🇷", "👍🏽", "❤️", "🏳️‍🌈", "🤖", "🧑🏿‍💻", "☕", "✨", "🫠", "🥲",
         "\U0001FAE8", "*️⃣", "🇺🇸🇯🇵"]
CJK = ["我爱自然语言处理。", "今日は良い天気ですね！", "한국어 텍스트를 토큰화합니다", "漢字とカタカナとひらがな",
       "\u1100\u1161\u11a8", "\u1112\u1161\u11ab\u1100\u1173\u11af", "ＡＢＣ１２３", "𠀀𠀁𪚥",
       "中文，标点。“引号”", "ｶﾀｶﾅ", "㍿㌀", "\U00031350\U0002EBF0"]
COMBINING = ["e\u0301", "a\u0308\u0304", "A\u030a", "\u212b", "\u2126", "n\u0303o\u0303",
             "Z\u0351\u0352\u0353\u0354a\u0355\u0356\u0357l\u0358\u0359g\u035a\u035bo",
             "\u0345", "Vie\u0323\u0302t", "\u1e9b\u0323", "q\u0307\u0323", "\u0301abc",
             "\u00e9\u0301", "ﬁ", "ﬃ", "①", "x²", "\u2160\u2161", "Å", "ǅ", "ﬀ"]
NUMBER_FORMS = ["٠١٢٣٤٥", "１２３４", "²³", "Ⅻ", "½", "𝟙𝟚𝟛", "१२३", "3.14159", "1,234,567.89",
                "-0.5e-10", "0x1F", "v1.2.3", "2024-01-01", "12:30:45", "$1,000", "99%"]


def _random_cp(rng):
    while True:
        plane = rng.random()
        if plane < 0.5:
            cp = rng.randrange(0x20, 0x3000)
        elif plane < 0.8:
            cp = rng.randrange(0x3000, 0x10000)
        else:
            cp = rng.randrange(0x10000, 0x110000)
        if not 0xD800 <= cp < 0xE000:
            return chr(cp)


def _mix(rng, pools, n):
    return "".join(rng.choice(rng.choice(pools)) for _ in range(n))


def adversarial_strings(rng):
    """(kind, text) pairs; text is str, or bytes for invalid UTF-8."""
    out = [("edge", ""), ("edge", " "), ("edge", "\n"), ("edge", "a"), ("edge", "\r\n")]
    out += [("ascii", chr(c)) for c in range(128)]
    out += [("ascii", "x" + chr(c) + "y " + chr(c) * 3) for c in range(128)]
    for _ in range(200):
        out.append(("whitespace", _mix(rng, [SPACES, WORDS], rng.randint(1, 30))))
    for n in [1, 2, 5, 16, 17, 50, 300]:
        out.append(("whitespace", " " * n))
        out.append(("whitespace", "a" + " " * n + "b"))
        out.append(("whitespace", "\n" * n + "x"))
        out.append(("whitespace", "x" + "\r\n" * n))
        out.append(("whitespace", "\t" * n + " " * n + "\n"))
    for _ in range(100):
        n = rng.choice([1, 2, 3, 4, 5, 6, 7, 10, 31, 64, 100, 300])
        digits = "".join(rng.choice("0123456789") for _ in range(n))
        out.append(("digits", rng.choice(["", " ", "x", "$", "-"]) + digits +
                    rng.choice(["", " ", "st", ".5", ",000", "%"])))
    out.append(("digits", "7" * 3000))
    for _ in range(80):
        out.append(("numbers", _mix(rng, [NUMBER_FORMS, SPACES[:3], WORDS[:10]], rng.randint(1, 12))))
    for _ in range(200):
        out.append(("contractions", _mix(rng, [CONTRACTIONS, SPACES[:5], WORDS], rng.randint(1, 15))))
    for _ in range(100):
        out.append(("emoji", _mix(rng, [EMOJI, WORDS, SPACES[:4]], rng.randint(1, 15))))
    for _ in range(100):
        out.append(("cjk", _mix(rng, [CJK, WORDS, SPACES[:4]], rng.randint(1, 10))))
    for _ in range(150):
        out.append(("combining", _mix(rng, [COMBINING, WORDS, SPACES[:3]], rng.randint(1, 12))))
    for _ in range(300):
        out.append(("random_unicode", "".join(_random_cp(rng) for _ in range(rng.randint(1, 40)))))
    for _ in range(100):
        out.append(("control", "".join(chr(rng.choice(list(range(0, 32)) + [127, 0x85, 0x9f]))
                                        if rng.random() < 0.5 else rng.choice(WORDS)
                                        for _ in range(rng.randint(1, 20)))))
    out.append(("long", "a" * 3000))
    out.append(("long", "ab" * 1500))
    out.append(("long", _mix(rng, [WORDS, SPACES, EMOJI, CJK, CONTRACTIONS], 1000)))
    bad = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe0\x80\xaf",
           b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\x80\x80\xbf", b"\xf0\x9f\x98",
           b"\xf0\x9f", b"\xc2", b"\xed\xbf\xbf", b"\xf5", b"\xc1\xbf"]
    for _ in range(250):
        parts = []
        for _ in range(rng.randint(1, 10)):
            r = rng.random()
            if r < 0.4:
                parts.append(rng.choice(bad))
            elif r < 0.5:
                parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 6))))
            else:
                parts.append(rng.choice(WORDS + SPACES[:4] + EMOJI[:3]).encode())
        out.append(("invalid_utf8", b"".join(parts)))
    return out


def special_token_strings(rng, added_tokens, n=400):
    """Strings with the tokenizer's own added tokens (and near misses) inside ordinary text."""
    contents = [t["content"] for t in added_tokens]
    special = [t["content"] for t in added_tokens if t["special"]] or contents
    pool = rng.sample(contents, min(len(contents), 60)) + special[:20]
    near = []
    for c in pool[:30]:
        near += [c[:-1], c[1:], c.upper(), c.lower(), c[:len(c) // 2]]
    glue = ["", " ", "  ", "\n", "\n\n", "\r\n", "\t", "Hello", " world", "x", ".", "1",
            " the end", "é", "😀"]
    out = []
    for _ in range(n):
        pieces = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            pieces.append(rng.choice(pool) if r < 0.45 else rng.choice(near) if r < 0.6
                          else rng.choice(glue))
        out.append(("special_tokens", "".join(pieces)))
    out.append(("special_tokens", "".join(special[:10])))
    out.append(("special_tokens", " ".join(special[:10])))
    return out
