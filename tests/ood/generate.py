#!/usr/bin/python3
"""Generates the out-of-distribution test sets (none of it from MNIST or any existing
handwriting data set) and prints the directory that holds them.

    generate.py [--seed S] [--count N] [--nondigit N] [--things N] [--sets a,b] [--out DIR]

Each set is a directory DIR/<set>/ of PNG/JPEG files and labels.csv ("file,label";
the label of nondigit's and things' pictures is "none"). Without --out the sets go to a cache,
$XDG_CACHE_HOME/mnist-service/ood/<hash> (default ~/.cache), where the hash covers the
generator's code, the installed fonts (and photographs, for things) and the options: a
second run with the same inputs prints the same directory at once. The same seed gives
the same images. Needs Debian's /usr/bin/python3 (python3-pil), the fonts of
./bootstrap --test and, for things, apt-get download (ood_things.py).
"""
import argparse
import hashlib
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ood_fonts  # noqa: E402
import ood_lowres  # noqa: E402
import ood_nondigit  # noqa: E402
import ood_photos  # noqa: E402
import ood_strokes  # noqa: E402
import ood_things  # noqa: E402

DIGIT_SETS = {"fonts": ood_fonts.make, "strokes": ood_strokes.make,
              "photos": ood_photos.make, "lowres": ood_lowres.make,
              "lowres8": ood_lowres.make_classic, "smooth8": ood_lowres.make_smooth,
              "photo8": ood_photos.make_classic}
NO_DIGIT_SETS = ("nondigit", "things")
ALL_SETS = list(DIGIT_SETS) + list(NO_DIGIT_SETS)
# the code the images depend on (not the evaluator's)
GENERATOR_FILES = ("generate.py", "ood_paper.py", "ood_fonts.py", "ood_strokes.py",
                   "ood_photos.py", "ood_lowres.py", "ood_nondigit.py", "ood_things.py")


def generator_hash(args, sources):
    """What the images depend on: this code, the font files and photographs, the
    options."""
    h = hashlib.sha256()
    for name in GENERATOR_FILES:
        h.update(open(os.path.join(HERE, name), "rb").read())
    for path in sources:
        h.update(path.encode() + str(os.path.getsize(path)).encode())
    h.update(f"{args.seed} {args.count} {args.nondigit} {args.things} {args.sets}".encode())
    return h.hexdigest()[:16]


def write_set(name, count, seed, fonts, photos, out):
    """COUNT images of set NAME into OUT/NAME (through a temporary directory)."""
    tmp = os.path.join(out, f".{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    rows = []
    for i in range(count):
        # one generator per image: an image does not depend on the ones before it
        rng = random.Random(f"{name}/{seed}/{i}")
        if name == "nondigit":
            body, ext = ood_nondigit.make(rng, i, fonts)
            label = "none"
        elif name == "things":
            body, ext = ood_things.make(rng, i, photos)
            label = "none"
        else:
            label = i % 10
            body, ext = DIGIT_SETS[name](rng, label, fonts)
        file = f"{name}-{i:05d}.{ext}"
        with open(os.path.join(tmp, file), "wb") as f:
            f.write(body)
        rows.append(f"{file},{label}\n")
    with open(os.path.join(tmp, "labels.csv"), "w") as f:
        f.write("file,label\n" + "".join(rows))
    final = os.path.join(out, name)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1000, help="images per digit set")
    ap.add_argument("--nondigit", type=int, default=300, help="images in the nondigit set")
    ap.add_argument("--things", type=int, default=200, help="images in the things set")
    ap.add_argument("--sets", default=",".join(ALL_SETS))
    ap.add_argument("--out", help="directory (default: the cache)")
    args = ap.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in ALL_SETS]
    if unknown:
        ap.error(f"unknown sets {unknown}; known: {ALL_SETS}")
    fonts = ood_fonts.all_fonts()
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                         "mnist-service")
    photos = ood_things.photo_files(cache) if "things" in sets else []
    out = args.out
    if not out:
        sources = fonts[0] + fonts[1] + photos
        out = os.path.join(cache, "ood", generator_hash(args, sources))
    os.makedirs(out, exist_ok=True)
    for name in sets:
        if not os.path.exists(os.path.join(out, name, "labels.csv")) or args.out:
            n = {"nondigit": args.nondigit, "things": args.things}.get(name, args.count)
            print(f"ood: generating {n} images of '{name}' in {out}", file=sys.stderr)
            write_set(name, n, args.seed, fonts, photos, out)
    print(out)


if __name__ == "__main__":
    main()
