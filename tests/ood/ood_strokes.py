"""The 'strokes' set: digits drawn as a person draws them on the web UI's pad.

The pad (www/app.js) is a 280x280 canvas, white, with a black pen 21 px wide
(LINE_WIDTH = 7.5 % of the width), round caps and joins; each pointer event adds a
straight segment; the drawing goes to the service as a PNG. Here a digit is a few
templates of pen strokes; each stroke is a list of smooth pieces that meet at sharp
corners. A drawing moves the control points a little (wobble), slants, rotates and
squeezes the digit, samples the pen's path at the rate pointer events come for a
random speed, adds tremor, and paints it as the canvas does.
"""
import math

from PIL import Image, ImageDraw

PAD = 280
UI_PEN = 21
SUPERSAMPLE = 2

# TEMPLATES[digit] = [drawing, ...]; drawing = [stroke, ...]; stroke = [piece, ...];
# piece = [(x, y), ...] in the digit's unit box (y down), smoothed by Catmull-Rom.
TEMPLATES = {
    0: [[[[(0.5, 0), (0.15, 0.2), (0.05, 0.55), (0.25, 0.95), (0.6, 0.98), (0.9, 0.6),
           (0.85, 0.2), (0.55, 0.0), (0.42, 0.06)]]],
        [[[(0.6, 0.02), (0.9, 0.3), (0.85, 0.8), (0.5, 1.0), (0.12, 0.8), (0.1, 0.3),
           (0.4, 0.0), (0.62, 0.05)]]]],
    1: [[[[(0.5, 0), (0.5, 1)]]],
        [[[(0.2, 0.22), (0.55, 0)], [(0.55, 0), (0.55, 1)]]],
        [[[(0.25, 0.2), (0.55, 0)], [(0.55, 0), (0.55, 1)]], [[(0.2, 1), (0.9, 1)]]]],
    2: [[[[(0.1, 0.25), (0.3, 0.03), (0.65, 0.02), (0.85, 0.25), (0.7, 0.55), (0.35, 0.8),
           (0.05, 1.0)], [(0.05, 1.0), (0.5, 0.98), (0.95, 0.97)]]],
        [[[(0.1, 0.2), (0.45, 0.0), (0.85, 0.2), (0.7, 0.55), (0.2, 0.95), (0.1, 0.85),
           (0.25, 0.8), (0.5, 0.95), (0.95, 1.0)]]]],
    3: [[[[(0.1, 0.1), (0.45, 0.0), (0.8, 0.15), (0.75, 0.38), (0.4, 0.48)],
          [(0.4, 0.48), (0.85, 0.62), (0.85, 0.88), (0.5, 1.0), (0.1, 0.9)]]],
        [[[(0.1, 0.0), (0.9, 0.0)], [(0.9, 0.0), (0.4, 0.4)],
          [(0.4, 0.4), (0.8, 0.5), (0.9, 0.75), (0.6, 0.98), (0.1, 0.9)]]]],
    4: [[[[(0.3, 0.0), (0.05, 0.65)], [(0.05, 0.65), (0.95, 0.65)]], [[(0.72, 0.3), (0.72, 1.0)]]],
        [[[(0.7, 0.0), (0.0, 0.7)], [(0.0, 0.7), (1.0, 0.7)]], [[(0.7, 0.0), (0.7, 1.0)]]]],
    5: [[[[(0.85, 0.0), (0.2, 0.0)], [(0.2, 0.0), (0.12, 0.45)],
          [(0.12, 0.45), (0.5, 0.38), (0.85, 0.6), (0.8, 0.9), (0.45, 1.0), (0.1, 0.9)]]],
        [[[(0.2, 0.0), (0.12, 0.45)],
          [(0.12, 0.45), (0.5, 0.38), (0.85, 0.6), (0.8, 0.9), (0.45, 1.0), (0.1, 0.9)]],
         [[(0.2, 0.0), (0.85, 0.0)]]]],
    6: [[[[(0.75, 0.0), (0.35, 0.25), (0.1, 0.65), (0.3, 0.98), (0.7, 0.95), (0.85, 0.7),
           (0.6, 0.5), (0.25, 0.6), (0.12, 0.72)]]],
        [[[(0.7, 0.0), (0.25, 0.45), (0.15, 0.8), (0.45, 1.0), (0.8, 0.8), (0.6, 0.55),
           (0.2, 0.7)]]]],
    7: [[[[(0.05, 0.0), (0.95, 0.0)], [(0.95, 0.0), (0.55, 0.5), (0.35, 1.0)]]],
        [[[(0.05, 0.0), (0.95, 0.0)], [(0.95, 0.0), (0.6, 0.5), (0.4, 1.0)]],
         [[(0.4, 0.5), (0.85, 0.5)]]],
        [[[(0.05, 0.15), (0.05, 0.0)], [(0.05, 0.0), (0.95, 0.0)], [(0.95, 0), (0.4, 1.0)]]]],
    8: [[[[(0.8, 0.1), (0.5, 0.0), (0.2, 0.12), (0.25, 0.35), (0.5, 0.5), (0.8, 0.68),
           (0.75, 0.92), (0.5, 1.0), (0.22, 0.9), (0.2, 0.68), (0.5, 0.5), (0.75, 0.32),
           (0.78, 0.12)]]],
        [[[(0.5, 0.0), (0.2, 0.22), (0.5, 0.45), (0.8, 0.22), (0.5, 0.0)]],
         [[(0.5, 0.45), (0.15, 0.72), (0.5, 1.0), (0.85, 0.72), (0.5, 0.45)]]]],
    9: [[[[(0.85, 0.15), (0.5, 0.0), (0.15, 0.2), (0.25, 0.45), (0.6, 0.45), (0.85, 0.2)],
          [(0.85, 0.2), (0.8, 0.6), (0.7, 1.0)]]],
        [[[(0.85, 0.2), (0.5, 0.0), (0.15, 0.2), (0.3, 0.45), (0.85, 0.3), (0.85, 0.25)],
          [(0.85, 0.25), (0.85, 0.7), (0.6, 1.0), (0.3, 0.95)]]]],
}


