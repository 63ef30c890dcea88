/* coop.h -- development shim: includes the parts in src/ in order.
   At the end of the work this file is replaced by the amalgamated single header. */
#ifndef COOP_H
#define COOP_H
#include "src/00_api.h"
#endif
#ifdef COOP_IMPLEMENTATION
#ifndef COOP_IMPLEMENTED
#define COOP_IMPLEMENTED
/* development switches: which parts are complete */
#define COOP__HAVE_VIT 1
#define COOP__HAVE_RESNET 1
#define COOP__HAVE_CLIPTEXT 1
#define COOP__HAVE_HFTEXT 1
#define COOP__HAVE_TOKCLIP 1
#define COOP__HAVE_TOKHF 1
#include "src/10_base.h"
#include "src/12_pool.h"
#include "src/14_gemm.h"
#include "src/20_model.h"
#include "src/30_layers.h"
#include "src/40_vit.h"
#include "src/42_text.h"
#include "src/44_resnet.h"
#include "src/46_hftext.h"
#include "src/50_tok_clip.h"
#include "src/52_tok_hf.h"
#include "src/58_encode.h"
#include "src/60_image.h"
#include "src/70_coop.h"
#endif
#endif
