#!/usr/bin/python3
"""Checks of the OOD tools themselves, as "ok<TAB>WHAT" / "not ok<TAB>WHAT" lines
(tests/integration/ood.sh counts them): the calibration arithmetic on answers whose
figures are known by hand, that the generator gives the same images for the same
seed and others for another seed, and that mnist_classic.py makes the classic 8x8
format.

    selftest.py WORKDIR
"""
import hashlib
import io
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mnist_classic as C  # noqa: E402
import mnist_marker as Marker  # noqa: E402
import mnist_uploads as U  # noqa: E402
import ood_metrics as M  # noqa: E402
from generate import ALL_SETS  # noqa: E402

FAILURES = 0


def ok(cond, what):
    global FAILURES
    FAILURES += 0 if cond else 1
    print(f"{'ok' if cond else 'not ok'}\t{what}", flush=True)


def check_metrics():
    # 10 answers at 0.95, 9 right: one bin, |0.9 - 0.95| = 0.05
    pairs = [(0.95, k < 9) for k in range(10)]
    ok(math.isclose(M.expected_calibration_error(pairs), 0.05), "ECE of one bin is |accuracy - confidence|")
    # two bins, each calibrated: 0.5 with half right, 1.0 with all right
    pairs = [(0.5, k % 2 == 0) for k in range(4)] + [(1.0, True)] * 4
    ok(math.isclose(M.expected_calibration_error(pairs), 0.0, abs_tol=1e-12), "a calibrated set has ECE 0")
    # bins weighted by their share: 3 answers at 0.6 all wrong (gap 0.6), 1 at 0.99 right (0.01)
    pairs = [(0.6, False)] * 3 + [(0.99, True)]
    ok(math.isclose(M.expected_calibration_error(pairs), (3 * 0.6 + 0.01) / 4), "bins weigh by their share")
    answers = [(1, 200, 1, 0.9), (2, 200, 3, 0.5), (4, 422, None, None), (5, 200, 5, 0.7)]
    s = M.digit_summary(answers, 0.8)
    ok(s["accuracy"] == 50.0 and s["refused"] == 25.0, "a refused digit counts as wrong")
    ok(math.isclose(s["conf_right"], 0.8) and math.isclose(s["conf_wrong"], 0.5), "mean confidence right and wrong")
    ok(s["unsure_right"] == 50.0 and s["unsure_wrong"] == 100.0, "not sure: below the threshold")
    per = M.per_digit_accuracy(answers + [(1, 200, 7, 0.6), (1, 200, 7, 0.6), (1, 200, 4, 0.6)])
    ok(math.isclose(per[1][0], 25.0) and per[1][1] == 7 and per[5] == (100.0, None) and per[0][0] != per[0][0],
       "per digit: accuracy and the most common misreading")
    n = M.nondigit_summary([(None, 422, None, None), (None, 200, 3, 0.5), (None, 200, 1, 0.95),
                            (None, 200, 2, 0.8)], 0.8)
    ok(n["refused"] == 25.0 and n["unsure"] == 25.0 and n["caught"] == 50.0,
       "nondigit: refused or below the threshold (0.8 itself is sure)")


def digests(out):
    """{path under OUT: SHA-256} of every image file."""
    found = {}
    for root, _, files in os.walk(out):
        for f in files:
            if f != "labels.csv":
                found[os.path.relpath(os.path.join(root, f), out)] = hashlib.sha256(
                    open(os.path.join(root, f), "rb").read()).hexdigest()
    return found


def generate(out, seed, count):
    subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--count", str(count),
                    "--nondigit", str(count), "--things", str(count), "--seed", str(seed), "--out", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return digests(out)


def check_determinism(work):
    a = generate(os.path.join(work, "a"), 5, 4)
    b = generate(os.path.join(work, "b"), 5, 4)
    c = generate(os.path.join(work, "c"), 6, 4)
    d = generate(os.path.join(work, "d"), 5, 2)
    sets = len(ALL_SETS)
    ok(len(a) == 4 * sets and a == b, "the same seed gives the same images, byte for byte")
    ok(all(a[k] != c.get(k) for k in a), "another seed gives other images")
    # the CI's small sets are the first images of the full ones
    ok(len(d) == 2 * sets and all(a.get(k) == v for k, v in d.items()),
       "an image does not depend on how many come before it")


