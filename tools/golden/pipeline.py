"""Golden fixtures for the image pipeline (src/data/image): small test images in several formats and
what PIL + torchvision make of them.

Run with Debian's /usr/bin/python3 (PIL 9.4, torchvision 0.14):  /usr/bin/python3 tools/golden/pipeline.py

Writes test/fixtures/golden/pipeline/:
  <name>.<ext>                 the inputs (JPEG, PNG with alpha, palette PNG, grayscale, CMYK JPEG, WebP,
                               a small PNG that is upsampled, a larger JPEG), plus a truncated JPEG and
                               a text file named .jpg for the error paths
  <name>.eval.png              torchvision's eval transform output as uint8 (pil_loader's convert('RGB'),
                               Resize((256, 256)), CenterCrop(224)), i.e. ToTensor() * 255 exactly
  photo.train.png              F.crop(top=5, left=30, 224, 224) + F.hflip of the resized photo.jpg
  <name>.gray.png              the same eval transform on convert('L') images (1-channel pipeline),
                               for the names in GRAY_TOO
and test/fixtures/golden/pipeline.json with per-channel mean/std of the normalised tensors (ToTensor +
Normalize with ImageNet statistics) and a few exact normalised values.
"""
import json
import os

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

from common import GOLDEN

OUT = os.path.join(GOLDEN, "pipeline")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
GRAY_TOO = ("photo.jpg", "gray.jpg", "alpha.png", "cmyk.jpg")
TRAIN_CROP = {"top": 5, "left": 30, "flip": True}


def photo(w, h, seed, noise=2.0):
    """A smooth synthetic 'photo': gradients, a few hard-edged shapes, thin stripes, mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack(
        [128 + 100 * np.sin(x / 23.0 + y / 41.0), 128 + 90 * np.cos(x / 17.0 - y / 13.0), x * 255.0 / w], -1
    )
    img[h // 4 : h // 2, w // 5 : w // 2] = [250, 20, 30]
    img[(2 * h) // 3 : (5 * h) // 6, (3 * w) // 5 : (4 * w) // 5] = [10, 200, 240]
    img[:, (np.arange(w) % 7) == 0] *= 0.7
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_inputs():
    os.makedirs(OUT, exist_ok=True)
    files = {}

    def save(name, im, **kw):
        path = os.path.join(OUT, name)
        im.save(path, **kw)
        files[name] = path

    save("photo.jpg", Image.fromarray(photo(400, 300, 1)), quality=85)
    save("large.jpg", Image.fromarray(photo(720, 540, 2)), quality=80)
    rgba = np.concatenate([photo(200, 150, 3), np.linspace(0, 255, 200 * 150).reshape(150, 200, 1)], -1)
    save("alpha.png", Image.fromarray(rgba.astype(np.uint8), "RGBA"))
    save("gray.jpg", Image.fromarray(photo(180, 240, 4)).convert("L"), quality=85)
    save("cmyk.jpg", Image.fromarray(photo(300, 220, 5)).convert("CMYK"), quality=85)
    save("photo.webp", Image.fromarray(photo(320, 240, 6)), quality=80)
    save("small.png", Image.fromarray(photo(60, 45, 7)))
    pal = Image.fromarray(photo(150, 100, 8)).quantize(32)
    pal.info["transparency"] = 0
    save("palette.png", pal, transparency=0)
    with open(files["photo.jpg"], "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.jpg"), "wb") as f:
        f.write(data[: len(data) // 3])
    with open(os.path.join(OUT, "not-an-image.jpg"), "w") as f:
        f.write("this is not an image\n")
    return files


def pil_loader(path, mode="RGB"):
    with open(path, "rb") as f:
        return Image.open(f).convert(mode)


def save_png(array, name):
    Image.fromarray(array).save(os.path.join(OUT, name), optimize=True)


def main():
    files = make_inputs()
    eval_tf = T.Compose([T.Resize((256, 256)), T.CenterCrop(224)])
    to_norm = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    extra = {"mean": MEAN, "std": STD, "train_crop": TRAIN_CROP, "images": {}}
    probes = [(0, 0), (17, 200), (111, 5), (223, 223)]
    for name, path in sorted(files.items()):
        stem = name
        rgb = eval_tf(pil_loader(path))
        arr = np.asarray(rgb)
        assert arr.shape == (224, 224, 3)
        save_png(arr, f"{stem}.eval.png")
        norm = to_norm(rgb)
        if stem in GRAY_TOO:
            save_png(np.asarray(eval_tf(pil_loader(path, "L"))), f"{stem}.gray.png")
        with Image.open(path) as im:
            src_mode, src_size = im.mode, list(im.size)
        extra["images"][stem] = {
            "mode": src_mode,
            "size": src_size,
            "channel_mean": norm.double().mean(dim=(1, 2)).tolist(),
            "channel_std": norm.double().std(dim=(1, 2), unbiased=False).tolist(),
            "probes": [{"y": y, "x": x, "values": norm[:, y, x].tolist()} for y, x in probes],
        }
    resized = F.resize(pil_loader(files["photo.jpg"]), [256, 256])
    train = F.crop(resized, TRAIN_CROP["top"], TRAIN_CROP["left"], 224, 224)
    if TRAIN_CROP["flip"]:
        train = F.hflip(train)
    save_png(np.asarray(train), "photo.train.png")
    with open(os.path.join(GOLDEN, "pipeline.json"), "w") as f:
        json.dump({"tensors": {}, "extra": extra}, f, indent=1)
    print(f"torch {torch.__version__}, wrote {len(files)} inputs and their transforms to {OUT}")


if __name__ == "__main__":
    main()
