"""Tiny datasets in the exact layouts of the public archives, for the format, check and download tests.

Run with Debian's python (it has PIL, numpy and scipy):  /usr/bin/python3 tools/make-fixtures.py
Writes test/fixtures/datasets/<layout>/ (each folder is replaced) and test/fixtures/datasets/expected.json, the
counts and label facts the tests assert. Images are small real JPEG/PNG/WebP files.
"""
import json
import os
import shutil

import numpy as np
import scipy.io
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "datasets")
EXPECTED = {}


def fresh(name):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def image(path, seed, size=(20, 15)):
    """A small picture whose colour depends on `seed`, saved in the format the extension names."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=3)
    pixels = np.clip(base + rng.normal(0, 25, size=(size[1], size[0], 3)), 0, 255).astype(np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ext = os.path.splitext(path)[1].lower()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}[ext]
    Image.fromarray(pixels).save(path, fmt, **({"quality": 50} if fmt == "JPEG" else {}))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(text)


def cub():
    base = os.path.join(fresh("cub"), "CUB_200_2011")
    # Listed out of id order so that "first seen" differs from sorting: train labels 3->0, 1->1, 2->2, 100->3.
    classes = [3, 1, 2, 100, 150, 101, 200, 102]
    per_class = {3: 4, 1: 4, 2: 3, 100: 4, 150: 4, 101: 3, 200: 4, 102: 4}
    names = {c: f"{c:03d}.Bird_{c}" for c in classes}
    images, labels, split = [], [], []
    for c in classes:
        for k in range(per_class[c]):
            rel = f"{names[c]}/Bird_{c}_{k:04d}_{100 + k}.jpg"
            image(os.path.join(base, "images", rel), seed=c * 100 + k, size=(32, 24))
            images.append(rel)
            labels.append(c)
            split.append(k % 2)
    write(os.path.join(base, "images.txt"), "".join(f"{i + 1} {p}\n" for i, p in enumerate(images)))
    write(os.path.join(base, "image_class_labels.txt"), "".join(f"{i + 1} {c}\n" for i, c in enumerate(labels)))
    write(os.path.join(base, "train_test_split.txt"), "".join(f"{i + 1} {s}\n" for i, s in enumerate(split)))
    write(os.path.join(base, "classes.txt"), "".join(f"{c} {names[c]}\n" for c in sorted(classes)))
    train = [c for c in classes if c <= 100]
    test = [c for c in classes if c > 100]
    EXPECTED["cub"] = {
        "train": {"images": sum(per_class[c] for c in train), "classes": len(train)},
        "test": {"images": sum(per_class[c] for c in test), "classes": len(test)},
        "first_train": os.path.join("CUB_200_2011", "images", images[0]),
        "train_order": train,
        "test_order": test,
    }


# Cars196: every one of the 196 classes has an image (so nothing is an empty class), a few have more.
CARS_EXTRA = {1: 3, 2: 2, 98: 4, 99: 2, 100: 3, 196: 5}
CARS_ORDER = [2, 1] + list(range(3, 197))  # class 2 first: its label is 0


def cars_names():
    names = [f"Make{c} Model{c} Sedan 2012" for c in range(1, 197)]
    names[173] = "Ram C/V Cargo Van Minivan 2012"  # class 174, as in the real list: a slash in a class name
    return names


def cars_mat():
    base = fresh("cars196")
    rows = []
    for c in CARS_ORDER:
        for _ in range(CARS_EXTRA.get(c, 1)):
            n = len(rows) + 1
            rel = f"car_ims/{n:06d}.jpg"
            image(os.path.join(base, rel), seed=5000 + n, size=(16, 12))
            rows.append((rel, c, n % 3 == 0))
    dtype = [("relative_im_path", "O"), ("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"), ("bbox_y2", "O"),
             ("class", "O"), ("test", "O")]
    annotations = np.zeros((1, len(rows)), dtype=dtype)
    for i, (rel, c, is_test) in enumerate(rows):
        annotations[0, i] = (rel, np.uint16(1 + i), np.uint16(2), np.uint16(300 + i), np.uint16(200), np.uint8(c),
                             np.uint8(is_test))
    class_names = np.empty((1, 196), dtype=object)
    for i, name in enumerate(cars_names()):
        class_names[0, i] = name
    scipy.io.savemat(os.path.join(base, "cars_annos.mat"), {"annotations": annotations, "class_names": class_names},
                     do_compression=True, oned_as="row")
    EXPECTED["cars196"] = cars_counts([c for _, c, _ in rows])
    EXPECTED["cars196"]["first_train"] = rows[0][0]


def cars_counts(classes_in_order):
    train = [c for c in classes_in_order if c < 99]
    test = [c for c in classes_in_order if c >= 99]
    return {"train": {"images": len(train), "classes": len(set(train))},
            "test": {"images": len(test), "classes": len(set(test))}}


def cars_mirror():
    base = fresh("cars196-mirror")
    names = cars_names()
    write(os.path.join(base, "names.csv"), "".join(f"{n}\n" for n in names))
    rows = {"train": [], "test": []}
    order = []
    n = 0
    for c in CARS_ORDER:
        for _ in range(CARS_EXTRA.get(c, 1)):
            n += 1
            part = "train" if n % 2 else "test"
            file = f"{len(rows[part]) + 1:05d}.jpg"
            folder = names[c - 1].replace("/", "-")
            image(os.path.join(base, "car_data", "car_data", part, folder, file), seed=9000 + n, size=(16, 12))
            rows[part].append(f"{file},{3 + n},{4 + n},{100 + n},{80 + n},{c}\n")
            order.append((part, c))
    for part in ("train", "test"):
        write(os.path.join(base, f"anno_{part}.csv"), "".join(rows[part]))
    # The loader reads anno_train.csv first, then anno_test.csv.
    in_order = [c for p, c in order if p == "train"] + [c for p, c in order if p == "test"]
    EXPECTED["cars196-mirror"] = cars_counts(in_order)
    EXPECTED["cars196-mirror"]["first_classes"] = in_order[:3]


def sop():
    base = os.path.join(fresh("sop"), "Stanford_Online_Products")
    lists = {"train": [(1, 1, "bicycle", 3), (2, 1, "bicycle", 2), (3, 2, "chair", 3)],
             "test": [(11319, 1, "bicycle", 2), (11321, 2, "chair", 3), (11320, 2, "chair", 2)]}
    image_id = 0
    info = []
    for part, classes in lists.items():
        lines = ["image_id class_id super_class_id path\n"]
        for class_id, super_id, super_name, count in classes:
            for k in range(count):
                image_id += 1
                rel = f"{super_name}_final/{110000000000 + class_id}_{k}.JPG"
                image(os.path.join(base, rel), seed=20000 + image_id)
                lines.append(f"{image_id} {class_id} {super_id} {rel}\n")
                info.append(f"{image_id} {class_id} {super_id} {rel}\n")
        write(os.path.join(base, f"Ebay_{part}.txt"), "".join(lines))
    write(os.path.join(base, "Ebay_info.txt"), "image_id class_id super_class_id path\n" + "".join(info))
    EXPECTED["sop"] = {p: {"images": sum(c[3] for c in v), "classes": len(v)} for p, v in lists.items()}


def inshop():
    base = fresh("inshop")
    # (item, status of each image); items 2 and 3 appear in both query and gallery.
    items = [("id_00000001", ["train"] * 3), ("id_00000003", ["query", "gallery", "gallery"]),
             ("id_00000004", ["train", "train"]), ("id_00000002", ["gallery", "query", "query", "gallery"]),
             ("id_00000005", ["gallery"])]
    rows = []
    for item, statuses in items:
        for k, status in enumerate(statuses):
            rel = f"img/WOMEN/Dresses/{item}/{k + 1:02d}_{k + 1}_front.jpg"
            image(os.path.join(base, rel), seed=30000 + len(rows))
            rows.append(f"{rel:<60}{item:<20}{status}\n")
    write(os.path.join(base, "Eval", "list_eval_partition.txt"),
          f"{len(rows)}\nimage_name item_id evaluation_status\n" + "".join(rows))
    count = {s: sum(st.count(s) for _, st in items) for s in ("train", "query", "gallery")}
    EXPECTED["inshop"] = {
        "train": {"images": count["train"], "classes": 2},
        "query": {"images": count["query"], "classes": 2},
        "gallery": {"images": count["gallery"], "classes": 3},
    }


def folder():
    base = fresh("folder")
    # Five classes with images (code-unit order puts 'Zebra' before 'apple'), plus one empty class folder.
    classes = {"Zebra": [".jpg", ".PNG"], "apple": [".jpg", ".jpeg", ".webp"], "banana split": [".png"],
               "cherry": [".jpg", ".jpg"], "date": [".JPG", ".png"]}
    for c, exts in classes.items():
        for k, ext in enumerate(exts):
            image(os.path.join(base, c, f"img{k}{ext}"), seed=40000 + 10 * len(c) + k)
    write(os.path.join(base, "cherry", "notes.txt"), "not an image\n")
    write(os.path.join(base, "cherry", ".hidden.jpg"), "hidden\n")
    os.makedirs(os.path.join(base, "empty class"))
    write(os.path.join(base, "empty class", "README"), "no images here\n")
    write(os.path.join(OUT, "folder-split.txt"),
          "# split of the folder fixture\ntrain cherry\ntest Zebra\n\ntrain banana split\ntest apple\ntest date\n")
    order = sorted(classes)  # code-unit order: 'Zebra' < 'apple' < 'banana split' < 'cherry' < 'date'
    train = order[:3]
    EXPECTED["folder"] = {
        "train": {"images": sum(len(classes[c]) for c in train), "classes": 3},
        "test": {"images": sum(len(classes[c]) for c in order[3:]), "classes": 2},
        "order": order,
    }


def csv_format():
    base = fresh("csv")
    rows = [("images/a 1.jpg", "cat", "train"), ("images/b,1.jpg", "dog", "train"), ("images/a 2.jpg", "cat", "train"),
            ("images/c1.png", "owl", "test"), ("images/d1.png", "emu", "test"), ("images/c2.png", "owl", "test")]
    for i, (rel, _, _) in enumerate(rows):
        image(os.path.join(base, rel), seed=50000 + i)
    lines = ["label,split,path\n"] + [f'{lab},{split},"{rel}"\n' for rel, lab, split in rows]
    write(os.path.join(base, "dataset.csv"), "".join(lines))
    flags = [("", ""), ("", ""), ("", ""), ("1", "1"), ("0", "1"), ("true", "no")]
    lines = ["path,label,split,is_query,is_gallery\n"] + [
        f'"{rel}",{lab},{split},{q},{g}\n' for (rel, lab, split), (q, g) in zip(rows, flags)]
    write(os.path.join(base, "retrieval.csv"), "".join(lines))
    EXPECTED["csv"] = {"train": {"images": 3, "classes": 2}, "test": {"images": 3, "classes": 2}}
    EXPECTED["csv-retrieval"] = {"train": {"images": 3, "classes": 2}, "query": {"images": 2, "classes": 1},
                                 "gallery": {"images": 2, "classes": 2}}


def mnist_packages():
    rng = np.random.default_rng(7)
    base = fresh("mnist-package")
    counts = {}
    for k in range(10):
        n = 2 + k % 3
        data = [round(float(v), 3) for v in (rng.integers(0, 256, size=n * 784) / 255.0)]
        if k == 0:
            data[784 * 1 + 5] = 1.5  # image 1 of class 0 is out of range: skipped
        if k == 9:
            data += [0.5] * 100  # a trailing partial image: skipped
        write(os.path.join(base, "src", "digits", f"{k}.json"), json.dumps({"data": data}))
        counts[k] = n - (1 if k == 0 else 0)
    EXPECTED["mnist"] = {"per_class": counts, "first_pixels": [int(np.floor(v * 255 + 0.5)) for v in json.load(
        open(os.path.join(base, "src", "digits", "0.json")))["data"][:784]], "skipped": {"0": 1, "9": 1}}

    base = fresh("fashion-mnist-package")
    counts = {}
    for k in range(10):
        n = 1 + k % 2
        data = [[int(v) for v in rng.integers(0, 256, size=784)] for _ in range(n)]
        if k == 0:
            data.insert(0, [])  # the real package has empty entries in class 0
            data.append([1] * 783)
        if k == 5:
            data.append([300] * 784)
        write(os.path.join(base, "src", "clothes", f"{k}.json"), json.dumps({"data": data}))
        counts[k] = n
    fashion5 = json.load(open(os.path.join(base, "src", "clothes", "5.json")))["data"][0]
    EXPECTED["fashion-mnist"] = {"per_class": counts, "first_test_pixels": fashion5, "skipped": {"0": 2, "5": 1}}


def matlab_types():
    """Values of every kind the MAT reader handles, compressed and not, with their expected decoding."""
    base = fresh("matlab")
    st = np.zeros((1, 2), dtype=[("name", "O"), ("value", "O")])
    st[0, 0] = ("first", np.array([[1.5, -2.0]]))
    st[0, 1] = ("second", np.zeros((0, 0)))
    cell = np.empty((1, 3), dtype=object)
    cell[0, 0] = "a"
    cell[0, 1] = np.array([[7]], dtype=np.int32)
    cell[0, 2] = "Zoë ü"
    values = {
        "m_double": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]),
        "m_single": np.array([[0.25, -1.5]], dtype=np.float32),
        "m_int8": np.array([[-128, 127]], dtype=np.int8),
        "m_uint16": np.array([[65535, 3]], dtype=np.uint16),
        "m_int64": np.array([[-(2**40), 5]], dtype=np.int64),
        "m_logical": np.array([[True, False, True]]),
        "m_text": "relative/path.jpg",
        "m_rows": np.array(["ab", "cd"]),
        "m_cell": cell,
        "m_struct": st,
    }
    for name, compress in (("types-compressed.mat", True), ("types-plain.mat", False)):
        scipy.io.savemat(os.path.join(base, name), values, do_compression=compress, oned_as="row")
    EXPECTED["matlab"] = {
        "m_double": {"dims": [2, 3], "data": [1, 4, 2, 5, 3, 6.5], "class": "double"},
        "m_single": {"dims": [1, 2], "data": [0.25, -1.5], "class": "single"},
        "m_int8": {"dims": [1, 2], "data": [-128, 127], "class": "int8"},
        "m_uint16": {"dims": [1, 2], "data": [65535, 3], "class": "uint16"},
        "m_int64": {"dims": [1, 2], "data": [-(2**40), 5], "class": "int64"},
        "m_logical": {"dims": [1, 3], "data": [1, 0, 1], "class": "uint8", "logical": True},
        "m_text": "relative/path.jpg",
        "m_rows": ["ab", "cd"],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    cub()
    cars_mat()
    cars_mirror()
    sop()
    inshop()
    folder()
    csv_format()
    mnist_packages()
    matlab_types()
    write(os.path.join(OUT, "expected.json"), json.dumps(EXPECTED, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
