#!/usr/bin/python3
"""Sends test sets through POST /predict of a running service and prints, per set,
accuracy, expected calibration error and how sure the model was when right and wrong.

    evaluate.py URL [options] SET...

SET is a directory with labels.csv ("file,label"; label "none" for pictures without a
digit), as generate.py writes, or one of the MNIST test sets read from --mnist DATA:
    mnist-test   all 10,000 test digits as 28x28 PNG in multipart (preprocessing on)
    mnist-raw    the same as raw PNG bodies with ?preprocess=0
    mnist-user   2,000 (spread over the test set) "user-like": black on white, x10,
                 off-centre on a larger page, a third JPEG (mnist_http.py's user_like)
    mnist-8x8    2,000 (spread) in the classic 8x8 format of 17 levels, sent in five
                 ways, 400 each (mnist_classic.py): a diagnostic of the resolution
    mnist-marker 2,000 (spread) redrawn with a marker, strokes about twice as broad,
                 half x4, half in the classic format (mnist_marker.py): a diagnostic
                 of the pen
    mnist-turned 2,000 (spread) on a note photographed askew, turned by 10, 15, 20 or 25
                 degrees either way (mnist_turned.py): a diagnostic of the turn
    mnist-uploads 3,400 (spread) in seventeen awkward forms, 200 each (mnist_uploads.py):
                 faint, 16-bit, in a box, circled, underlined, on a clear layer, on a
                 sheet on a desk, turned, in a shadow, with a thumb over a corner, with print
                 round them ...: a diagnostic of decoding and preprocessing
Options:
    --mnist DATA        the MNIST IDX files (for the mnist-* sets)
    --threads N         concurrent keep-alive clients (default 4)
    --limit N           at most N images per set (the first N of a set directory, N spread
                        over the MNIST test set), for quick runs
    --floor SET=PCT     print "ok"/"not ok" lines: accuracy of SET >= PCT (nondigit:
                        the share caught, refused or "not sure")
    --threshold P       the "not sure" threshold (default: NOT_SURE_BELOW in www/app.js)
    --per-digit         also print each digit's accuracy and its most common misreading
    --misses            also print every misread image: its file (MNIST: its index),
                        label, answer and confidence; and every non-digit answered
                        with a confidence at or above the threshold
    --scan              also print, for thresholds 0.50..0.95, the share of right and of
                        wrong answers (over the digit sets that are not mnist-*) and of
                        non-digits "not sure"
A refusal (422 no digit) of a digit counts as wrong. ECE uses 15 equal-width bins of
"confidence" over the answered images.
"""
import argparse
import csv
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import mnist_classic  # noqa: E402
import mnist_http as H  # noqa: E402
import mnist_marker  # noqa: E402
import mnist_turned  # noqa: E402
import mnist_uploads  # noqa: E402
import ood_metrics as M  # noqa: E402

CTYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def ui_threshold():
    """NOT_SURE_BELOW from www/app.js: the evaluator judges what the UI shows."""
    text = open(os.path.join(TOP, "www", "app.js")).read()
    m = re.search(r"NOT_SURE_BELOW\s*=\s*([0-9.]+)", text)
    if not m:
        sys.exit("evaluate.py: no NOT_SURE_BELOW in www/app.js; pass --threshold")
    return float(m.group(1))


def spread(items, limit):
    if not limit or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(k * step)] for k in range(limit)]