def catmull_rom(points, per_unit=60):
    """Dense points on the Catmull-Rom spline through POINTS (end points repeated)."""
    if len(points) < 2:
        return list(points)
    ext = [points[0]] + list(points) + [points[-1]]
    out = [points[0]]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        n = max(2, int(math.dist(p1, p2) * per_unit))
        for k in range(1, n + 1):
            t = k / n
            out.append(tuple(0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t * t
                                    + (-a + 3 * b - 3 * c + d) * t ** 3)
                             for a, b, c, d in zip(p0, p1, p2, p3)))
    return out


def wobble(drawing, rng, amount):
    """The drawing with every control point moved by up to AMOUNT; points shared by two
    pieces (corners) move together."""
    moved = {}

    def move(p):
        if p not in moved:
            moved[p] = (p[0] + rng.gauss(0, amount), p[1] + rng.gauss(0, amount))
        return moved[p]
    return [[[move(p) for p in piece] for piece in stroke] for stroke in drawing]


def shape_transform(rng, size, centre):
    """A function from the unit box to pad pixels: squeeze, slant, rotation, size and
    position of the whole digit."""
    aspect = rng.uniform(0.55, 1.05)
    shear = rng.uniform(-0.35, 0.2)  # most people slant to the right
    angle = math.radians(rng.uniform(-12, 12))
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = centre

    def to_pad(p):
        x, y = (p[0] - 0.5) * aspect, p[1] - 0.5
        x += shear * y
        x, y = x * cos - y * sin, x * sin + y * cos
        return (cx + x * size, cy + y * size)
    return to_pad


def pointer_samples(path, rng, speed):
    """The points where pointer events would land along PATH (pad pixels), at SPEED
    pixels per event, with a little tremor."""
    out, travelled, since = [path[0]], 0.0, 0.0
    for a, b in zip(path, path[1:]):
        step = math.dist(a, b)
        travelled += step
        since += step
        if since >= speed:
            out.append((b[0] + rng.gauss(0, 0.6), b[1] + rng.gauss(0, 0.6)))
            since = 0.0
    if out[-1] != path[-1]:
        out.append(path[-1])
    return out


def paint(strokes, width, size=PAD):
    """Strokes (lists of pad points) painted as the canvas does: black segments with
    round caps and joins on white, anti-aliased by supersampling. Returns L."""
    s = SUPERSAMPLE
    im = Image.new("L", (size * s, size * s), 255)
    d = ImageDraw.Draw(im)
    r = width * s / 2
    for pts in strokes:
        big = [(x * s, y * s) for x, y in pts]
        if len(big) > 1:
            d.line(big, fill=0, width=round(width * s))
        for x, y in big:  # round caps and joins
            d.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return im.resize((size, size), Image.LANCZOS)


def trajectories(rng, label, size=None, centre=None):
    """The pointer positions of one drawing of LABEL on the pad: a list of strokes."""
    drawing = wobble(rng.choice(TEMPLATES[label]), rng, rng.uniform(0.01, 0.045))
    size = size or rng.uniform(0.4, 0.8) * PAD
    if centre is None:
        slack = (PAD - size) / 2 - UI_PEN
        centre = (PAD / 2 + rng.uniform(-slack, slack) * 0.8, PAD / 2 + rng.uniform(-slack, slack) * 0.6)
    to_pad = shape_transform(rng, size, centre)
    speed = rng.uniform(2, 22)
    strokes = []
    for stroke in drawing:
        path = []
        for piece in stroke:
            path += [to_pad(p) for p in catmull_rom(piece)]
        strokes.append(pointer_samples(path, rng, speed))
    return strokes


def drawing_image(rng, label, width=None, size=None, centre=None):
    """One drawing of LABEL as the pad shows it (L, black on white, 280x280)."""
    width = width or (UI_PEN if rng.random() < 0.7 else rng.randint(12, 30))
    return paint(trajectories(rng, label, size, centre), width)


def make(rng, label, _fonts=None):
    """One image of digit LABEL, as the UI sends it: (bytes, extension)."""
    import io
    im = drawing_image(rng, label)
    buf = io.BytesIO()
    im.convert("RGBA" if rng.random() < 0.5 else "L").save(buf, "PNG")
    return buf.getvalue(), "png"
