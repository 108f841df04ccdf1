#!/usr/bin/python3
"""Pen paths of the 'strokes' set with the web UI's own pen, for the browser test
(tests/browser/ui.test.mjs) to draw on the real pad and compare with what
ood_strokes.paint makes of them: that the set looks like what people draw there.

    ui_drawings.py SEED N    prints [{label, strokes, gray}] as JSON: strokes in pad
                             pixels, gray the 280x280 painting (L bytes, base64)
"""
import base64
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ood_strokes as S  # noqa: E402


def thinned(stroke, step=12.0):
    """STROKE with points at least STEP pixels apart (and its last point): fewer pointer
    events for the browser to send, the same kind of path."""
    out = [stroke[0]]
    for p in stroke[1:]:
        if ((p[0] - out[-1][0]) ** 2 + (p[1] - out[-1][1]) ** 2) ** 0.5 >= step:
            out.append(p)
    if out[-1] != stroke[-1]:
        out.append(stroke[-1])
    return out


def ui_drawings(seed, n):
    out = []
    for i in range(n):
        rng = random.Random(f"ui/{seed}/{i}")
        strokes = [thinned(s) for s in S.trajectories(rng, i % 10)]
        gray = S.paint(strokes, S.UI_PEN).tobytes()
        out.append({"label": i % 10, "strokes": [[list(p) for p in s] for s in strokes],
                    "gray": base64.b64encode(gray).decode()})
    return out


if __name__ == "__main__":
    print(json.dumps(ui_drawings(int(sys.argv[1]), int(sys.argv[2]))))
