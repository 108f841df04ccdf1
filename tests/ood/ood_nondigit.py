"""The 'nondigit' set: pictures without a digit, where the right answer is 422
"no digit found" or a low confidence: blank paper, noise, gradients, ruled paper,
scribbles, letters and signs, shapes, textures."""
import math

from PIL import Image, ImageChops, ImageDraw, ImageFilter

import ood_fonts
import ood_paper as P
import ood_strokes

KINDS = ("blank", "noise", "gradient", "lines", "scribble", "letter", "shape", "texture")
# letters and signs that no one reads as a digit (not O, I, l, S, Z, B, g, q, b, G ...)
LETTERS = "ACEFHKMNPRUVWXYacefhkmnrvwxy#@&%?*+=!"


def scribble(rng, size):
    """Random pen strokes on the pad: a wandering curve or a few zig-zags (L ink mask)."""
    strokes = []
    for _ in range(rng.randint(1, 3)):
        pts = [(rng.uniform(0.15, 0.85) * size, rng.uniform(0.15, 0.85) * size)
               for _ in range(rng.randint(3, 9))]
        strokes.append(ood_strokes.pointer_samples(ood_strokes.catmull_rom(pts, 0.2), rng, 6))
    return ImageChops.invert(ood_strokes.paint(strokes, rng.randint(8, 24), size))


def shape(rng, size):
    """A square, triangle, star or cross outline or fill (L ink mask)."""
    im = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(im)
    c, r = size / 2, size * rng.uniform(0.2, 0.4)
    kind = rng.choice(["rect", "triangle", "star", "cross"])
    width = rng.randint(4, 14)
    if kind == "rect":
        d.rectangle((c - r, c - r * 0.7, c + r, c + r * 0.7), outline=255, width=width,
                    fill=255 if rng.random() < 0.3 else None)
    elif kind == "triangle":
        d.polygon([(c, c - r), (c - r, c + r), (c + r, c + r)], outline=255, width=width)
    elif kind == "star":
        pts = [(c + (r if k % 2 == 0 else r / 2.5) * math.cos(k * math.pi / 5),
                c + (r if k % 2 == 0 else r / 2.5) * math.sin(k * math.pi / 5)) for k in range(10)]
        d.polygon(pts, fill=255)
    else:
        d.line([(c - r, c - r), (c + r, c + r)], fill=255, width=width)
        d.line([(c - r, c + r), (c + r, c - r)], fill=255, width=width)
    return im


def texture(rng, size):
    """Blurred noise, thresholded or not: cloth, stone, paper fibre (RGB)."""
    n = P.noise(rng, (size // 4, size // 4), rng.uniform(30, 90))
    n = n.resize((size, size), Image.BICUBIC).filter(ImageFilter.GaussianBlur(rng.uniform(0, 3)))
    if rng.random() < 0.4:
        n = n.point(lambda v: 200 if v > 128 else 60)
    return n.convert("RGB")


def mask_for(kind, rng, size, fonts):
    if kind == "scribble":
        return scribble(rng, size)
    if kind == "letter":
        g = ood_fonts.glyph(rng.choice(LETTERS), ood_fonts.pick_font(rng, fonts), 96, rng.choice([0, 2]))
        return P.place(g, (size, size), rng, fill=(0.4, 0.8))
    return shape(rng, size)


def make(rng, index, fonts):
    """Non-digit picture number INDEX (its kind cycles): (bytes, extension)."""
    kind = KINDS[index % len(KINDS)]
    size = rng.choice([64, 128, 200, 280])
    sheet = P.paper(rng, (size, size), lines="ruled" if kind == "lines" else None)
    if kind == "noise":
        sheet = Image.merge("RGB", [P.noise(rng, (size, size), rng.uniform(20, 80))] * 3)
    elif kind == "gradient":
        g = Image.linear_gradient("L").resize((size, size)).rotate(rng.uniform(0, 360))
        sheet = Image.merge("RGB", (g.point(lambda v: 90 + v * 165 // 255),) * 3)
    elif kind == "texture":
        sheet = texture(rng, size)
    elif kind in ("scribble", "letter", "shape"):
        sheet = P.ink(sheet, mask_for(kind, rng, size, fonts), P.ink_color(rng))
    if rng.random() < 0.3:
        sheet = ImageChops.invert(sheet)
    return P.encode(sheet, rng, jpeg_share=0.3)
