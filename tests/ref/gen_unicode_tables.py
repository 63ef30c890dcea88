#!/usr/bin/python3
"""Generates the Unicode / HTML tables of the CLIP tokenizer (src/50_tok_clip.h).

Every table is measured from the engines OpenCLIP itself runs on, by brute force over all code
points, rather than re-derived from the Unicode data files:
  - regex module (what OpenCLIP's tokenizer.py imports as `re`):
      [\\p{L}], [\\p{N}], [^\\s\\p{L}\\p{N}] with IGNORECASE (the token pattern's classes)
      which code points match each ASCII letter / '<' '_' '>' under IGNORECASE (the literal
      alternatives 's 't ... <start_of_text>)
  - Python str: isspace() (str.strip, str.split in whitespace_clean), lower() (one code point at a time; the context-dependent
    Final_Sigma rule is measured as a per-code-point class: case-ignorable / cased / other)
  - html: html.entities.html5 (the FULL table, 2231 names with and without ';'),
    html._invalid_charrefs, html._invalid_codepoints.

Usage: /usr/bin/python3 tests/ref/gen_unicode_tables.py [FILE]   (rewrites the block between the
BEGIN/END GENERATED TABLES markers of FILE in place; default coop.h)
"""
import html
import html.entities
import os
import sys
import unicodedata

import regex

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the tables live in the tokenizer section of coop.h (src/50_tok_clip.h before the amalgamation);
# an explicit path may be given as the first argument
TARGET = (sys.argv[1] if len(sys.argv) > 1 else
          os.path.join(ROOT, "src", "50_tok_clip.h") if os.path.exists(os.path.join(ROOT, "src", "50_tok_clip.h"))
          else os.path.join(ROOT, "coop.h"))
BEGIN = "/* BEGIN GENERATED TABLES (tests/ref/gen_unicode_tables.py) */"
END = "/* END GENERATED TABLES */"
NCP = 0x110000


def chars():
    for c in range(NCP):
        if 0xD800 <= c <= 0xDFFF:
            continue  # never produced by valid UTF-8
        yield c


def runs(pred):
    """[(lo, hi)] inclusive ranges where pred(cp) holds"""
    out = []
    for c in chars():
        if pred(c):
            if out and out[-1][1] == c - 1:
                out[-1][1] = c
            else:
                out.append([c, c])
    return out


def fmt_rows(items, per_line, fmt):
    lines, cur = [], []
    for it in items:
        cur.append(fmt(it))
        if len(cur) == per_line:
            lines.append("    " + " ".join(cur))
            cur = []
    if cur:
        lines.append("    " + " ".join(cur))
    return "\n".join(lines)


def range_table(name, rng, comment):
    body = fmt_rows(rng, 6, lambda r: "{0x%X,0x%X}," % (r[0], r[1]))
    return "/* %s: %d ranges */\nstatic const uint32_t %s[][2] = {\n%s\n};\n" % (comment, len(rng), name, body)


