"""Golden values for the vision transformers (test/nn/vit-*.test.ts), from each publisher's own model code.

Run with Debian's Python (it has torch 1.13 and torchvision 0.14), pointing at checkouts of the publishers'
repositories (fetched, never committed):
  /usr/bin/python3 tools/golden/vit.py --dino DIR --dinov2 DIR --clip DIR
      DIR: facebookresearch/dino, facebookresearch/dinov2 and openai/CLIP checkouts.

Writes test/fixtures/golden/vit/:
  attention.safetensors    torch.nn.MultiheadAttention (batch first) and DINO's Attention with perturbed
                           weights: outputs for batch 1 and 3, odd token counts, no mask, a bool and a float
                           attn_mask, and a key_padding_mask
  torchvision.safetensors  a tiny torchvision VisionTransformer (32 px, patch 8, 2 layers, 4 heads, width 32):
                           weights (torchvision >= 0.14 keys), inputs, features (class token after
                           encoder.ln), logits, the paper's embedding, and gradients of three parameters
  torchvision_legacy.pth   the same weights with the mlp.linear_1 / linear_2 keys of the published
                           vit_b_16-c867db91.pth (torch.save)
  dino.safetensors         a tiny DINO ViT (32 px, patch 8): features at 32 x 32 and, position embeddings
                           interpolated, at 48 x 40
  dinov2.safetensors       a tiny DINOv2 ViT with the hub's settings (LayerScale 1.0, offset 0.1, no
                           antialias) built for 56 px, patch 14: features at 56 x 56, at 42 x 70 (with
                           gradients) and at 28 x 28
  dinov2_reg.safetensors   the same with 4 registers (the hub's _reg settings: offset 0, antialiased)
  clip.safetensors         a tiny CLIP image tower (32 px, patch 8, width 32, output 24): features
  clip_tiny.pt             a tiny whole CLIP, traced and saved with torch.jit (as OpenAI's .pt files), its
                           weights in float16 as OpenAI's; clip.safetensors holds its image features
  real_keys.json           the state-dict keys and shapes, in order, of every real configuration
                           (vit_b_16 ... clip_vitb16) built with random weights by the publisher's code

torch 1.13 has no scaled_dot_product_attention (DINOv2's Attention calls it): it gets the plain formula.
Every parameter is perturbed off its initial value (LayerNorm scales, biases, LayerScale, tokens), and the
script checks that the images, not the initialisation, decide the outputs (distinct images give distinct
features).
"""
import argparse
import importlib.util
import json
import math
import os
import sys
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import GOLDEN, save_safetensors

OUT = os.path.join(GOLDEN, "vit")


def plain_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
    assert attn_mask is None and not is_causal and dropout_p == 0
    return ((q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)).softmax(-1) @ v


def perturb(model, gen):
    """Moves every parameter off its init: scales around 1, the rest by noise on their own scale."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            last = name.split(".")[-1]
            if last in ("gamma",):
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
            elif p.dim() == 1 and last == "weight":  # LayerNorm scales
                p.copy_(1 + 0.2 * noise)
            elif last in ("bias", "in_proj_bias"):
                p.copy_(0.1 * noise)
            elif name.split(".")[-1] in ("cls_token", "class_token", "class_embedding", "register_tokens", "mask_token"):
                p.copy_(0.3 * noise)
            elif last in ("pos_embed", "pos_embedding", "positional_embedding"):
                p.copy_(0.3 * noise)
            elif p.dim() >= 2:
                # On the scale of 1 / sqrt(fan_in), so that every layer's output depends on its input
                # (timm's 0.02 init leaves tiny blocks nearly the identity).
                # CLIP's proj and text_projection are used as x @ p: their fan-in is the row count.
                fan_in = p.shape[0] if last in ("proj", "text_projection") else p[0].numel()
                p.add_(noise / math.sqrt(fan_in))
            else:
                p.add_(0.1 * noise)


def check_image_decides(features, what):
    """Distinct images must give clearly distinct features: |f1 - f2| at least a fifth of |f1|."""
    f = features.flatten(1)
    if f.shape[0] < 2:
        return
    rel = float((f[0] - f[1]).norm() / f[0].norm())
    assert rel > 0.2, f"{what}: features of distinct images are too alike (relative distance {rel:.3f})"
    print(f"  {what}: relative distance between the features of two images {rel:.3f}")


def embedding(features):
    """The paper's head on bare features: LayerNorm without affine, then L2."""
    return F.normalize(F.layer_norm(features, (features.shape[1],), eps=1e-5), dim=1)


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grads_of(model, loss, names):
    model.zero_grad()
    loss.backward()
    params = dict(model.named_parameters())
    return {f"grad.{n}": params[n].grad.clone() for n in names}


def weights_of(model, prefix="weights."):
    return {prefix + k: v.clone() for k, v in model.state_dict().items()}


