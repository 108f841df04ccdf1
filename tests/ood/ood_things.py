"""The 'things' set: photographs with no digit in them (a cat, an astronaut, coffee,
coins, a rocket, the moon, gravel, a horse's silhouette ...), cropped and scaled as
people send photos. The right answer is 422 "no digit found" or a confidence under the
web UI's "not sure" threshold, as for the nondigit set, whose pictures are drawn.

The photographs are scikit-image's sample images as Debian ships them in
python3-skimage: the package is fetched with `apt-get download` and unpacked into the
cache, never installed and never committed. Its text and page images are left out
(they show writing, digits among it), and so are its synthetic patterns."""
import glob
import math
import os
import shutil
import subprocess

from PIL import Image

import ood_paper as P

PACKAGE = "python3-skimage"
DATA = "usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ("astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png",
          "clock_motion.png", "coffee.png", "coins.png", "color.png", "grass.png",
          "gravel.png", "horse.png", "hubble_deep_field.jpg", "ihc.png", "logo.png",
          "microaneurysms.png", "moon.png", "motorcycle_left.png", "motorcycle_right.png",
          "retina.jpg", "rocket.jpg")


def photo_files(cache):
    """The photographs' paths, unpacked under CACHE once. Exits with a message when
    Debian's package cannot be fetched (apt-get download needs the package lists)."""
    root = os.path.join(cache, PACKAGE)
    paths = [os.path.join(root, DATA, p) for p in PHOTOS]
    if all(os.path.exists(p) for p in paths):
        return paths
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    r = subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, capture_output=True, text=True)
    debs = glob.glob(os.path.join(tmp, PACKAGE + "_*.deb"))
    if r.returncode or not debs:
        raise SystemExit(f"ood: cannot fetch {PACKAGE} for the 'things' set: "
                         f"apt-get download said {r.stderr.strip()[-300:]!r} "
                         "(run apt-get update first)")
    subprocess.run(["dpkg-deb", "-x", debs[0], tmp], check=True)
    os.remove(debs[0])
    shutil.rmtree(root, ignore_errors=True)
    os.rename(tmp, root)
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise SystemExit(f"ood: {PACKAGE} lacks {missing}")
    return paths


def crop(rng, im):
    """A random crop: 30-100 % of the short side, aspect 3:4 to 4:3, anywhere."""
    w, h = im.size
    side = rng.uniform(0.3, 1.0) * min(w, h)
    stretch = math.sqrt(rng.uniform(0.75, 4 / 3))
    cw, ch = min(w, round(side * stretch)), min(h, round(side / stretch))
    x0, y0 = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return im.crop((x0, y0, x0 + cw, y0 + ch))


def make(rng, index, photos):
    """Picture number INDEX: the photographs in turn, cropped; its longer side 64 to
    400 px; a third gray, a third JPEG. (bytes, extension)."""
    im = crop(rng, Image.open(photos[index % len(photos)]).convert("RGB"))
    longest = rng.choice([64, 128, 200, 280, 400])
    s = longest / max(im.size)
    im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.BICUBIC)
    if rng.random() < 0.33:
        im = im.convert("L")
    return P.encode(im, rng, jpeg_share=0.33)
