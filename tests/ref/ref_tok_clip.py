#!/usr/bin/python3
"""Reference for the CLIP BPE tokenizer (src/50_tok_clip.h): OpenCLIP's SimpleTokenizer with its
default clean='lower' path (whitespace_clean(basic_clean(x)).lower()), re-implemented here from
open_clip/src/open_clip/tokenizer.py with the `regex` module, html and gzip -- but WITHOUT
ftfy.fix_text (the C port does not repair mojibake either).

Writes tests/fixtures/tok_clip/:
  corpus.bin   the test strings, UTF-8, each followed by one NUL byte
  ids77.npy    int32 [N, 77]  tokenize(text, context_length=77)
  ids8.npy     int32 [N, 8]   tokenize(text, context_length=8)   (truncation keeps EOT last)
  enc_len.npy  int32 [N]      len(encode(text)) (no SOT/EOT)

Usage: /usr/bin/python3 tests/ref/ref_tok_clip.py [path/to/bpe_simple_vocab_16e6.txt.gz]
       [--check-openclip DIR]   DIR = an open_clip checkout's src/open_clip: also runs its own
                                SimpleTokenizer (ftfy.fix_text replaced by the identity) on the
                                corpus and requires identical ids (verification only, not needed
                                to write the fixtures)
"""
import gzip
import html
import html.entities
import os
import random
import sys

import numpy as np
import regex

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "tok_clip")


def byte_symbols():
    """bytes_to_unicode(): printable latin-1 bytes keep their code point, the rest -> 256 + k"""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, extra = {}, 0
    for b in keep:
        table[b] = chr(b)
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    order = keep + [b for b in range(256) if b not in keep]
    return table, [table[b] for b in order]


class ClipBPE:
    def __init__(self, gz_path):
        self.byte_sym, base = byte_symbols()
        lines = gzip.open(gz_path).read().decode("utf-8").split("\n")
        merges = [tuple(l.split()) for l in lines[1:49152 - 256 - 2 + 1]]
        vocab = base + [s + "</w>" for s in base] + ["".join(m) for m in merges]
        specials = ["<start_of_text>", "<end_of_text>"]
        vocab += specials
        self.encoder = {s: i for i, s in enumerate(vocab)}
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.cache = {s: s for s in specials}
        self.pat = regex.compile("|".join(specials) +
                                 r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                                 regex.IGNORECASE)
        self.sot, self.eot = self.encoder[specials[0]], self.encoder[specials[1]]

    @staticmethod
    def clean(text):
        text = html.unescape(html.unescape(text)).strip()       # basic_clean without ftfy
        text = " ".join(text.split()).strip()                    # whitespace_clean (current OpenCLIP)
        return text.lower()

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):   # every occurrence, left to right
                if i + 1 < len(word) and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        out = " ".join(word)
        self.cache[token] = out
        return out

    def encode(self, text):
        ids = []
        for tok in self.pat.findall(self.clean(text)):
            sym = "".join(self.byte_sym[b] for b in tok.encode("utf-8"))
            ids += [self.encoder[s] for s in self.bpe(sym).split(" ")]
        return ids

    def tokenize(self, text, ctx=77):
        toks = [self.sot] + self.encode(text) + [self.eot]
        if len(toks) > ctx:
            toks = toks[:ctx]
            toks[-1] = self.eot
        return toks + [0] * (ctx - len(toks))


