"""MNIST test digits in the classic 8x8 format of 17 gray levels: a diagnostic of how
well the network reads real handwriting at that resolution, apart from how it reads
other writers (the digits are MNIST's, so this is not an out-of-distribution set).

A digit is cropped to its ink, fitted to a 32x32 bitmap (aspect kept, the longer side
filling it), thresholded at 128, and each 4x4 block counted: 8x8 pixels of 0..16
scaled to 0..255, as the 1,797-digit kind of set stores them. It is then sent in one of
FORMS, light on dark, chosen by the digit's position in the set. The trainer makes its
classic copies of MNIST's training digits the same way (src/mn_classic.c).
"""
from PIL import Image, ImageFilter

FORMS = ("as stored", "x8 bilinear", "margin, x8 bilinear", "margin, x8 bicubic",
         "margin, 28x28 blurred")


def classic(pixels, pen=0):
    """The 8x8, 17-level image (L) of a 28x28 MNIST digit (784 bytes, white on black);
    PEN > 0: the bitmap's ink grown by PEN pixels a side, as a broader pen draws."""
    im = Image.frombytes("L", (28, 28), bytes(pixels))
    box = im.getbbox()
    im = im.crop(box) if box else im
    w, h = im.size
    s = 32 / max(w, h)
    fit = (max(1, round(w * s)), max(1, round(h * s)))
    bitmap = Image.new("L", (32, 32), 0)
    bitmap.paste(im.resize(fit, Image.BILINEAR), ((32 - fit[0]) // 2, (32 - fit[1]) // 2))
    bitmap = bitmap.point(lambda v: 255 if v >= 128 else 0)
    if pen:
        bitmap = bitmap.filter(ImageFilter.MaxFilter(2 * pen + 1))
    # BOX resampling averages each 4x4 block exactly; snap to the 17 levels
    return bitmap.resize((8, 8), Image.BOX).point(lambda v: round(round(v * 16 / 255) * 255 / 16))


def with_margin(small):
    """SMALL on a 12x12 canvas, two blocks of paper all round."""
    canvas = Image.new("L", (12, 12), 0)
    canvas.paste(small, (2, 2))
    return canvas


def sent(small, form):
    """The image as FORM (an index into FORMS) sends it."""
    if form == 0:
        return small
    if form == 1:
        return small.resize((64, 64), Image.BILINEAR)
    if form == 2:
        return with_margin(small).resize((96, 96), Image.BILINEAR)
    if form == 3:
        return with_margin(small).resize((96, 96), Image.BICUBIC)
    return with_margin(small).resize((28, 28), Image.BICUBIC).filter(ImageFilter.GaussianBlur(0.8))
