"""The 'lowres' set: digits as old scanners stored them, then blown up again.

A written digit (pad drawing or handwriting font) is made a black-and-white bitmap of
N*B x N*B pixels, fitted to the box; each BxB block is counted, giving an NxN image with
B*B+1 gray levels (N 8..16; B 4 gives the classic 17 levels). That small image is
scaled to 32..256 px, blocky (nearest) or smooth (bilinear, bicubic), dark on light or
light on dark.

The 'lowres8' set keeps to the classic format alone, 32x32 bitmaps counted into 8x8
blocks of 17 levels, the hardest to read, and sends a quarter of them as stored (8x8
pixels) or barely scaled (16x16).

The 'smooth8' set sends the classic format as scripts and image viewers show it: on
0 to 2 blocks of paper, scaled to 24..64 px by bilinear, bicubic or Lanczos
interpolation, a third of them blurred further, either polarity: soft, blurry strokes.
"""
from PIL import Image, ImageChops, ImageFilter

import ood_fonts
import ood_paper as P
import ood_strokes

GRIDS = ((8, 4), (8, 4), (8, 4), (10, 3), (12, 3), (12, 2), (16, 2), (16, 4))


def ink_mask(rng, label, fonts):
    """White ink on black (L) of a handwritten LABEL, cropped to its ink."""
    if rng.random() < 0.5:
        im = ImageChops.invert(ood_strokes.drawing_image(rng, label, width=rng.randint(14, 30)))
    else:
        im = P.affine(ood_fonts.digit_mask(rng, label, fonts, 96), rng, max_rot=8, max_shear=0.2)
    box = im.getbbox()
    return im.crop(box) if box else im


def block_counts(mask, n, b, rng):
    """MASK fitted into an N*B square bitmap (aspect kept, or stretched as some
    scanners did), thresholded, then B x B blocks counted: L with levels 0..B*B scaled
    to 0..255."""
    side = n * b
    w, h = mask.size
    if rng.random() < 0.3 and w >= 0.45 * h:  # a stretched "1" would be a slab
        fit = (side, side)
    else:
        s = side / max(w, h)
        fit = (max(1, round(w * s)), max(1, round(h * s)))
    bitmap = Image.new("L", (side, side), 0)
    bitmap.paste(mask.resize(fit, Image.BILINEAR), ((side - fit[0]) // 2, (side - fit[1]) // 2))
    bitmap = bitmap.point(lambda v: 255 if v >= 128 else 0)
    # BOX resampling averages each block exactly; snap to the B*B+1 levels
    small = bitmap.resize((n, n), Image.BOX)
    levels = b * b
    return small.point(lambda v: round(round(v * levels / 255) * 255 / levels))


def make(rng, label, fonts):
    """One low-resolution image of digit LABEL: (bytes, extension)."""
    n, b = rng.choice(GRIDS)
    small = block_counts(ink_mask(rng, label, fonts), n, b, rng)
    if rng.random() < 0.5:
        small = ImageChops.invert(small)  # dark digit on light
    side = rng.choice([32, 48, 64, 96, 128, 160, 200, 256])
    big = small.resize((side, side), rng.choice([Image.NEAREST, Image.NEAREST, Image.BILINEAR, Image.BICUBIC]))
    return P.encode(big, rng, jpeg_share=0.1, quality=(80, 95))


def make_classic(rng, label, fonts):
    """One digit of LABEL in the classic 8x8, 17-level format: (bytes, extension)."""
    small = block_counts(ink_mask(rng, label, fonts), 8, 4, rng)
    if rng.random() < 0.5:
        small = ImageChops.invert(small)
    side = rng.choice([8, 16, 32, 64, 64, 96, 128, 200])
    resample = rng.choice([Image.NEAREST, Image.NEAREST, Image.BILINEAR, Image.BICUBIC])
    big = small if side == 8 else small.resize((side, side), resample)
    return P.encode(big, rng, jpeg_share=0.1, quality=(80, 95))


def make_smooth(rng, label, fonts):
    """One digit of LABEL in the classic format, scaled up smoothly: (bytes, extension)."""
    small = block_counts(ink_mask(rng, label, fonts), 8, 4, rng)
    dark_ink = rng.random() < 0.5
    if dark_ink:
        small = ImageChops.invert(small)
    margin = rng.choice([0, 0, 1, 2])
    canvas = Image.new("L", (8 + 2 * margin, 8 + 2 * margin), 255 if dark_ink else 0)
    canvas.paste(small, (margin, margin))
    side = rng.choice([24, 28, 28, 32, 48, 64])
    big = canvas.resize((side, side), rng.choice([Image.BILINEAR, Image.BICUBIC, Image.LANCZOS]))
    if rng.random() < 1 / 3:
        big = big.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0) * side / 28))
    return P.encode(big, rng, jpeg_share=0.1, quality=(80, 95))
