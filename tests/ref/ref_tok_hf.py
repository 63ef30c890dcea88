"""Reference for the Hugging Face tokenizers of coop.h (src/52_tok_hf.h).

Run with /usr/bin/python3 (Debian: python3-sentencepiece, python3-regex, sentencepiece's spm_train).
HF `tokenizers`/`transformers` are not installed here, so:
  * GPT-2 byte-level BPE (RoBERTa): we train a tiny byte-level BPE ourselves and tokenize with our
    own Python re-implementation of HF's algorithm (ByteLevel pre-tokenizer regex, byte->unicode
    map, merge-rank BPE, <s> ... </s> + <pad> to context length, truncation keeping </s>).
    It is OUR reference of HF's behaviour, not HF itself.
  * SentencePiece unigram (XLM-R): a small unigram model trained with spm_train (nmt_nfkc), ids from
    the sentencepiece module itself, mapped to fairseq ids (<s>=0 <pad>=1 </s>=2 <unk>=3, spm id + 1).
Both apply OpenCLIP's HFTokenizer cleaning (clean='whitespace'): html.unescape twice, strip,
collapse \\s+ to one space, strip. ftfy.fix_text is NOT applied (documented limit of coop.h).

Writes tests/fixtures/hf/: vocab.json, merges.txt, spm.model, corpus.bin (texts joined by NUL),
bpe_ids.npy / spm_ids.npy [N, 77] int32, bpe_ids8.npy / spm_ids8.npy [N, 8] (truncation).
"""
import html, json, os, random, subprocess, tempfile, unicodedata
import numpy as np
import regex
import sentencepiece as spm

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "hf")
rng = random.Random(1234)

BASE = [
    "a photo of a dog.", "A photo of a cat, sitting on the mat!", "the quick brown fox jumps over the lazy dog",
    "Ein Foto eines Hundes. Grüße aus München, Straße", "une photo d'un chat très élégant, où est-il ?",
    "una foto de un perro pequeño y mañana", "фотография собаки и кошки в Москве", "Η φωτογραφία ενός σκύλου",
    "一只狗的照片。我们在北京。", "犬の写真です。東京タワー、カタカナ、ひらがな", "고양이 사진입니다. 서울",
    "صورة لكلب في القاهرة", "תמונה של כלב בירושלים", "कुत्ते की एक तस्वीर दिल्ली में", "ภาพถ่ายของสุนัข กรุงเทพ",
    "Zdjęcie psa w Łodzi, źdźbło", "Fotoğraf köpeğin İstanbul'da ığdır", "Ảnh của một con chó ở Hà Nội",
    "Ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ ＡＢＣ １２３", "ligatures: ﬁne ﬂow ﬀ ﬃ", "circled ① ② ⑳ and ㈱ ㎏ ™ ½",
    "emoji 😀🐶🐱 👍🏽 family 👨‍👩‍👧 flags 🇫🇷🇯🇵", "math ∑ x² ≤ ∞ √2 ≈ 1.414", "numbers 3.14159 1,000,000 42nd 2024-01-01",
    "I'm sure you've seen it, they'll say we'd done it's 'quoted' THEY'RE", "punctuation!!! ??? ... --- *** (brackets) [x] {y}",
    "tabs\tand\nnewlines\r\nand  double   spaces", "  leading and trailing   ", "non\u00a0breaking\u2009thin\u3000ideographic",
    "html &amp; entities &lt;b&gt; &quot;q&quot; &#39;s &#x263A; &#9731;", "café naïve coöperate résumé (NFD: cafe\u0301)",
    "ZERO\u200bWIDTH\u200djoiner", "Ⅻ roman ⅻ, superscript ¹²³, fractions ¾", "mixed中文English日本語한국어", "A",
    "", "   ", "x" * 300, "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "The Eiffel Tower in Paris, France", "a photo of a Yorkshire terrier", "airplane automobile bird cat deer",
    "ओम् नमः शिवाय", "ሰላም ለዓለም", "Ողջույն աշխարհ", "გამარჯობა", "Салам алейкум", "Γειά σου Κόσμε",
    "𝐁𝐨𝐥𝐝 𝕯𝖔𝖚𝖇𝖑𝖊 math letters", "ｶﾀｶﾅ halfwidth katakana", "control\x01chars\x7f here",
]
WORDS = [w for s in BASE for w in s.split()]


def corpus():
    texts = list(BASE)
    for _ in range(400):
        k = rng.randint(1, 14)
        sep = rng.choice([" ", " ", " ", "  ", "\t", "\n", ", ", "", " \u3000 "])
        texts.append(sep.join(rng.choice(WORDS) for _ in range(k)))
    for _ in range(12):   # over-long inputs (truncation)
        texts.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 150))))
    return texts


