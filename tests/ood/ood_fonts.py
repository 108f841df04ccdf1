"""The 'fonts' set: digits typed in handwriting-like and ordinary fonts, then put on
paper with a random pen width (6-16 % of the digit's height, as pens and markers
write), size, slant, position, ruling and compression."""
import glob
import os

from PIL import Image, ImageDraw, ImageFilter, ImageFont

import ood_paper as P

FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype")

# Handwriting-like fonts (Debian packages in bootstrap's test_packages) and ordinary
# ones. Glob patterns under FONT_DIRS. Not femkeklaver: its digits are hollow outlines,
# which nobody writes.
HANDWRITING = ("fifthhorseman/dkg*.ttf", "breip/Breip.ttf", "humor-sans/*.ttf",
               "bwht/*.otf", "dancingscript/*.otf", "kristi/*.ttf",
               "klee/*.ttf", "comic-neue/*.otf", "kaushanscript/*.otf")
ORDINARY = ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSerif.ttf",
            "dejavu/DejaVuSansMono.ttf", "dejavu/DejaVuSans-Oblique.ttf",
            "dejavu/DejaVuSansCondensed.ttf", "liberation/LiberationSans-Regular.ttf",
            "liberation/LiberationSerif-Regular.ttf", "liberation/LiberationMono-Regular.ttf",
            "liberation/LiberationSans-Italic.ttf", "freefont/FreeSans.ttf",
            "freefont/FreeSerifItalic.ttf", "freefont/FreeMono.ttf")


def font_files(patterns):
    """Installed font files matching PATTERNS, sorted (the same list on every run)."""
    found = set()
    for d in FONT_DIRS:
        for pat in patterns:
            found.update(glob.glob(os.path.join(d, pat)))
    return sorted(found)


def all_fonts():
    """(handwriting fonts, ordinary fonts); exits when none of the former is installed."""
    hand, plain = font_files(HANDWRITING), font_files(ORDINARY)
    if not hand:
        raise SystemExit("ood: no handwriting fonts installed (run ./bootstrap --test as root)")
    return hand, plain


def pick_font(rng, fonts):
    hand, plain = fonts
    # two in three from handwriting fonts: they are closer to what people send
    return rng.choice(hand if rng.random() < 0.67 or not plain else plain)


def glyph(text, font_path, px, stroke=0):
    """TEXT rendered white on black (L) at PX pixels, cropped to its ink."""
    font = ImageFont.truetype(font_path, px)
    im = Image.new("L", (px * 3, px * 2), 0)
    ImageDraw.Draw(im).text((px // 2, px // 4), text, fill=255, font=font,
                            stroke_width=stroke, stroke_fill=255)
    box = im.getbbox()
    return im.crop(box) if box else im


def stroke_thickness(mask):
    """The mean stroke width of a glyph mask, in pixels: a band of width t and length L
    has t*L ink pixels, of which 2*L lie on its edge (removed by a 3x3 erosion)."""
    ink = sum(mask.point(lambda v: 255 if v >= 128 else 0).histogram()[128:])
    inner = sum(mask.filter(ImageFilter.MinFilter(3)).point(lambda v: 255 if v >= 128 else 0).histogram()[128:])
    return 2 * ink / (ink - inner) if ink > inner else 0.0


def with_pen(mask, rng, lo=0.06, hi=0.16):
    """MASK with its strokes made a random width between LO and HI of its height (a
    pen, a marker), by dilation or erosion: never a blob, never broken into dashes."""
    box = mask.getbbox()
    if box is None:
        return mask
    height = box[3] - box[1]
    want = rng.uniform(lo, hi) * height
    k = round((want - stroke_thickness(mask)) / 2)
    if k > 0:
        return mask.filter(ImageFilter.MaxFilter(2 * k + 1))
    if k < 0 and stroke_thickness(mask) + 2 * k >= 0.05 * height:
        return mask.filter(ImageFilter.MinFilter(2 * -k + 1))
    return mask


def digit_mask(rng, label, fonts, px):
    """Digit LABEL in a random font at PX pixels with a random pen width, white on
    black (L), cropped to its ink."""
    mask = with_pen(glyph(str(label), pick_font(rng, fonts), px), rng)
    box = mask.getbbox()
    return mask.crop(box) if box else mask


def make(rng, label, fonts):
    """One image of digit LABEL: (bytes, extension)."""
    mask = digit_mask(rng, label, fonts, rng.randint(48, 120))
    mask = P.affine(mask, rng, max_rot=12, max_shear=0.25)
    size = rng.choice([(64, 64), (112, 112), (160, 120), (200, 200), (280, 280), (320, 240)])
    mask = P.place(mask, size, rng, fill=(0.4, 0.9))
    sheet = P.paper(rng, size, lines="random")
    im = P.ink(sheet, mask, P.ink_color(rng, pencil=rng.random() < 0.2))
    if rng.random() < 0.5:
        im = im.convert("L")
    return P.encode(im, rng, jpeg_share=0.3)