def c_str(s):
    """C string literal of the UTF-8 bytes of s (octal escapes: never swallow a following digit)"""
    out = []
    for b in s.encode("utf-8"):
        if 0x20 <= b < 0x7F and chr(b) not in '"\\?':
            out.append(chr(b))
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def main():
    parts = []
    parts.append("/* regex %s, Python %s (unicodedata %s). */\n"
                 % (regex.__version__, sys.version.split()[0], unicodedata.unidata_version))

    # ---- token pattern classes (IGNORECASE), one merged class table ----------------------
    pL = regex.compile(r"[\p{L}]", regex.IGNORECASE)
    pN = regex.compile(r"[\p{N}]", regex.IGNORECASE)
    pP = regex.compile(r"[^\s\p{L}\p{N}]", regex.IGNORECASE)
    cls = []  # (lo, hi, class) class 1 = L, 2 = N, 3 = other non-space; 0 (absent) = \s
    for c in chars():
        ch = chr(c)
        k = 1 if pL.fullmatch(ch) else 2 if pN.fullmatch(ch) else 3 if pP.fullmatch(ch) else 0
        if k and pL.fullmatch(ch) and pN.fullmatch(ch):
            raise SystemExit("code point in both L and N: %x" % c)
        if k == 0:
            continue
        if cls and cls[-1][2] == k and cls[-1][1] == c - 1:
            cls[-1][1] = c
        else:
            cls.append([c, c, k])
    parts.append("/* token pattern classes under IGNORECASE: 1 = [\\p{L}], 2 = [\\p{N}], 3 = [^\\s\\p{L}\\p{N}];\n"
                 "   code points in no range match none of them (\\s). %d ranges */\n"
                 "static const uint32_t tokc_class_tab[][3] = {\n%s\n};\n"
                 % (len(cls), fmt_rows(cls, 5, lambda r: "{0x%X,0x%X,%d}," % tuple(r))))

    # ---- whitespace -------------------------------------------------------------------------
    parts.append(range_table("tokc_ws_py", runs(lambda c: chr(c).isspace()),
                             "str.isspace(): what str.strip() and str.split() (whitespace_clean) treat as space"))

    # ---- literal letters under IGNORECASE ----------------------------------------------------
    lits = "abcdefghijklmnopqrstuvwxyz<>_'"
    folds = []
    for ch in lits:
        pat = regex.compile(regex.escape(ch), regex.IGNORECASE)
        for c in chars():
            if c != ord(ch) and pat.fullmatch(chr(c)):
                folds.append((ord(ch), c))
    parts.append("/* (literal, other code point matching it under IGNORECASE), for the pattern's literal\n"
                 "   alternatives ('s, 're, <start_of_text>, ...); literals are lower-case ASCII */\n"
                 "static const uint32_t tokc_fold_tab[][2] = {\n%s\n};\n"
                 % fmt_rows(folds, 6, lambda r: "{0x%X,0x%X}," % r))

    # ---- str.lower() --------------------------------------------------------------------------
    lower1 = {}
    multi = {}
    for c in chars():
        if c == 0x3A3:
            continue  # context dependent, handled by the Final_Sigma rule
        lo = chr(c).lower()
        if lo == chr(c):
            continue
        if len(lo) == 1:
            lower1[c] = ord(lo)
        else:
            multi[c] = lo
    if list(multi) != [0x130] or multi[0x130] != "i\u0307":
        raise SystemExit("unexpected multi-char lower(): %r" % multi)
    # runs of (start, count, stride, delta): code points start + k*stride map to cp + delta
    keys = sorted(lower1)
    lruns = []
    i = 0
    while i < len(keys):
        c = keys[i]
        d = lower1[c] - c
        best = (1, 1)
        for stride in (1, 2):
            n = 1
            while (c + n * stride) in lower1 and lower1[c + n * stride] - (c + n * stride) == d:
                n += 1
            if n > best[0]:
                best = (n, stride)
        n, stride = best
        lruns.append((c, n, stride, d))
        covered = set(c + k * stride for k in range(n))
        keys_left = [k for k in keys[i:] if k not in covered]
        keys = keys[:i] + keys_left
    parts.append("/* str.lower() of single code points: {start, count, stride, delta}; U+0130 -> 'i' U+0307\n"
                 "   and U+03A3 (Final_Sigma) are handled in code. %d runs */\n"
                 "static const int32_t tokc_lower_tab[][4] = {\n%s\n};\n"
                 % (len(lruns), fmt_rows(lruns, 4, lambda r: "{0x%X,%d,%d,%d}," % r)))

    # Final_Sigma classes, measured through str.lower() itself:
    #   T1 = ('A'+c+'Σ').lower() ends in 'ς'  <=> ignorable(c) or cased(c)
    #   T2 = ('AΣ'+c).lower()[1] == 'ς'       <=> ignorable(c) or not cased(c)
    # an ignorable code point is always skipped, so 1 = case-ignorable, 2 = cased (not ignorable)
    sig = []
    for c in chars():
        ch = chr(c)
        t1 = ("A" + ch + "\u03a3").lower()[-1] == "\u03c2"
        t2 = ("A\u03a3" + ch).lower()[1] == "\u03c2"
        k = 1 if (t1 and t2) else 2 if (t1 and not t2) else 0
        if k == 0:
            continue
        if sig and sig[-1][2] == k and sig[-1][1] == c - 1:
            sig[-1][1] = c
        else:
            sig.append([c, c, k])
    parts.append("/* Final_Sigma context of str.lower(): 1 = case-ignorable, 2 = cased. %d ranges */\n"
                 "static const uint32_t tokc_sigma_tab[][3] = {\n%s\n};\n"
                 % (len(sig), fmt_rows(sig, 5, lambda r: "{0x%X,0x%X,%d}," % tuple(r))))

    # ---- html.unescape ------------------------------------------------------------------------
    inv = sorted(html._invalid_charrefs.items())
    parts.append("/* html._invalid_charrefs: numeric reference -> replacement */\n"
                 "static const struct { uint32_t num; const char *rep; } tokc_html_invalid_ref[] = {\n%s\n};\n"
                 % fmt_rows(inv, 6, lambda kv: "{0x%X,%s}," % (kv[0], c_str(kv[1]))))
    ic = sorted(html._invalid_codepoints)
    icr = []
    for c in ic:
        if icr and icr[-1][1] == c - 1:
            icr[-1][1] = c
        else:
            icr.append([c, c])
    parts.append(range_table("tokc_html_invalid_cp", icr, "html._invalid_codepoints (replaced by nothing)"))
    ents = sorted(html.entities.html5.items(), key=lambda kv: kv[0].encode())
    parts.append("/* html.entities.html5, all %d names (with ';' and the legacy ones without), sorted by\n"
                 "   byte value for binary search */\n"
                 "static const struct { const char *name, *val; } tokc_html5[] = {\n%s\n};\n"
                 % (len(ents), fmt_rows(ents, 4, lambda kv: "{%s,%s}," % (c_str(kv[0]), c_str(kv[1])))))

    gen = "\n".join(parts)
    src = open(TARGET, encoding="utf-8").read()
    a = src.index(BEGIN)
    b = src.index(END, a)
    src = src[:a] + BEGIN + "\n" + gen + src[b:]
    with open(TARGET + ".tmp", "w", encoding="utf-8") as f:
        f.write(src)
    os.replace(TARGET + ".tmp", TARGET)
    print("wrote tables: %d class ranges, %d lower runs, %d sigma ranges, %d entities"
          % (len(cls), len(lruns), len(sig), len(ents)))


if __name__ == "__main__":
    main()
