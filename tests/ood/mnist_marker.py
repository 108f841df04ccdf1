"""MNIST test digits redrawn with a marker: a diagnostic of how well the network reads
strokes about twice as broad as MNIST's pen (the digits are MNIST's, so this is not an
out-of-distribution set).

Even positions of the set are sent at full size: the 28x28 digit scaled up 4 times
(bilinear) and its ink grown by 4 pixels a side (1 at 28x28), 112x112 PNG. Odd ones
are sent in the classic 8x8 format (mnist_classic.py) from a bitmap whose ink is grown
by 1 pixel a side at 32x32, in mnist_classic's five forms in turn.
"""
from PIL import Image, ImageFilter

import mnist_classic


def marker(pixels, k):
    """The image (L, white on black) of a 28x28 MNIST digit at position K of the set."""
    if k % 2 == 0:
        im = Image.frombytes("L", (28, 28), bytes(pixels)).resize((112, 112), Image.BILINEAR)
        return im.filter(ImageFilter.MaxFilter(9))
    small = mnist_classic.classic(pixels, pen=1)
    return mnist_classic.sent(small, (k // 2) % len(mnist_classic.FORMS))


def form(k):
    """How the image at position K is sent, for --misses."""
    if k % 2 == 0:
        return "x4, grown 1 px"
    forms = mnist_classic.FORMS
    return "8x8 from a bitmap grown 1 px, " + forms[(k // 2) % len(forms)]
