#!/bin/sh
# The whole pipeline offline, on a tiny model with RANDOM weights that ships with the repo:
# convert a checkpoint, embed images and texts, classify zero-shot, train CoOp, evaluate.
# The predictions mean nothing: this only shows the programs working. See README for real models.
set -e
B=${BUILD:-build}
OUT=$B/demo
rm -rf "$OUT/runs"   # runs of an earlier demo would be averaged in
mkdir -p "$OUT"
echo "== 1. convert an OpenCLIP-style checkpoint (safetensors + open_clip_config.json)"
$B/convert tests/fixtures/clip/demo.safetensors --config tests/fixtures/clip/demo_open_clip_config.json \
    --vocab ../shared/data/bpe_simple_vocab_16e6.txt.gz --pretrained random-demo -o "$OUT/demo.coop"
echo "== 2. embeddings (.npy) of images and of texts"
$B/embed -m "$OUT/demo.coop" --images examples/data/shapes/red_circle/00.png examples/data/shapes/blue_square/00.png -o "$OUT/img.npy"
printf 'a photo of a red circle.\na photo of a blue square.\n' > "$OUT/texts.txt"
$B/embed -m "$OUT/demo.coop" --texts "$OUT/texts.txt" -o "$OUT/txt.npy" --tokens-out "$OUT/tokens.npy"
echo "== 3. zero-shot classification (prompt ensemble of two templates)"
printf 'red circle\nblue square\ngreen triangle\nyellow star\n' > "$OUT/classes.txt"
$B/zeroshot -m "$OUT/demo.coop" --classes "$OUT/classes.txt" --template "a photo of a {}." \
    --template "a drawing of a {}." --top-k 2 examples/data/shapes/green_triangle/00.png
echo "== 4. CoOp: 4-shot, 2 seeds, 20 epochs on examples/data/shapes (folder per class)"
$B/train examples/data/shapes -m "$OUT/demo.coop" --shots 4 --seed 1 --seed 2 --epochs 20 --n-ctx 4 \
    --batch-size 8 --output "$OUT/runs"
echo "== 5. mean and std over the seeds"
$B/eval "$OUT/runs"
echo "demo done. (random weights: the accuracies above are chance level by design)"
