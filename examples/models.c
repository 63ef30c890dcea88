/* models: the architectures coop.h runs, their pretrained tags, and what to download.

   build/models [NAME]        all models, or those whose name contains NAME
   build/models -m FILE.coop  describe a converted model file

   Sources are OpenCLIP's pretrained table (open_clip/pretrained.py): OpenAI's original
   TorchScript archives (openaipublic URLs; recent OpenCLIP versions also mirror them on the
   Hugging Face hub as timm/<name>.openai) and Hugging Face hub repositories holding
   open_clip_pytorch_model.bin (newer ones also open_clip_model.safetensors) and
   open_clip_config.json. CLIP-BPE models need OpenCLIP's bpe_simple_vocab_16e6.txt.gz;
   RoBERTa / XLM-R models need their tokenizer files from the HF text model's repository. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdio.h>
#include <string.h>

typedef struct { const char *model, *tag, *source, *image, *text, *tok; } entry;

#define OAI "https://openaipublic.azureedge.net/clip/models/"
#define VOCAB "bpe_simple_vocab_16e6.txt.gz (github.com/mlfoundations/open_clip, src/open_clip/)"
static const entry table[] = {
    {"RN50", "openai", OAI "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt", "ModifiedResNet", "CLIP", VOCAB},
    {"RN50", "yfcc15m", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/rn50-quickgelu-yfcc15m-455df137.pt", "ModifiedResNet", "CLIP (QuickGELU: --arch RN50-quickgelu)", VOCAB},
    {"RN50", "cc12m", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/rn50-quickgelu-cc12m-f000538c.pt", "ModifiedResNet", "CLIP (QuickGELU: --arch RN50-quickgelu)", VOCAB},
    {"RN101", "openai", OAI "8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599/RN101.pt", "ModifiedResNet", "CLIP", VOCAB},
    {"RN101", "yfcc15m", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/rn101-quickgelu-yfcc15m-3e04b30e.pt", "ModifiedResNet", "CLIP (QuickGELU)", VOCAB},
    {"RN50x4", "openai", OAI "7e526bd135e493cef0776de27d5f42653e6b4c8bf9e0f653bb11773263205fdd/RN50x4.pt", "ModifiedResNet", "CLIP", VOCAB},
    {"RN50x16", "openai", OAI "52378b407f34354e150460fe41077663dd5b39c54cd0bfd2b27167a4a06ec9aa/RN50x16.pt", "ModifiedResNet", "CLIP", VOCAB},
    {"RN50x64", "openai", OAI "be1cfb55d75a9666199fb2206c106743da0f6468c9d327f3e0d0a543a9919d9c/RN50x64.pt", "ModifiedResNet", "CLIP", VOCAB},
    {"ViT-B-32", "openai", OAI "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt", "ViT", "CLIP", VOCAB},
    {"ViT-B-32", "laion400m_e31", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/vit_b_32-quickgelu-laion400m_e31-d867053b.pt", "ViT", "CLIP (QuickGELU: --arch ViT-B-32-quickgelu)", VOCAB},
    {"ViT-B-32", "laion400m_e32", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/vit_b_32-quickgelu-laion400m_e32-46683a32.pt", "ViT", "CLIP (QuickGELU: --arch ViT-B-32-quickgelu)", VOCAB},
    {"ViT-B-32", "laion2b_e16", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/vit_b_32-laion2b_e16-af8dbd0c.pth", "ViT", "CLIP", VOCAB},
    {"ViT-B-32", "laion2b_s34b_b79k", "hf: laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "ViT", "CLIP", VOCAB},
    {"ViT-B-32", "datacomp_xl_s13b_b90k", "hf: laion/CLIP-ViT-B-32-DataComp.XL-s13B-b90K", "ViT", "CLIP", VOCAB},
    {"ViT-B-16", "openai", OAI "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt", "ViT", "CLIP", VOCAB},
    {"ViT-B-16", "laion400m_e31", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/vit_b_16-laion400m_e31-00efa78f.pt", "ViT", "CLIP", VOCAB},
    {"ViT-B-16", "laion400m_e32", "https://github.com/mlfoundations/open_clip/releases/download/v0.2-weights/vit_b_16-laion400m_e32-55e67d44.pt", "ViT", "CLIP", VOCAB},
    {"ViT-B-16", "laion2b_s34b_b88k", "hf: laion/CLIP-ViT-B-16-laion2B-s34B-b88K", "ViT", "CLIP", VOCAB},
    {"ViT-B-16", "datacomp_xl_s13b_b90k", "hf: laion/CLIP-ViT-B-16-DataComp.XL-s13B-b90K", "ViT", "CLIP", VOCAB},
    {"ViT-L-14", "openai", OAI "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt", "ViT", "CLIP", VOCAB},
    {"ViT-L-14", "laion2b_s32b_b82k", "hf: laion/CLIP-ViT-L-14-laion2B-s32B-b82K (Inception mean/std)", "ViT", "CLIP", VOCAB},
    {"ViT-L-14-336", "openai", OAI "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt", "ViT", "CLIP", VOCAB},
    {"ViT-H-14", "laion2b_s32b_b79k", "hf: laion/CLIP-ViT-H-14-laion2B-s32B-b79K", "ViT", "CLIP", VOCAB},
    {"roberta-ViT-B-32", "laion2b_s12b_b32k", "hf: laion/CLIP-ViT-B-32-roberta-base-laion2B-s12B-b32k", "ViT", "RoBERTa-base (HF)",
     "vocab.json + merges.txt from hf: roberta-base (--tokenizer DIR)"},
    {"xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k", "hf: laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k", "ViT", "XLM-RoBERTa-base (HF)",
     "sentencepiece.bpe.model from hf: xlm-roberta-base (--tokenizer DIR)"},
    {"xlm-roberta-large-ViT-H-14", "frozen_laion5b_s13b_b90k", "hf: laion/CLIP-ViT-H-14-frozen-xlm-roberta-large-laion5B-s13B-b90k", "ViT", "XLM-RoBERTa-large (HF)",
     "sentencepiece.bpe.model from hf: xlm-roberta-large (--tokenizer DIR)"},
};

static int describe(const char *path) {
    coop_model *m = coop_model_load(path);
    if (!m) { fprintf(stderr, "models: %s\n", coop_last_error()); return 1; }
    const coop_config *c = coop_model_config(m);
    static const char *vis[] = {"none", "ViT", "ModifiedResNet"}, *txt[] = {"none", "CLIP", "HF"};
    printf("%s: %s / %s, embed %d\n", path, c->model_name, c->pretrained, c->embed_dim);
    printf("  image: %s, %d px, width %d, layers %d, heads %d\n", vis[c->vision], c->image_size, c->vision_width, c->vision_layers, c->vision_heads);
    printf("  text:  %s, context %d, vocab %d, width %d, layers %d, heads %d\n", txt[c->text], c->context_length, c->vocab_size, c->text_width,
           c->text_layers, c->text_heads);
    printf("  tensors: %d\n", coop_model_tensor_count(m));
    coop_model_free(m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 2 && !strcmp(argv[1], "-m")) return describe(argv[2]);
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fprintf(stderr, "usage: models [NAME] | models -m FILE.coop\n");
        return 2;
    }
    const char *filter = argc > 1 ? argv[1] : NULL;
    int shown = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const entry *e = &table[i];
        if (filter && !strstr(e->model, filter)) continue;
        printf("%-27s %-26s image %-15s text %s\n", e->model, e->tag, e->image, e->text);
        if (!strncmp(e->source, "hf: ", 4))
            printf("    download: https://huggingface.co/%s  (open_clip_pytorch_model.bin or open_clip_model.safetensors, open_clip_config.json)\n", e->source + 4);
        else
            printf("    download: %s\n", e->source);
        printf("    tokenizer: %s\n", e->tok);
        printf("    convert:  build/convert CHECKPOINT -o weights/%s-%s.coop%s%s\n", e->model, e->tag,
               strncmp(e->source, "hf: ", 4) ? " --arch " : " --config open_clip_config.json", strncmp(e->source, "hf: ", 4) ? e->model : "");
        shown++;
    }
    if (!shown) { fprintf(stderr, "models: no model matches '%s'\n", filter); return 1; }
    printf("\nCoOp trains on any model above with a text tower; the report's backbones are RN50, RN101, ViT-B-32, ViT-B-16\n"
           "(openai and laion tags), roberta-ViT-B-32 and xlm-roberta-base-ViT-B-32.\n");
    return 0;
}