def check_classic():
    # a bar 6 px wide and 20 tall: fitted to 32 tall it is 10 wide, at x 11..20, so
    # blocks 3 and 4 count 16 and blocks 2 and 5 one column of 4 (level 64)
    pixels = bytearray(784)
    for y in range(4, 24):
        for x in range(11, 17):
            pixels[y * 28 + x] = 255
    small = C.classic(bytes(pixels))
    levels = set(small.getdata())
    ok(small.size == (8, 8) and levels <= {round(k * 255 / 16) for k in range(17)},
       "mnist_classic: 8x8 pixels of 17 levels")
    ok(levels == {0, 64, 255} and small.getbbox() == (2, 0, 6, 8),
       "mnist_classic: the digit fills the height, full blocks, partial ones, paper")
    sizes = [C.sent(small, k).size for k in range(len(C.FORMS))]
    ok(sizes == [(8, 8), (64, 64), (96, 96), (96, 96), (28, 28)], f"mnist_classic: the forms' sizes {sizes}")
    margin = C.sent(small, 2)
    ok(max(margin.crop((0, 0, 96, 12)).getdata()) == 0, "mnist_classic: a margin is paper")
    # a marker: the 10 columns of the bitmap grow to 12 (10..21), half of blocks 2 and 5
    broad = C.classic(bytes(pixels), pen=1)
    ok(set(broad.getdata()) == {0, 128, 255} and broad.getbbox() == (2, 0, 6, 8),
       "mnist_classic: pen=1 grows the ink by a bitmap pixel a side")
    full = Marker.marker(bytes(pixels), 0)
    wide = sum(v >= 128 for v in full.crop((0, 56, 112, 57)).getdata())
    ok(full.size == (112, 112) and 30 <= wide <= 34,
       f"mnist_marker: x4 and grown 4 px a side, the bar 24 -> {wide} px wide")
    ok(list(Marker.marker(bytes(pixels), 1).getdata()) == list(broad.getdata()),
       "mnist_marker: odd positions in the classic format, drawn with pen 1")


def check_uploads():
    # the bar of check_classic in each form, decoded as the service would see it
    from PIL import Image
    pixels = bytearray(784)
    for y in range(4, 24):
        for x in range(11, 17):
            pixels[y * 28 + x] = 255
    seen = {}
    for k, form in enumerate(U.FORMS):
        body, ctype = U.upload(bytes(pixels), k)
        seen[form] = Image.open(io.BytesIO(body))
    stored = seen["stored 8x8, levels 0..16"]
    ok(stored.size == (8, 8) and max(stored.getdata()) == 16, "mnist_uploads: stored levels 0..16")
    ok(seen["16-bit PNG"].mode.startswith("I") and max(seen["16-bit PNG"].getdata()) == 255,
       "mnist_uploads: a 16-bit PNG of 8-bit levels")
    spans = {f: seen[f].getextrema() for f in ("12 levels", "25 levels, JPEG")}
    ok(spans["12 levels"] == (188, 200) and spans["25 levels, JPEG"][1] - spans["25 levels, JPEG"][0] < 40,
       f"mnist_uploads: faint forms span {spans}")
    clear = seen["white on a clear layer"]
    ok(clear.mode == "RGBA" and clear.getextrema()[0] == (255, 255) and clear.getextrema()[3] == (0, 255),
       "mnist_uploads: white strokes, the drawing in the alpha channel")
    def ink_outside(im):  # dark pixels off the digit's 112x112 square at (44, 44)
        return sum(1 for y in range(200) for x in range(200)
                   if not (44 <= x < 156 and 44 <= y < 156) and im.getpixel((x, y)) < 128)
    marked = [seen[f].getpixel((1, 1)) == 255 and ink_outside(seen[f]) > 100
              for f in ("in a box", "circled", "underlined", "on a comb")]
    ok(all(marked), "mnist_uploads: marks drawn on a white page round the dark digit")
    desk = seen["a sheet on a desk"]
    ok(desk.size == (300, 300) and desk.getpixel((1, 1)) < 100 and max(desk.getdata()) > 200,
       "mnist_uploads: a light sheet on a dark desk")
    note = seen["a note on a light desk"]
    ok(note.size == (300, 300) and 150 < note.getpixel((1, 1)) < 190 and max(note.getdata()) > 215,
       "mnist_uploads: a lighter note on a light desk")
    turned = seen["a turned note"]
    paper = sum(1 for v in turned.getdata() if v > 200)
    ok(turned.size == (300, 300) and turned.getpixel((5, 5)) < 100 and turned.getpixel((60, 60)) < 100
       and 0.25 < paper / 300 ** 2 < 0.35, "mnist_uploads: a turned note on a dark desk")
    shade = seen["half in a shadow"]
    ok(shade.getpixel((10, 10)) > 220 and shade.getpixel((230, 10)) < 150,
       "mnist_uploads: the page lit on the left, shaded on the right")
    thumb = seen["a thumb over a corner"]
    ok(thumb.getpixel((5, 250)) < 150 and thumb.getpixel((250, 250)) > 200,
       "mnist_uploads: a gray thumb over the bottom left corner")
    printed = seen["print over and under"]
    dark_rows = [y for y in range(260) if min(printed.getpixel((x, y)) for x in range(260)) < 128]
    ok(min(dark_rows) < 40 and max(dark_rows) > 220,
       "mnist_uploads: print over and under the digit")
    label = seen["a label before it"]
    dark_columns = [x for x in range(300) if min(label.getpixel((x, y)) for y in range(200)) < 128]
    ok(min(dark_columns) < 120 and max(dark_columns) > 160,
       "mnist_uploads: a label before the digit")


if __name__ == "__main__":
    check_metrics()
    check_classic()
    check_uploads()
    check_determinism(sys.argv[1])
    sys.exit(1 if FAILURES else 0)
