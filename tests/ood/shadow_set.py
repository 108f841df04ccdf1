"""MNIST test digits (5000 on, spread) as dark ink on paper photographed under a strong
cast shadow (a straight soft edge, 35-60 % of the light) and a lighting gradient, with
noise, a third JPEG. PIL only; deterministic. Usage: shadow_set.py OUT_DIR [COUNT]
(MNIST from ~/.cache/mnist-service/mnist). Measures flat-fielding in preprocessing."""
import os
import random
import sys
from PIL import Image, ImageDraw, ImageFilter, ImageChops

mn = os.path.expanduser('~/.cache/mnist-service/mnist')
out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
imgs = open(os.path.join(mn, 't10k-images-idx3-ubyte'), 'rb').read()[16:]
labels = open(os.path.join(mn, 't10k-labels-idx1-ubyte'), 'rb').read()[8:]
os.makedirs(out, exist_ok=True)
rng = random.Random(7)
rows = ['file,label']
for k in range(count):
    idx = 5000 + k * 5000 // count
    digit = Image.frombytes('L', (28, 28), imgs[idx * 784:(idx + 1) * 784])
    W, H = rng.choice([(256, 256), (320, 240), (400, 400), (640, 480)])
    side = int(min(W, H) * rng.uniform(0.45, 0.8))
    ink = digit.resize((side, side), Image.BICUBIC)
    paper_level = rng.randint(200, 245)
    # reflectance: paper 1, ink dark
    refl = Image.new('L', (W, H), 255)
    ink_dark = rng.randint(20, 70)
    mask = ink
    x0 = rng.randint(0, W - side); y0 = rng.randint(0, H - side)
    refl.paste(Image.new('L', (side, side), ink_dark * 255 // paper_level), (x0, y0), mask)
    # illumination: gradient times a hard-edged shadow polygon (blurred edge)
    light = Image.new('L', (W, H))
    g0, g1 = rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)
    horizontal = rng.random() < 0.5
    n = W if horizontal else H
    grad = Image.new('L', (n, 1))
    grad.putdata([int(255 * (g0 + (g1 - g0) * i / (n - 1))) for i in range(n)])
    grad = grad.resize((W, 1)) if horizontal else grad.resize((H, 1)).transpose(Image.ROTATE_90)
    light = grad.resize((W, H))
    shadow = Image.new('L', (W, H), 255)
    d = ImageDraw.Draw(shadow)
    depth = int(255 * rng.uniform(0.35, 0.6))
    # a cast shadow: the part of the sheet beyond a straight edge through it (a hand,
    # a phone), covering a quarter to two thirds of the image
    frac = rng.uniform(0.25, 0.65)
    side_ = rng.randrange(4)
    a = rng.uniform(-0.3, 0.3)
    if side_ in (0, 1):  # left or right part
        xa = W * frac if side_ == 0 else W * (1 - frac)
        top, bottom = (xa - a * W, 0), (xa + a * W, H)
        far = 0 if side_ == 0 else W
        pts = [top, bottom, (far, H), (far, 0)]
    else:
        ya = H * frac if side_ == 2 else H * (1 - frac)
        left, right = (0, ya - a * H), (W, ya + a * H)
        far = 0 if side_ == 2 else H
        pts = [left, right, (W, far), (0, far)]
    d.polygon(pts, fill=depth)
    shadow = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(1, 8)))
    light = ImageChops.multiply(light, shadow)
    photo = ImageChops.multiply(refl, light)
    photo = photo.point(lambda v: int(v * paper_level / 255))
    noise = Image.effect_noise((W, H), rng.uniform(3, 10)).point(lambda v: v - 128 + 128)
    photo = ImageChops.add(photo, noise, 1.0, -128)
    name = 'shadow-%05d.%s' % (k, 'jpg' if k % 3 == 0 else 'png')
    if name.endswith('jpg'):
        photo.save(os.path.join(out, name), quality=85)
    else:
        photo.save(os.path.join(out, name))
    rows.append('%s,%d' % (name, labels[idx]))
open(os.path.join(out, 'labels.csv'), 'w').write('\n'.join(rows) + '\n')
