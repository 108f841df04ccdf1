"""The 'photos' set: a digit written on paper, then photographed: uneven light, a
shadow, slight perspective, defocus, sensor noise and JPEG.

The 'photo8' set photographs the classic 8x8 format the same way: a digit of 17 levels
scaled up smoothly, its strokes soft and blurry before the camera adds its own."""

from PIL import Image, ImageChops, ImageDraw, ImageFilter

import ood_fonts
import ood_lowres
import ood_paper as P
import ood_strokes


def written_mask(rng, label, fonts):
    """The ink of a handwritten LABEL (L, 255 = ink): a pad drawing with a thinner pen
    or a handwriting font, half each."""
    if rng.random() < 0.5:
        im = ood_strokes.drawing_image(rng, label, width=rng.randint(8, 20))
        return ImageChops.invert(im)
    hand_only = (fonts[0], [])
    return P.affine(ood_fonts.digit_mask(rng, label, hand_only, rng.randint(60, 120)),
                    rng, max_rot=8, max_shear=0.2)


def lighting(size, rng):
    """A multiplier image (L): a linear gradient of light across the page at a random
    angle, from 55..85 % to 100 %."""
    low = rng.randint(140, 215)
    grad = Image.linear_gradient("L").resize((max(size) * 2,) * 2)
    grad = grad.rotate(rng.uniform(0, 360), Image.BILINEAR)
    c = grad.size[0] // 2
    grad = grad.crop((c - size[0] // 2, c - size[1] // 2, c - size[0] // 2 + size[0], c - size[1] // 2 + size[1]))
    return grad.point(lambda v: low + (255 - low) * v // 255)


def shadow(size, rng):
    """A soft shadow over one side of the page, as a hand or phone casts (L multiplier)."""
    w, h = size
    sh = Image.new("L", size, 255)
    d = ImageDraw.Draw(sh)
    x0, y0 = rng.uniform(-0.3, 0.7) * w, rng.uniform(-0.3, 0.7) * h
    d.ellipse((x0, y0, x0 + rng.uniform(0.5, 1.2) * w, y0 + rng.uniform(0.5, 1.2) * h),
              fill=rng.randint(120, 200))
    return sh.filter(ImageFilter.GaussianBlur(min(size) * rng.uniform(0.05, 0.15)))


def multiply(im, mult):
    return ImageChops.multiply(im, Image.merge("RGB", (mult,) * 3))


def perspective(im, rng, amount=0.08):
    """A slight keystone: each corner moved by up to AMOUNT of the size."""
    w, h = im.size
    j = [rng.uniform(-amount, amount) * s for s in (w, h) * 4]
    quad = (j[0], j[1], j[2], h + j[3], w + j[4], h + j[5], w + j[6], j[7])
    fill = im.getpixel((0, 0))
    return im.transform(im.size, Image.QUAD, quad, Image.BICUBIC, fillcolor=fill)


def make(rng, label, fonts):
    """One photo of digit LABEL: (bytes, extension)."""
    size = rng.choice([(240, 240), (320, 240), (240, 320), (400, 300), (480, 480)])
    mask = P.place(written_mask(rng, label, fonts), size, rng, fill=(0.35, 0.75))
    mask = mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))  # ink bleeds
    return photograph(mask, size, rng)


def make_classic(rng, label, fonts):
    """One photo of digit LABEL stored in the classic 8x8 format of 17 levels (lowres8's
    digits), scaled up smoothly as a script, a printout or a screen shows it, on paper:
    (bytes, extension)."""
    small = ood_lowres.block_counts(ood_lowres.ink_mask(rng, label, fonts), 8, 4, rng)
    size = rng.choice([(240, 240), (320, 240), (240, 320), (400, 300), (480, 480)])
    big = small.resize((64, 64), rng.choice([Image.BILINEAR, Image.BICUBIC]))
    return photograph(P.place(big, size, rng, fill=(0.35, 0.75)), size, rng)


def photograph(mask, size, rng):
    """MASK (L, 255 = ink) in pen or pencil on a SIZE sheet, photographed: (bytes,
    extension)."""
    im = P.ink(P.paper(rng, size, lines="random"), mask, P.ink_color(rng, pencil=rng.random() < 0.35))
    im = perspective(im, rng)
    im = multiply(im, lighting(size, rng))
    if rng.random() < 0.5:
        im = multiply(im, shadow(size, rng))
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 2.5) * min(size) / 240))
    im = P.add_noise(im, rng, rng.uniform(3, 14))
    return P.encode(im, rng, jpeg_share=0.8, quality=(35, 90))