# ---- attention ----
def attention(dino):
    gen = torch.Generator().manual_seed(1)
    out = {}
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    perturb(mha, gen)
    mha.eval()
    out.update(weights_of(mha, "mha_weights."))
    x1 = torch.randn(1, 7, 16, generator=gen)
    x3 = torch.randn(3, 5, 16, generator=gen)
    bool_mask = torch.rand(5, 5, generator=gen) > 0.6
    bool_mask.fill_diagonal_(False)
    float_mask = torch.randn(5, 5, generator=gen)
    padding = torch.tensor([[False, False, True, False, True], [False] * 5, [True, False, False, False, False]])
    with torch.no_grad():
        out["x1"], out["x3"] = x1, x3
        out["bool_mask"], out["float_mask"], out["key_padding_mask"] = bool_mask, float_mask, padding
        out["mha.none.x1"] = mha(x1, x1, x1, need_weights=False)[0]
        out["mha.none.x3"] = mha(x3, x3, x3, need_weights=False)[0]
        out["mha.bool.x3"] = mha(x3, x3, x3, need_weights=False, attn_mask=bool_mask)[0]
        out["mha.float.x3"] = mha(x3, x3, x3, need_weights=False, attn_mask=float_mask)[0]
        out["mha.padding.x3"] = mha(x3, x3, x3, need_weights=False, key_padding_mask=padding)[0]
    qkv = dino.Attention(16, num_heads=4, qkv_bias=True)
    perturb(qkv, gen)
    qkv.eval()
    out.update(weights_of(qkv, "qkv_weights."))
    x9 = torch.randn(2, 9, 16, generator=gen)
    with torch.no_grad():
        out["x9"] = x9
        out["qkv.x1"] = qkv(x1)[0]
        out["qkv.x9"] = qkv(x9)[0]
    save_safetensors(os.path.join(OUT, "attention.safetensors"), out)


# ---- torchvision ----
def torchvision_vit():
    from torchvision.models.vision_transformer import VisionTransformer

    torch.manual_seed(2)
    gen = torch.Generator().manual_seed(2)
    model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64, num_classes=10)
    perturb(model, gen)
    model.eval()
    x = torch.randn(2, 3, 32, 32, generator=gen)
    x1 = torch.randn(1, 3, 32, 32, generator=gen)
    gout = torch.randn(2, 32, generator=gen)
    out = weights_of(model)

    def features(inp):
        h = model._process_input(inp)
        h = torch.cat([model.class_token.expand(inp.shape[0], -1, -1), h], dim=1)
        return model.encoder(h)[:, 0]

    f = features(x)
    check_image_decides(f, "torchvision")
    names = ["encoder.pos_embedding", "conv_proj.weight", "encoder.layers.encoder_layer_0.self_attention.in_proj_weight"]
    out.update(grads_of(model, (f * gout).sum(), names))
    with torch.no_grad():
        out.update({"input": x, "input1": x1, "gout": gout, "features": features(x), "features1": features(x1)})
        out["logits"] = model(x)
        out["embedding"] = embedding(out["features"])
    save_safetensors(os.path.join(OUT, "torchvision.safetensors"), out)
    legacy = {}
    for k, v in model.state_dict().items():
        k = k.replace(".mlp.0.", ".mlp.linear_1.").replace(".mlp.3.", ".mlp.linear_2.")
        legacy[k] = v.clone()
    torch.save(legacy, os.path.join(OUT, "torchvision_legacy.pth"))


# ---- DINO ----
def dino_vit(dino):
    torch.manual_seed(3)
    gen = torch.Generator().manual_seed(3)
    model = dino.VisionTransformer(
        img_size=[32], patch_size=8, embed_dim=32, depth=2, num_heads=4, mlp_ratio=4, qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
    )
    perturb(model, gen)
    model.eval()
    x = torch.randn(2, 3, 32, 32, generator=gen)
    x_interp = torch.randn(1, 3, 48, 40, generator=gen)
    out = weights_of(model)
    with torch.no_grad():
        out.update({"input": x, "input_interp": x_interp, "features": model(x), "features_interp": model(x_interp)})
    check_image_decides(out["features"], "dino")
    save_safetensors(os.path.join(OUT, "dino.safetensors"), out)


# ---- DINOv2 ----
def dinov2_vit(vits, registers):
    seed = 5 if registers else 4
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    # The hub's settings (dinov2/hub/backbones.py) at a tiny size.
    settings = dict(interpolate_antialias=True, interpolate_offset=0.0) if registers else dict(
        interpolate_antialias=False, interpolate_offset=0.1)
    model = vits.DinoVisionTransformer(
        img_size=56, patch_size=14, embed_dim=32, depth=2, num_heads=4, mlp_ratio=4, init_values=1.0,
        ffn_layer="mlp", block_chunks=0, num_register_tokens=4 if registers else 0,
        block_fn=partial(vits.Block, attn_class=vits.MemEffAttention), **settings,
    )
    perturb(model, gen)
    model.eval()
    x = torch.randn(2, 3, 56, 56, generator=gen)
    x_interp = torch.randn(1, 3, 42, 70, generator=gen)
    x_small = torch.randn(1, 3, 28, 28, generator=gen)
    gout = torch.randn(1, 32, generator=gen)
    out = weights_of(model)
    f_interp = model(x_interp)
    names = ["pos_embed", "cls_token", "blocks.1.ls2.gamma", "patch_embed.proj.weight"]
    if registers:
        names.append("register_tokens")
    out.update(grads_of(model, (f_interp * gout).sum(), names))
    with torch.no_grad():
        out.update({"input": x, "input_interp": x_interp, "input_small": x_small, "gout": gout})
        out["features"] = model(x)
        out["features_interp"] = model(x_interp)
        out["features_small"] = model(x_small)
        out["patch_tokens"] = model.forward_features(x)["x_norm_patchtokens"]
    check_image_decides(out["features"], "dinov2_reg" if registers else "dinov2")
    name = "dinov2_reg.safetensors" if registers else "dinov2.safetensors"
    save_safetensors(os.path.join(OUT, name), out)