def corpus():
    c = [
        "", " ", "   \t\n ", "a", "A", "a photo of a dog.", "A photo of a DOG.", "a photo of a cat",
        "X X X X X X X X X X X X X X X X dog.", "x x x x cat.", "hello world", "Hello, World!",
        "the quick brown fox jumps over the lazy dog", "THE QUICK BROWN FOX", "CamelCaseWord",
        "it's", "It's a dog's life", "we're here", "they've gone", "I'm fine", "we'll see", "he'd go",
        "IT'S", "WE'RE", "don't", "won't can't shouldn't", "'s", "'", "''", "'''s", "rock 'n' roll",
        "it’s curly", "o'clock", "'tis", "'S", "'T", "'Re'VE'M'LL'D", "!!'s", "x'sy",
        "airplanes", "Faces_easy", "Motorbikes", "BACKGROUND_Google", "car_side", "dalmatian",
        "yin_yang", "water_lilly", "stop_sign", "crocodile_head", "Leopards", "wild_cat", "__init__",
        "snake_case_name_here", "kebab-case-name", "dot.separated.name", "a/b/c", "C++", "C#", "F#",
        "e-mail", "U.S.A.", "Ph.D.", "Mr. Smith", "N/A", "(parenthesised)", "[bracketed]", "{braced}",
        "1", "12", "123", "1234567890", "3.14159", "1,000,000", "-42", "+7", "1e10", "0x1F", "2nd 3rd 4th",
        "12:30pm", "2021-03-04", "v1.2.3", "ℕ ℝ ℤ", "½ ¼ ¾", "²³¹", "①②③", "Ⅳ Ⅻ", "٣٤٥", "३४५", "一二三",
        "&amp;", "&amp;amp;", "&amp;amp;amp;", "&lt;b&gt;bold&lt;/b&gt;", "&quot;quoted&quot;", "&#39;apos&#39;",
        "&#x27;hex&#X27;", "&#65;&#66;&#67;", "&#x41;&#x42", "&#0;", "&#13;", "&#128;", "&#130;&#159;", "&#x80;",
        "&#xD800;", "&#xDFFF;", "&#x110000;", "&#99999999999999999999;", "&#1;", "&#x7f;", "&#xFDD0;",
        "&#xFFFE;", "&#x10FFFF;", "&#x1F600;", "&#128512;", "&#", "&#;", "&#x;", "&#xg;", "& amp;",
        "&copy", "&copy;", "&copyright", "&notin;", "&notit;", "&noti", "&not", "&amp", "&ampx", "&AMP;",
        "&Amp;", "&nbsp;x&nbsp;", "&ensp;&emsp;&thinsp;", "&zwj;&zwnj;", "&NotNestedGreaterGreater;",
        "&CounterClockwiseContourIntegral;", "&CounterClockwiseContourIntegralXYZ;", "&lt&gt&amp",
        "&unknown;", "&;", "&", "&&&", "a&b", "AT&T", "&amp;lt;", "&#38;lt;", "&#x26;#65;", "&eacute;t&eacute;",
        "&Eacute;COLE", "&szlig;", "&fjlig;", "&nGt;", "&acE;", "&bne;", "&ThickSpace;", "&NewLine;",
        "&Tab;a", "&#9;tab", "&#10;nl", "&#160;nbsp", "&#12288;ideo", "&aacute&eacute", "&aacutex",
        "&" + "a" * 40 + ";", "&amp" + "b" * 40, "&lt;" * 30,
        "tab\tseparated\tvalues", "new\nline", "cr\r\nlf", "form\ffeed", "vertical\vtab", "a\x1cb\x1dc\x1ed\x1ff",
        "\x1c edge \x1f", "\x85next line\x85", "nbsp\u00a0here", "\u00a0\u00a0lead", "trail\u00a0", "ogham\u1680space",
        "en\u2002em\u2003thin\u2009hair\u200a", "zero\u200bwidth", "line\u2028para\u2029sep", "narrow\u202fnbsp",
        "math\u205fspace", "ideo\u3000space", "mongolian\u180evowel", "bom\ufeffhere", "  multiple   spaces  ",
        "\t\n\r mixed \t\n\r", "soft\u00adhyphen", "word\u2060joiner",
        "café", "naïve", "résumé", "Crème Brûlée", "ÉCOLE", "Ångström", "façade", "jalapeño", "Ñandú",
        "Straße", "STRASSE", "Größe", "ẞ", "Übermäßig", "Ökonomie", "Français", "Œuvre", "œil", "Ærø",
        "İstanbul", "ISTANBUL", "ıi", "IİıI", "Ağaç", "Şişe", "Çiçek", "Ğ", "i̇",
        "ΣΟΦΙΑ", "Σ", "ΣΣ", "ΑΣ", "ΑΣ Β", "ΑΣ.", "Α'Σ", "ΑΣ'", "ΑΣΑ", "Α̈Σ", "ΟΔΥΣΣΕΥΣ", "Ἀθῆναι", "ᾼ", "ǅ",
        "Ελληνικά γράμματα", "Москва", "ПРИВЕТ МИР", "Ёлка", "Україна", "Ґанок", "Српски", "Қазақ",
        "中文字符", "日本語のテキスト", "ひらがな カタカナ", "한국어 텍스트", "漢字かな交じり文", "ｆｕｌｌｗｉｄｔｈ", "ＡＢＣ１２３",
        "العربية", "مرحبا بالعالم", "עברית", "हिन्दी भाषा", "नमस्ते", "தமிழ்", "ไทย", "ქართული", "Հայերեն",
        "አማርኛ", "ᏣᎳᎩ", "ꓮꓲ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝐁𝐨𝐥𝐝", "𝟙𝟚𝟛",
        "😀", "😀😃😄", "dog 🐶 cat 🐱", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷🇩🇪", "❤️", "©®™", "★☆♥♦",
        "e\u0301", "a\u0308o\u0308", "n\u0303", "\u0301start", "z\u0335\u0336", "Z̴̡͕͇̿a̶l̷g̶o̵", "ᄀ\u1161",
        "\u0345", "ͅ", "Ϊ́", "ﬁ ﬂ ﬀ", "ǈ", "ß", "ŉ", "K", "Å", "ſ", "'ſ", "it'ſ", "'ſ'ſ",
        "<start_of_text>", "<end_of_text>", "<START_OF_TEXT>", "a<start_of_text>b", "<start_of_text><end_of_text>",
        "!<start_of_text>", "<ſtart_of_text>", "<start_of_text", "<|endoftext|>", "<end_of_text>!",
        "\U0001F600" * 5, "\U000E0041tag", "\U0010FFFD", "\uE000private", "\uFFFD", "\uFFFF",
        "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉",
        "antidisestablishmentarianism", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "supercalifragilisticexpialidocious" * 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "abababababababababababab", "lololololololol", "zzzzzzzzzzzzzzzzzzz", "!!!!!!!!!!!!!!!!",
        "...", "?!?!", "--", "—", "–", "…", "«guillemets»", "„German quotes“", "“smart quotes”",
        "$100", "€50", "£20", "¥1000", "100%", "#hashtag", "@mention", "http://example.com/path?q=1&r=2",
        "user@example.com", "path\\to\\file", "~/home", "a|b", "x^2", "a*b", "a+b=c", "<html>", "</div>",
    ]
    # long inputs (> 77 tokens)
    c.append(" ".join(["word"] * 100))
    c.append("a photo of a " + "very " * 80 + "big dog.")
    c.append(", ".join(str(i) for i in range(200)))
    c.append("The " + " ".join("token%d" % i for i in range(120)))
    c.append("漢" * 200)
    c.append("x" * 1000)
    c.append(("The quick brown fox jumps over the lazy dog. " * 10).strip())
    # Caltech-101 class names and prompts
    names = open(os.path.join(ROOT, "..", "shared", "data", "caltech101_classnames.txt"), encoding="utf-8").read().split()
    c += names
    c += ["a photo of a %s." % n.replace("_", " ") for n in names[:40]]
    # random mixtures (fixed seed)
    rng = random.Random(1234)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " \t\n\r\x0b\x0c\x85\xa0\u2003\u3000",
        ".,;:!?'\"()[]{}<>-_/\\|@#$%^&*+=~`", "äöüßÄÖÜéèêçñøåæœÉÈİıΣσςΑΒΓЖЩЯжщя", "中文日本語한국어ひらがなカタカナ",
        "😀🐶🎉👍🏽❤️\u200d\u0301\u0308\ufe0f", "&amp;&lt;&#65;&#x42;&nbsp;&copy&eacute;",
    ]
    for k in range(220):
        n = rng.randint(1, 60)
        s = "".join(rng.choice(rng.choice(pools)) for _ in range(n))
        c.append(s)
    # random code points from all planes (valid scalar values, no NUL / surrogates)
    for k in range(60):
        s = []
        for _ in range(rng.randint(1, 20)):
            while True:
                cp = rng.choice([rng.randint(1, 0x7FF), rng.randint(0x800, 0xFFFF), rng.randint(0x10000, 0x10FFFF)])
                if not (0xD800 <= cp <= 0xDFFF):
                    break
            s.append(chr(cp))
        c.append("".join(s))
    # html entity names sampled from the full table, with and without ';' and with trailing text
    ents = sorted(html.entities.html5)
    for k in range(60):
        e = rng.choice(ents)
        c.append("x&%s%s y" % (e, rng.choice(["", "z", ";", "1"])))
    seen, out = set(), []
    for s in c:
        if s not in seen and "\0" not in s:
            seen.add(s)
            out.append(s)
    return out


