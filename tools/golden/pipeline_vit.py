"""Golden fixtures for the ViTs' preprocessing (test/data/image-vit-parity.test.ts): Pillow's BICUBIC resize
and each publisher's eval transform.

Run with Debian's /usr/bin/python3 (Pillow 9.4, torchvision 0.14), given the publishers' checkouts (fetched,
never committed; their transform code is run, not copied):
  /usr/bin/python3 tools/golden/pipeline_vit.py --dinov2 DIR --clip DIR

Writes test/fixtures/golden/pipeline-vit/:
  bicubic.safetensors   random 8-bit images (RGB and L; sizes that shrink by up to 20x, enlarge, and keep one
                        side) and Image.resize(size, BICUBIC) of each: "in.<i>", "out.<i>"
  portrait.png, landscape.png, square.png
                        lossless synthetic photos whose shorter side is the height, the width, or both
  <image>.<family>.png  the family's eval transform up to its centre crop (a 224 x 224 RGB PNG: ToTensor()
                        * 255 exactly) on each of those and on ../pipeline/small.png (enlarged):
                          vit_b_16   torchvision's ViT_B_16_Weights.IMAGENET1K_V1.transforms() (Resize(256)
                                     bilinear, CenterCrop(224))
                          vit_l_16   ViT_L_16_Weights.IMAGENET1K_V1.transforms() (Resize(242))
                          dinov2     dinov2.data.transforms.make_classification_eval_transform() (Resize(256)
                                     bicubic, CenterCrop(224); DINO's eval_knn.py uses the same)
                          clip       openai/CLIP's clip._transform(224) (Resize(224) bicubic, CenterCrop(224)),
                                     its function bodies taken from clip/clip.py and run here (importing
                                     clip.py needs packages Debian lacks)
and ../pipeline-vit.json: per (image, family) the normalised tensor's channel means and a few exact values,
so that each family's mean and std are checked too.
"""
import argparse
import ast
import importlib.util
import json
import os
import sys

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

from common import GOLDEN, save_safetensors
from pipeline import photo

OUT = os.path.join(GOLDEN, "pipeline-vit")
PROBES = [(0, 0), (17, 200), (111, 5), (223, 223), (100, 150)]


def bicubic_cases():
    rng = np.random.default_rng(11)
    cases = [  # (width, height, channels, out width, out height)
        (57, 31, 3, 20, 13),
        (57, 31, 3, 128, 90),
        (150, 100, 3, 7, 5),
        (16, 64, 1, 33, 9),
        (5, 3, 3, 64, 48),
        (40, 30, 3, 40, 17),
        (97, 61, 1, 61, 97),
    ]
    out = {}
    for i, (w, h, c, ow, oh) in enumerate(cases):
        arr = rng.integers(0, 256, (h, w, c) if c == 3 else (h, w), dtype=np.uint8)
        # Smooth regions too, where the cubic's overshoot would clip.
        arr[: h // 2] = np.clip(arr[: h // 2].astype(int) // 64 * 85, 0, 255).astype(np.uint8)
        im = Image.fromarray(arr, "RGB" if c == 3 else "L")
        res = np.asarray(im.resize((ow, oh), Image.BICUBIC))
        out[f"in.{i}"] = torch.from_numpy(arr.copy())
        out[f"out.{i}"] = torch.from_numpy(res.copy())
    save_safetensors(os.path.join(OUT, "bicubic.safetensors"), out)


def clip_transform(clip_dir):
    """clip._transform and _convert_image_to_rgb from clip/clip.py, run as they are written."""
    source = open(os.path.join(clip_dir, "clip", "clip.py")).read()
    tree = ast.parse(source)
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("_transform", "_convert_image_to_rgb")]
    assert len(wanted) == 2, "clip.py no longer defines _transform and _convert_image_to_rgb"
    namespace = {"Compose": T.Compose, "Resize": T.Resize, "CenterCrop": T.CenterCrop, "ToTensor": T.ToTensor,
                 "Normalize": T.Normalize, "BICUBIC": T.InterpolationMode.BICUBIC}
    exec(compile(ast.Module(body=wanted, type_ignores=[]), "clip.py", "exec"), namespace)
    return namespace["_transform"](224)


def dinov2_transform(dinov2_dir):
    path = os.path.join(dinov2_dir, "dinov2", "data", "transforms.py")
    spec = importlib.util.spec_from_file_location("dinov2_transforms", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_classification_eval_transform()


def split(transform):
    """A Compose up to its CenterCrop (PIL in, PIL out) and the rest (to the normalised tensor)."""
    steps = transform.transforms
    cut = next(i for i, t in enumerate(steps) if isinstance(t, T.CenterCrop)) + 1
    return T.Compose(steps[:cut]), T.Compose(steps[cut:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dinov2", required=True)
    parser.add_argument("--clip", required=True)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    from torchvision.models import ViT_B_16_Weights, ViT_L_16_Weights

    bicubic_cases()
    inputs = {}
    for name, (w, h, seed) in {"portrait.png": (251, 389, 21), "landscape.png": (389, 251, 22), "square.png": (230, 230, 23)}.items():
        path = os.path.join(OUT, name)
        Image.fromarray(photo(w, h, seed, noise=0.3)).save(path, optimize=True)
        inputs[name] = path
    inputs["small.png"] = os.path.join(GOLDEN, "pipeline", "small.png")
    families = {
        # torchvision's ImageClassification works on tensors; it takes PIL images too (F.resize -> Pillow).
        "vit_b_16": ViT_B_16_Weights.IMAGENET1K_V1.transforms(),
        "vit_l_16": ViT_L_16_Weights.IMAGENET1K_V1.transforms(),
        "dinov2": dinov2_transform(args.dinov2),
        "clip": clip_transform(args.clip),
    }
    extra = {}
    for fam, transform in families.items():
        for name, path in inputs.items():
            with open(path, "rb") as f:
                image = Image.open(f).convert("RGB")
            if fam.startswith("vit_"):
                # ImageClassification: resize, crop, then pil_to_tensor, convert_image_dtype, normalize.
                from torchvision.transforms import functional as F

                crop = F.center_crop(F.resize(image, transform.resize_size, interpolation=transform.interpolation), transform.crop_size)
                norm = transform(image)
            else:
                head, tail = split(transform)
                crop = head(image)
                norm = tail(crop)
            arr = np.asarray(crop)
            assert arr.shape == (224, 224, 3), (fam, name, arr.shape)
            Image.fromarray(arr).save(os.path.join(OUT, f"{name}.{fam}.png"), optimize=True)
            extra[f"{name}.{fam}"] = {
                "channel_mean": norm.double().mean(dim=(1, 2)).tolist(),
                "probes": [{"y": y, "x": x, "values": norm[:, y, x].tolist()} for y, x in PROBES],
            }
    with open(os.path.join(GOLDEN, "pipeline-vit.json"), "w") as f:
        json.dump({"tensors": {}, "extra": extra}, f, indent=1)
    print(f"wrote {len(extra)} transforms and the bicubic cases to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