# ---- CLIP ----
def clip_vit(clip_model):
    torch.manual_seed(6)
    gen = torch.Generator().manual_seed(6)
    # The image tower alone, with 4 heads (the CLIP class gives width / 64 heads).
    visual = clip_model.VisionTransformer(input_resolution=32, patch_size=8, width=32, layers=2, heads=4, output_dim=24)
    perturb(visual, gen)
    visual.eval()
    x = torch.randn(2, 3, 32, 32, generator=gen)
    x1 = torch.randn(1, 3, 32, 32, generator=gen)
    out = weights_of(visual)
    with torch.no_grad():
        out.update({"input": x, "input1": x1, "features": visual(x), "features1": visual(x1)})
        out["embedding"] = embedding(out["features"])
    check_image_decides(out["features"], "clip")

    # A whole CLIP as OpenAI ships it: traced, saved by torch.jit, float16 weights.
    model = clip_model.CLIP(
        embed_dim=24, image_resolution=32, vision_layers=2, vision_width=64, vision_patch_size=16,
        context_length=8, vocab_size=50, transformer_width=32, transformer_heads=4, transformer_layers=1,
    )
    perturb(model, gen)
    model.eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())  # the values the float16 file holds
        out["jit.features"] = model.encode_image(x)
    check_image_decides(out["jit.features"], "clip (jit)")
    traced = torch.jit.trace(model, (x, torch.randint(0, 50, (2, 8), generator=gen)))
    traced.half()
    torch.jit.save(traced, os.path.join(OUT, "clip_tiny.pt"))
    save_safetensors(os.path.join(OUT, "clip.safetensors"), out)


# ---- the real configurations' keys ----
def real_keys(dino, vits, dinov2_hub, clip_model):
    import torchvision.models as tvm

    layouts = {}

    def record(name, model, prefix=""):
        layouts[name] = [[k, list(v.shape)] for k, v in model.state_dict().items() if k.startswith(prefix)]
        print(f"  {name}: {len(layouts[name])} keys")

    record("vit_b_16", tvm.vit_b_16())
    record("vit_l_16", tvm.vit_l_16())
    record("dino_vits16", dino.vit_small(patch_size=16))
    record("dino_vitb16", dino.vit_base(patch_size=16))
    for arch in ["vits14", "vitb14", "vitl14"]:
        for suffix in ["", "_reg"]:
            record(f"dinov2_{arch}{suffix}", getattr(dinov2_hub, f"dinov2_{arch}{suffix}")(pretrained=False))
    text = dict(context_length=77, vocab_size=49408, transformer_width=512, transformer_heads=8, transformer_layers=12)
    for name, patch in [("clip_vitb32", 32), ("clip_vitb16", 16)]:
        model = clip_model.CLIP(
            embed_dim=512, image_resolution=224, vision_layers=12, vision_width=768, vision_patch_size=patch, **text)
        record(name, model)
    with open(os.path.join(OUT, "real_keys.json"), "w") as f:
        json.dump(layouts, f, separators=(",", ":"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dino", required=True, help="a facebookresearch/dino checkout")
    parser.add_argument("--dinov2", required=True, help="a facebookresearch/dinov2 checkout")
    parser.add_argument("--clip", required=True, help="an openai/CLIP checkout")
    parser.add_argument("--skip-real-keys", action="store_true")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    os.environ.setdefault("XFORMERS_DISABLED", "1")
    F.scaled_dot_product_attention = plain_sdpa
    sys.path.insert(0, args.dino)
    sys.path.insert(0, args.dinov2)
    dino = load_module("dino_vision_transformer", os.path.join(args.dino, "vision_transformer.py"))
    from dinov2.models import vision_transformer as vits
    from dinov2.hub import backbones as dinov2_hub
    clip_model = load_module("clip_model", os.path.join(args.clip, "clip", "model.py"))
    print("attention"); attention(dino)
    print("torchvision"); torchvision_vit()
    print("dino"); dino_vit(dino)
    print("dinov2"); dinov2_vit(vits, registers=False)
    print("dinov2_reg"); dinov2_vit(vits, registers=True)
    print("clip"); clip_vit(clip_model)
    if not args.skip_real_keys:
        print("real configurations"); real_keys(dino, vits, dinov2_hub, clip_model)


if __name__ == "__main__":
    main()
