"""MNIST test digits sent in awkward forms that real uploads take: a diagnostic of the
service's decoding and preprocessing, not of the network (the digits are MNIST's).
Each form once defeated the service (see README.md, "Accuracy on other handwriting"):

    stored 8x8, levels 0..16    the classic format saved as stored, not scaled to 0..255
    16-bit PNG                  x4, dark on white, saved from an image of integers
    12 levels                   x4, 12 levels darker than its paper (200)
    25 levels, noisy            x4, 25 levels darker, noise of sigma 2
    25 levels, JPEG             x4, 25 levels darker, saved as JPEG (quality 70)
    in a box                    x4, dark on a white 200x200 page, a box drawn round it
    circled                     the same with a ring round it
    underlined                  the same with a line under it
    on a comb                   the same with a form's comb under it (ticks beside it)
    white on a clear layer      x4, white strokes on a transparent RGBA layer
    a sheet on a desk           x4, dark on a white 170x170 sheet lying on a dark,
                                noisy desk (70, +-4 levels), 300x300, JPEG
    a note on a light desk      the same sheet on a lighter desk (170), 10-60 px from
                                its left edge, JPEG
    a turned note               the sheet turned by 15 degrees on a dark desk (70), JPEG
    half in a shadow            x4, pencil (60) on white, a shadow across the page
                                through the digit
    a thumb over a corner       x4, dark on paper, a gray half-ellipse over a corner, JPEG
    print over and under        x4, dark on paper, a line of print over it and under it
    a label before it           x4, dark on paper, "Answer:" before it on its baseline

The digit at position k of the set is sent in form k modulo their number.
"""
import io
import os
import random
import sys

from PIL import Image

import mnist_classic

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import mnist_http  # noqa: E402  (its marked pages, as the HTTP tests draw them)

FORMS = ("stored 8x8, levels 0..16", "16-bit PNG", "12 levels", "25 levels, noisy",
         "25 levels, JPEG", "in a box", "circled", "underlined", "on a comb",
         "white on a clear layer", "a sheet on a desk", "a note on a light desk", "a turned note",
         "half in a shadow", "a thumb over a corner", "print over and under",
         "a label before it")


def _digit(pixels, side=112):
    return Image.frombytes("L", (28, 28), bytes(pixels)).resize((side, side), Image.BICUBIC)


def _encode(im, fmt="PNG", **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def _faint(pixels, levels, sigma, seed):
    """x4, `levels` darker than paper 200 at full ink, with Gaussian noise of sigma."""
    rng = random.Random(seed)
    ink = _digit(pixels).getdata()
    out = Image.new("L", (112, 112))
    out.putdata([max(0, min(255, round(200 - levels * v / 255 + (rng.gauss(0, sigma) if sigma else 0))))
                 for v in ink])
    return out


def upload(pixels, k):
    """(bytes, content type) of a 28x28 MNIST digit at position K of the set."""
    form = FORMS[k % len(FORMS)]
    if form == "stored 8x8, levels 0..16":
        small = mnist_classic.classic(pixels)
        return _encode(small.point(lambda v: round(v * 16 / 255))), "image/png"
    if form == "16-bit PNG":
        return _encode(_digit(pixels).point(lambda v: 255 - v).convert("I")), "image/png"
    if form == "12 levels":
        return _encode(_faint(pixels, 12, 0, k)), "image/png"
    if form == "25 levels, noisy":
        return _encode(_faint(pixels, 25, 2, k)), "image/png"
    if form == "25 levels, JPEG":
        return _encode(_faint(pixels, 25, 0, k), "JPEG", quality=70), "image/jpeg"
    if form == "a sheet on a desk":
        rng = random.Random(k)
        # uniform noise of +-4 levels round 70 (a byte a pixel, drawn at C speed)
        desk = Image.frombytes("L", (300, 300), rng.randbytes(300 * 300)).point(
            lambda v: 66 + v % 9)
        x, y = rng.randint(10, 120), rng.randint(10, 120)
        desk.paste(230, (x, y, x + 170, y + 170))
        desk.paste(30, (x + 29, y + 29), _digit(pixels))
        return _encode(desk, "JPEG", quality=85), "image/jpeg"
    if form == "a note on a light desk":
        note = mnist_http.on_desk(pixels, 170, random.Random(k).randint(10, 60))
        return _encode(note, "JPEG", quality=85), "image/jpeg"
    if form == "a turned note":
        return _encode(mnist_http.turned_note(pixels), "JPEG", quality=85), "image/jpeg"
    if form == "half in a shadow":
        return _encode(mnist_http.under_a_shadow(pixels)), "image/png"
    if form == "a thumb over a corner":
        return _encode(mnist_http.with_a_thumb(pixels), "JPEG", quality=85), "image/jpeg"
    if form == "print over and under":
        return _encode(mnist_http.with_captions(pixels)), "image/png"
    if form == "a label before it":
        return _encode(mnist_http.with_a_label(pixels)), "image/png"
    if form == "white on a clear layer":
        layer = Image.new("RGBA", (112, 112), (255, 255, 255, 0))
        layer.putalpha(_digit(pixels))
        return _encode(layer), "image/png"
    return _encode(mnist_http.marked(pixels, "in a form's comb" if form == "on a comb" else form)), \
        "image/png"


def form(k):
    """How the image at position K is sent, for --misses."""
    return FORMS[k % len(FORMS)]