def check_openclip(src_dir, gz, texts, ids77, ids8):
    """OpenCLIP's own tokenizer.py, imported from a checkout, with ftfy stubbed out"""
    import importlib.util
    import types
    sys.modules["ftfy"] = types.SimpleNamespace(fix_text=lambda t, **k: t)
    spec = importlib.util.spec_from_file_location("oc_tokenizer", os.path.join(src_dir, "tokenizer.py"))
    mod = importlib.util.module_from_spec(spec)
    # tokenizer.py builds a default SimpleTokenizer at import from the .gz beside it
    if not os.path.exists(os.path.join(src_dir, "bpe_simple_vocab_16e6.txt.gz")):
        raise SystemExit("put bpe_simple_vocab_16e6.txt.gz beside %s/tokenizer.py" % src_dir)
    spec.loader.exec_module(mod)
    oc = mod.SimpleTokenizer(gz)
    bad = 0
    for i, t in enumerate(texts):
        a = oc([t], context_length=77)[0].tolist()
        b = oc([t], context_length=8)[0].tolist()
        if a != ids77[i].tolist() or b != ids8[i].tolist():
            bad += 1
            print("MISMATCH with OpenCLIP:", repr(t)[:80])
    print("OpenCLIP's SimpleTokenizer (ftfy stubbed) agrees on %d / %d strings" % (len(texts) - bad, len(texts)))
    if bad:
        raise SystemExit(1)