def dir_items(path, limit):
    """[(label or None, loader, name)] of a set directory; loader -> (body, ctype, path)."""
    with open(os.path.join(path, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    items = []
    # the first LIMIT: labels cycle 0..9, so every digit is there (a stride would pick
    # one digit), and they are the images of a smaller set of the same seed
    for row in rows[:limit or len(rows)]:
        file = os.path.join(path, row["file"])
        ctype = CTYPES[os.path.splitext(file)[1].lower()]
        label = None if row["label"] == "none" else int(row["label"])
        items.append((label, lambda file=file, ctype=ctype: (open(file, "rb").read(), ctype, "/predict"),
                      row["file"]))
    return items


def mnist_items(name, data, limit):
    """[(label, loader, index)] of one of the MNIST test sets (see the module's help)."""
    images, labels = H.read_idx(data)
    if name == "mnist-user":
        idx = spread(list(range(len(images))), min(limit or 2000, 2000))
        rng = random.Random(2024)  # the same images as tests/integration/accuracy.sh
        kinds = ["jpeg", "png", "png"]
        bodies = {i: H.user_like(images[i], rng, kinds[i % 3]) for i in idx}
        return [(labels[i], lambda i=i: bodies[i] + ("/predict",), str(i)) for i in idx]
    if name == "mnist-8x8":
        idx = spread(list(range(len(images))), min(limit or 2000, 2000))
        forms = len(mnist_classic.FORMS)
        return [(labels[i], lambda k=k, i=i: (H.encode(mnist_classic.sent(
            mnist_classic.classic(images[i]), k % forms), "PNG"), "image/png", "/predict"),
                 f"{i} ({mnist_classic.FORMS[k % forms]})") for k, i in enumerate(idx)]
    if name == "mnist-marker":
        idx = spread(list(range(len(images))), min(limit or 2000, 2000))
        return [(labels[i], lambda k=k, i=i: (H.encode(mnist_marker.marker(images[i], k), "PNG"),
                                              "image/png", "/predict"),
                 f"{i} ({mnist_marker.form(k)})") for k, i in enumerate(idx)]
    if name == "mnist-turned":
        idx = spread(list(range(len(images))), min(limit or 2000, 2000))
        return [(labels[i], lambda k=k, i=i: (H.encode(mnist_turned.turned(images[i], k), "PNG"),
                                              "image/png", "/predict"),
                 f"{i} ({mnist_turned.form(k)})") for k, i in enumerate(idx)]
    if name == "mnist-uploads":
        n = 200 * len(mnist_uploads.FORMS)
        idx = spread(list(range(len(images))), min(limit or n, n))
        return [(labels[i], lambda k=k, i=i: mnist_uploads.upload(images[i], k) + ("/predict",),
                 f"{i} ({mnist_uploads.form(k)})") for k, i in enumerate(idx)]
    idx = spread(list(range(len(images))), limit)
    if name == "mnist-raw":
        return [(labels[i], lambda i=i: (H.png(images[i]), "image/png", "/predict?preprocess=0"), str(i))
                for i in idx]
    return [(labels[i], lambda i=i: H.multipart([("file", f"{i}.png", "image/png", H.png(images[i]))])
             + ("/predict",), str(i)) for i in idx]


def ask(client, item):
    """(label, status, prediction, confidence) of one image."""
    label, load, _ = item
    body, ctype, path = load()
    if path == "/predict" and not ctype.startswith("multipart/"):
        body, ctype = H.multipart([("file", "image", ctype, body)])  # as the web UI sends it
    r = client.post(path, body, ctype)
    j = r.json() if r.status == 200 else None
    if r.status == 200 and H.answer_problems(r):
        sys.exit(f"evaluate.py: a malformed answer: {H.answer_problems(r)}")
    return (label, r.status, j["prediction"] if j else None, j["confidence"] if j else None)


def fmt(v, digits=1):
    return "–" if v != v else f"{v:.{digits}f}"


def print_digit_row(name, s, secs):
    print(f"| {name} | {s['images']} | {fmt(s['accuracy'], 2)} | {fmt(s['ece'], 2)} | "
          f"{fmt(s['conf_right'], 3)} | {fmt(s['conf_wrong'], 3)} | {fmt(s['unsure_right'])} | "
          f"{fmt(s['unsure_wrong'])} | {fmt(s['refused'])} | {secs:.0f} |", flush=True)


def print_nondigit_row(name, s, secs):
    print(f"| {name} | {s['images']} | caught {fmt(s['caught'])} | – | – | "
          f"{fmt(s['conf_answered'], 3)} | – | {fmt(s['unsure'])} | {fmt(s['refused'])} | {secs:.0f} |",
          flush=True)


def print_misses(items, answers, threshold):
    """Every digit read wrong, and every non-digit answered with confidence."""
    for (_, _, name), (label, status, pred, conf) in zip(items, answers):
        if label is not None and pred != label:
            said = f"{pred} ({conf:.3f})" if status == 200 else f"HTTP {status}"
            print(f"#   miss {name}: {label} read as {said}", flush=True)
        elif label is None and status == 200 and conf >= threshold:
            print(f"#   miss {name}: no digit, read as {pred} ({conf:.3f})", flush=True)


def print_scan(answers):
    """How each candidate "not sure" threshold splits right, wrong and non-digit answers."""
    print("\n# the out-of-distribution sets' answers under each threshold")
    print("| threshold | right answers not sure % | wrong answers not sure % | non-digits refused or not sure % |")
    print("| ---: | ---: | ---: | ---: |")
    for t in [0.5 + 0.05 * k for k in range(10)]:
        d = M.digit_summary([a for a in answers if a[0] is not None], t)
        n = M.nondigit_summary([a for a in answers if a[0] is None], t)
        print(f"| {t:.2f} | {fmt(d['unsure_right'])} | {fmt(d['unsure_wrong'])} | {fmt(n['caught'])} |")


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("url")
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--mnist")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--floor", action="append", default=[])
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--scan", action="store_true")
    ap.add_argument("--per-digit", action="store_true")
    ap.add_argument("--misses", action="store_true")
    args = ap.parse_args()
    threshold = args.threshold if args.threshold is not None else ui_threshold()
    floors = dict((f.split("=")[0], float(f.split("=")[1])) for f in args.floor)
    client = H.Client(args.url)
    everything = []
    print(f"# \"not sure\" below confidence {threshold}; a refusal of a digit counts as wrong")
    print("| set | images | accuracy % | ECE % | mean conf. right | mean conf. wrong (nondigit: answered) "
          "| not sure right % | not sure wrong % (nondigit: all) | refused % | s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
    for spec in args.sets:
        name = os.path.basename(spec.rstrip("/"))
        items = (mnist_items(spec, args.mnist, args.limit) if spec.startswith("mnist-")
                 else dir_items(spec, args.limit))
        t0 = time.monotonic()
        answers = H.pmap(lambda it: ask(client, it), items, args.threads)
        secs = time.monotonic() - t0
        if not spec.startswith("mnist-"):
            everything += answers
        if all(a[0] is None for a in answers):
            s = M.nondigit_summary(answers, threshold)
            print_nondigit_row(name, s, secs)
            if args.misses:
                print_misses(items, answers, threshold)
            figure, what = s["caught"], "caught (refused or not sure)"
        else:
            s = M.digit_summary(answers, threshold)
            print_digit_row(name, s, secs)
            if args.per_digit:
                print("#   per digit: " + ", ".join(
                    f"{d} {fmt(acc, 0)}" + (f" (->{w})" if w is not None else "")
                    for d, (acc, w) in enumerate(M.per_digit_accuracy(answers))), flush=True)
            if args.misses:
                print_misses(items, answers, threshold)
            figure, what = s["accuracy"], "accuracy"
        if name in floors:
            H.ok(figure >= floors[name], f"{name}: {what} {figure:.2f} % >= {floors[name]} % "
                 f"({len(items)} images)")
    if args.scan:
        print_scan(everything)
    return 1 if H.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
