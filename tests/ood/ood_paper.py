"""Paper, ink and camera effects shared by the out-of-distribution set generators.

Everything takes a random.Random so that a set is the same for the same seed. Pure
PIL (Debian's python3-pil): no numpy on the machines that run the tests.
"""
import io

from PIL import Image, ImageChops, ImageDraw, ImageOps


def paper(rng, size, lines=None):
    """An RGB sheet: off-white with a slight tint, optional ruled or squared lines
    (LINES: None, 'ruled', 'squared' or 'random') and a little grain."""
    w, h = size
    base = rng.randint(215, 255)
    tint = (base, base - rng.randint(0, 10), base - rng.randint(0, 22))
    sheet = Image.new("RGB", size, tint)
    if lines == "random":
        lines = rng.choice([None, None, "ruled", "squared"])
    if lines:
        draw = ImageDraw.Draw(sheet)
        step = rng.randint(max(8, h // 14), max(12, h // 5))
        color = rng.choice([(150, 180, 225), (170, 170, 170), (200, 160, 160), (140, 190, 190)])
        width = rng.choice([1, 1, 2])
        off = rng.randint(0, step - 1)
        for y in range(off, h, step):
            draw.line([(0, y), (w, y)], fill=color, width=width)
        if lines == "squared":
            for x in range(rng.randint(0, step - 1), w, step):
                draw.line([(x, 0), (x, h)], fill=color, width=width)
    return add_noise(sheet, rng, rng.uniform(1, 6))


def noise(rng, size, sigma):
    """L noise around 128 with a standard deviation of SIGMA gray levels, from RNG
    (PIL's effect_noise draws from the C library's rand(), which would make an image
    depend on every image made before it in the process)."""
    w, h = size
    scale = sigma / 73.9  # the standard deviation of uniform bytes
    lut = [max(0, min(255, round(128 + (v - 127.5) * scale))) for v in range(256)]
    return Image.frombytes("L", size, rng.randbytes(w * h)).point(lut)


def add_noise(im, rng, sigma):
    """Grain of SIGMA gray levels, the same on every channel."""
    if sigma <= 0:
        return im
    grain = noise(rng, im.size, sigma)
    if im.mode != "L":
        grain = Image.merge(im.mode, (grain,) * len(im.getbands()))
    return ImageChops.add(im, grain, 1.0, -128)


def ink(sheet, mask, color):
    """Lays ink of COLOR (RGB) on SHEET through MASK (L, 255 = full ink)."""
    solid = Image.new("RGB", sheet.size, color)
    return Image.composite(solid, sheet, mask)


def ink_color(rng, pencil=False):
    """A pen's colour (black, blue, dark) or, with PENCIL, a mid gray."""
    if pencil:
        g = rng.randint(70, 140)
        return (g, g, g + rng.randint(0, 8))
    return rng.choice([(15, 15, 20), (30, 30, 35), (20, 35, 110), (10, 20, 70), (50, 45, 45)])


def place(mask, size, rng, fill=(0.45, 0.85)):
    """MASK (L) scaled so its larger side is a random fraction FILL of SIZE's smaller
    side, pasted at a random position on an empty SIZE mask."""
    w, h = size
    box = mask.getbbox()
    if box is None:
        return Image.new("L", size, 0)
    mask = mask.crop(box)
    target = rng.uniform(*fill) * min(w, h)
    scale = target / max(mask.size)
    mw, mh = max(1, round(mask.size[0] * scale)), max(1, round(mask.size[1] * scale))
    mask = mask.resize((mw, mh), Image.LANCZOS)
    out = Image.new("L", size, 0)
    out.paste(mask, (rng.randint(0, max(0, w - mw)), rng.randint(0, max(0, h - mh))))
    return out


def affine(mask, rng, max_rot=15, max_shear=0.3):
    """Rotates by up to MAX_ROT degrees and shears by up to MAX_SHEAR, on a canvas
    large enough to keep the whole glyph."""
    pad = max(mask.size) // 2
    mask = ImageOps.expand(mask, pad, 0)
    shear = rng.uniform(-max_shear, max_shear)
    w, h = mask.size
    mask = mask.transform((w, h), Image.AFFINE, (1, shear, -shear * h / 2, 0, 1, 0), Image.BICUBIC)
    return mask.rotate(rng.uniform(-max_rot, max_rot), Image.BICUBIC)


def encode(im, rng, jpeg_share=0.3, quality=(45, 92)):
    """(bytes, extension): PNG, or JPEG with probability JPEG_SHARE."""
    buf = io.BytesIO()
    if rng.random() < jpeg_share:
        im.convert("RGB" if im.mode not in ("L", "RGB") else im.mode).save(
            buf, "JPEG", quality=rng.randint(*quality))
        return buf.getvalue(), "jpg"
    im.save(buf, "PNG")
    return buf.getvalue(), "png"