def main():
    args = sys.argv[1:]
    oc_dir = None
    if "--check-openclip" in args:
        k = args.index("--check-openclip")
        oc_dir = args[k + 1]
        del args[k:k + 2]
    gz = args[0] if args else os.path.join(ROOT, "..", "shared", "data", "bpe_simple_vocab_16e6.txt.gz")
    tok = ClipBPE(gz)
    texts = corpus()
    # sanity: known ids of the reference implementation
    assert tok.tokenize("a photo of a dog.")[:7] == [49406, 320, 1125, 539, 320, 1929, 269], tok.tokenize("a photo of a dog.")[:8]
    ids77 = np.array([tok.tokenize(t, 77) for t in texts], dtype=np.int32)
    ids8 = np.array([tok.tokenize(t, 8) for t in texts], dtype=np.int32)
    enc_len = np.array([len(tok.encode(t)) for t in texts], dtype=np.int32)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "corpus.bin"), "wb") as f:
        for t in texts:
            f.write(t.encode("utf-8") + b"\0")
    np.save(os.path.join(OUT, "ids77.npy"), ids77)
    np.save(os.path.join(OUT, "ids8.npy"), ids8)
    np.save(os.path.join(OUT, "enc_len.npy"), enc_len)
    if oc_dir:
        check_openclip(oc_dir, gz, texts, ids77, ids8)
    print("wrote %d strings (%d longer than 77 tokens) to %s" % (len(texts), int((enc_len > 75).sum()), OUT))


if __name__ == "__main__":
    main()