def clean(text):
    # OpenCLIP HFTokenizer clean='whitespace': whitespace_clean(basic_clean(text)) without ftfy
    text = html.unescape(html.unescape(text)).strip()
    # re.sub(r"\s+", " ", text).strip(): Python's \s on str is str.isspace(), as str.split() uses
    return " ".join(text.split())


# ---- GPT-2 byte-level BPE ------------------------------------------------------------------
PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()


def pretok(text):
    return ["".join(B2U[b] for b in w.encode("utf-8")) for w in PAT.findall(text)]


def train_bpe(texts, n_merges):
    words = {}
    for t in texts:
        for w in pretok(clean(t)):
            words[w] = words.get(w, 0) + 1
    segs = {w: list(w) for w in words}
    merges = []
    for _ in range(n_merges):
        counts = {}
        for w, c in words.items():
            s = segs[w]
            for a, b in zip(s, s[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + c
        if not counts:
            break
        best = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        for w in words:
            s, out, i = segs[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1]); i += 2
                else:
                    out.append(s[i]); i += 1
            segs[w] = out
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for b in range(256):
        vocab[B2U[b]] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    vocab["<mask>"] = len(vocab)
    return vocab, merges


def bpe_word(word, ranks):
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
        r, _ = min(pairs)
        if r == 1 << 30:
            break
        a, b = [(x, y) for x, y in zip(parts, parts[1:]) if ranks.get((x, y)) == r][0]
        out, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                out.append(a + b); i += 2
            else:
                out.append(parts[i]); i += 1
        parts = out
    return parts


def encode_bpe(text, vocab, ranks, ctx):
    ids = []
    for w in pretok(clean(text)):
        ids += [vocab.get(p, 3) for p in bpe_word(w, ranks)]
    ids = [0] + ids[:ctx - 2] + [2]
    return ids + [1] * (ctx - len(ids))


def encode_spm(text, sp, ctx):
    # fairseq ids: spm unk (0) -> 3, every other piece id + 1 (<s>=0 <pad>=1 </s>=2 <unk>=3)
    ids = [3 if i == sp.unk_id() else i + 1 for i in sp.encode(clean(text))]
    ids = [0] + ids[:ctx - 2] + [2]
    return ids + [1] * (ctx - len(ids))


def main():
    os.makedirs(OUT, exist_ok=True)
    texts = corpus()
    vocab, merges = train_bpe(texts, 700)
    with open(os.path.join(OUT, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(OUT, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join("%s %s\n" % m for m in merges))
    ranks = {m: i for i, m in enumerate(merges)}

    with tempfile.TemporaryDirectory() as td:
        train = os.path.join(td, "train.txt")
        with open(train, "w", encoding="utf-8") as f:
            for t in texts * 3:
                t = " ".join(t.split())
                if t:
                    f.write(t + "\n")
        subprocess.run(["spm_train", "--input=" + train, "--model_prefix=" + os.path.join(td, "m"),
                        "--model_type=unigram", "--vocab_size=1200", "--normalization_rule_name=nmt_nfkc",
                        "--character_coverage=0.995", "--minloglevel=2", "--hard_vocab_limit=false",
                        "--max_sentence_length=8192"], check=True, capture_output=True)
        with open(os.path.join(td, "m.model"), "rb") as f:
            model = f.read()
    with open(os.path.join(OUT, "spm.model"), "wb") as f:
        f.write(model)
    sp = spm.SentencePieceProcessor(model_proto=model)

    with open(os.path.join(OUT, "corpus.bin"), "wb") as f:
        f.write(b"\0".join(t.encode("utf-8") for t in texts))
    for ctx, suf in ((77, ""), (8, "8")):
        b = np.array([encode_bpe(t, vocab, ranks, ctx) for t in texts], dtype=np.int32)
        s = np.array([encode_spm(t, sp, ctx) for t in texts], dtype=np.int32)
        np.save(os.path.join(OUT, "bpe_ids%s.npy" % suf), b)
        np.save(os.path.join(OUT, "spm_ids%s.npy" % suf), s)
    # total piece score of spm's full (untruncated) segmentation: lets the C test recognise
    # segmentations that tie with spm's up to float rounding (long runs of one letter)
    sc = [sum(sp.get_score(i) if i != sp.unk_id() else min(sp.get_score(j) for j in range(sp.get_piece_size())
              if sp.is_unknown(j) is False and not sp.is_control(j)) - 10.0 for i in sp.encode(clean(t))) for t in texts]
    np.save(os.path.join(OUT, "spm_score.npy"), np.array(sc, dtype=np.float64))
    nunk = int((np.load(os.path.join(OUT, "spm_ids.npy")) == 3).sum())
    print("texts", len(texts), "bpe vocab", len(vocab), "spm pieces", sp.get_piece_size(), "spm model bytes", len(model),
          "unk tokens", nunk)


if __name__ == "__main__":
    main()
