"""facebookresearch/dinov2's hub backbones for the benchmarks' PyTorch sides (bench/embed, bench/train),
from a checkout given by the user (never committed)."""
import sys

import torch.nn.functional as F


def dinov2_backbone(arch, checkout):
    """facebookresearch/dinov2's hub model from a checkout (random init): its forward is the class token
    after the final norm. torch 1.13 lacks scaled_dot_product_attention, which its Attention calls: it gets
    the plain formula (as tools/golden/vit.py does)."""
    if not hasattr(F, "scaled_dot_product_attention"):
        def plain_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
            scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
            if attn_mask is not None:
                scores = scores + attn_mask
            return scores.softmax(-1) @ v

        F.scaled_dot_product_attention = plain_sdpa
    if checkout not in sys.path:
        sys.path.insert(0, checkout)
    from dinov2.hub import backbones

    model = getattr(backbones, arch)(pretrained=False)
    return model, model.embed_dim
