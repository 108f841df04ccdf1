#!/usr/bin/python3
"""Shared helpers of the integration tests (tests/integration/*.sh) and of the serving
benchmark (tests/bench/serve-speed.sh): MNIST test images, image encoders, model file
variants, an HTTP client with keep-alive connections, and the "ok/not ok" lines that
the shell scripts turn into tests/lib.sh results.

Checks print one line each, "ok<TAB>WHAT" or "not ok<TAB>WHAT"; anything else (lines
starting with "#") is information. Run it with Debian's /usr/bin/python3: PIL (JPEG,
GIF, BMP encoders and resizing) comes from the python3-pil package.

    mnist_http.py api URL DATA                  the formats, answers and errors of /predict
    mnist_http.py accuracy URL DATA N M         accuracy over HTTP on N test images as they
                                                are, M as a user would send them
    mnist_http.py no-model URL                  the answers before a model exists
    mnist_http.py publish SRC DST URL           atomic publish, then time until /health shows it
    mnist_http.py swap-under-load URL DATA DST VARIANT...
                                                replace the model while requests flow
    mnist_http.py refuse URL DATA DST BAD...    corrupt replacements leave the old model serving
    mnist_http.py low-res-temperature SRC DST URL DATA   temperature_low_res on an 8x8 digit only
    mnist_http.py deskew SRC DST URL            "deskew" in the metadata stands a leaning bar up
    mnist_http.py kill URL DATA LIGHTTPD_PID MODE
                                                kill -9 mnist-fcgi, time until /health is 200
    mnist_http.py variant SRC DST N             a valid model file that differs from SRC
    mnist_http.py corrupt SRC DIR               truncated, garbage, NaN, ... model files in DIR
    mnist_http.py png DATA INDEX FILE           test image INDEX as a 28x28 PNG; prints its label
    mnist_http.py multipart-body DATA FILE      a multipart body with one 28x28 PNG (benchmark)
    mnist_http.py startup-time CMD...           ms from exec of CMD to /health 200 ($URL)
"""
import base64
import gzip
import hashlib
import http.client
import io
import json
import math
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor

try:
    from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
except ImportError:  # only the encoders need it; they say so when used
    Image = ImageChops = ImageDraw = ImageFilter = ImageFont = None

FAILURES = 0


def ok(cond, what, detail=None):
    """Prints one check line; returns cond."""
    global FAILURES
    if cond:
        print(f"ok\t{what}", flush=True)
    else:
        FAILURES += 1
        print(f"not ok\t{what}", flush=True)
        if detail is not None:
            for line in str(detail).splitlines()[:12]:
                print(f"#   {line[:400]}", flush=True)
    return bool(cond)


def info(msg):
    print(f"# {msg}", flush=True)


# ------------------------------------------------------------------ MNIST data
def read_idx(data, split="t10k"):
    """(images as 784-byte strings, labels) of the MNIST split in DATA (raw or .gz)."""
    def load(name):
        for path in (os.path.join(data, name), os.path.join(data, name + ".gz")):
            if os.path.exists(path):
                raw = open(path, "rb").read()
                return gzip.decompress(raw) if path.endswith(".gz") else raw
        sys.exit(f"mnist_http.py: no {name} in {data}")
    img = load(f"{split}-images-idx3-ubyte")
    lab = load(f"{split}-labels-idx1-ubyte")
    magic, n, rows, cols = struct.unpack(">IIII", img[:16])
    assert magic == 2051 and rows == cols == 28, "not an IDX image file"
    assert struct.unpack(">II", lab[:8]) == (2049, n), "labels do not match the images"
    return [img[16 + i * 784:16 + (i + 1) * 784] for i in range(n)], list(lab[8:8 + n])


# ------------------------------------------------------------------ encoders
def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(pixels, width=28, height=28, channels=1):
    """An 8-bit PNG, written here (no PIL): channels 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA."""
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    stride = width * channels
    rows = b"".join(b"\0" + bytes(pixels[r * stride:(r + 1) * stride]) for r in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b""))


def png_header_only(width, height):
    """A PNG whose header claims WIDTHxHEIGHT, with a token IDAT: a decompression bomb."""
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + _chunk(b"IEND", b""))


def need_pil():
    if Image is None:
        sys.exit("mnist_http.py: PIL is needed (Debian package python3-pil; run with /usr/bin/python3)")


def gray_image(pixels, size=(28, 28)):
    need_pil()
    return Image.frombytes("L", size, bytes(pixels))


def encode(im, fmt, **kw):
    need_pil()
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def user_like(pixels, rng, fmt):
    """An MNIST digit as a user would send it: black on white, scaled x10 (nearest or
    bilinear), placed off-centre on a larger page of another aspect ratio, as PNG
    (gray, RGB or with transparency) or JPEG. Returns (bytes, content type)."""
    need_pil()
    im = gray_image(bytes(255 - p for p in pixels))
    im = im.resize((280, 280), rng.choice([Image.NEAREST, Image.BILINEAR]))
    page_w, page_h = rng.choice([(360, 400), (420, 320), (320, 320), (480, 360)])
    page = Image.new("L", (page_w, page_h), 255)
    page.paste(im, (rng.randint(0, page_w - 280), rng.randint(0, page_h - 280)))
    if fmt == "jpeg":
        return encode(page.convert("RGB"), "JPEG", quality=rng.choice([75, 85, 92])), "image/jpeg"
    mode = rng.choice(["L", "RGB", "LA"])
    if mode == "LA":  # black ink on a transparent sheet: composited on white
        alpha = Image.frombytes("L", page.size, bytes(255 - v for v in page.tobytes()))
        page = Image.merge("LA", (Image.new("L", page.size, 0), alpha))
    else:
        page = page.convert(mode)
    return encode(page, "PNG"), "image/png"


def multipart(parts, boundary="----mnistTestBoundary7MA4YWxkTrZu0gW"):
    """parts: [(name, filename or None, content type or None, bytes)] -> (body, type)."""
    body = b""
    for name, filename, ctype, content in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode()
        if ctype:
            body += f"Content-Type: {ctype}\r\n".encode()
        body += b"\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------ HTTP
class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def __repr__(self):
        return f"HTTP {self.status} {self.header('content-type')} {self.body[:300]!r}"


class Client:
    """One keep-alive connection per thread. retry=True reopens a connection the server
    closed while idle and sends the request once more; the load tests count every
    error instead (retry=False)."""

    def __init__(self, url, timeout=30, retry=True):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.timeout = timeout
        self.retry = retry
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return c

    def close(self):
        c = getattr(self.local, "conn", None)
        if c is not None:
            c.close()
            self.local.conn = None

    def request(self, method, path, body=None, ctype=None, headers=None):
        h = dict(headers or {})
        if ctype is not None:
            h["Content-Type"] = ctype
        if body is not None and "Content-Length" not in h:
            h["Content-Length"] = str(len(body))
        for attempt in (0, 1):
            c = self._conn()
            try:
                c.request(method, path, body=body, headers=h)
                r = c.getresponse()
                data = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if r.will_close:
                    self.close()
                return Response(r.status, hdrs, data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt or not self.retry:
                    raise
        raise AssertionError("unreachable")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body, ctype):
        return self.request("POST", path, body, ctype)


def health(client):
    r = client.get("/health")
    return r.status, (r.json() or {})


def is_error_json(r, status, code=None):
    """True when r is STATUS with a JSON body {"error": {"code", "message"}}."""
    j = r.json()
    return (r.status == status and r.header("content-type").startswith("application/json")
            and isinstance(j, dict) and isinstance(j.get("error"), dict)
            and isinstance(j["error"].get("code"), str) and isinstance(j["error"].get("message"), str)
            and j["error"]["message"] != "" and (code is None or j["error"]["code"] == code))


def answer_problems(r, version=None):
    """What is wrong with a /predict answer (empty list: nothing)."""
    problems = []
    j = r.json()
    if r.status != 200 or not isinstance(j, dict):
        return [f"not a 200 JSON answer: {r!r}"]
    if not r.header("content-type").startswith("application/json"):
        problems.append("Content-Type " + r.header("content-type"))
    p = j.get("probabilities")
    if not (isinstance(p, list) and len(p) == 10 and all(isinstance(v, (int, float)) for v in p)):
        return problems + [f"probabilities: {p!r}"]
    if not all(0.0 <= v <= 1.0 for v in p) or abs(sum(p) - 1.0) > 1e-4:
        problems.append(f"probabilities sum to {sum(p)}")
    best = max(range(10), key=lambda k: p[k])
    if j.get("prediction") != best or isinstance(j.get("prediction"), bool):
        problems.append(f"prediction {j.get('prediction')!r} is not the argmax {best}")
    if not isinstance(j.get("confidence"), (int, float)) or abs(j["confidence"] - p[best]) > 1e-6:
        problems.append(f"confidence {j.get('confidence')!r} is not the top probability {p[best]}")
    m = j.get("model")
    if not (isinstance(m, dict) and isinstance(m.get("version"), str) and len(m["version"]) == 12
            and isinstance(m.get("created"), str) and m["created"]):
        problems.append(f"model: {m!r}")
    elif version is not None and m["version"] != version:
        problems.append(f"model version {m['version']} is not {version}")
    return problems


def pmap(fn, items, threads=4):
    with ThreadPoolExecutor(max_workers=threads) as ex:
        return list(ex.map(fn, items))


# ------------------------------------------------------------------ model files
def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_safetensors(path, header, data):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def model_version(path):
    """The service's version of a model file: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(open(path, "rb").read()).hexdigest()[:12]


def make_variant(src, dst, n):
    """A valid model that differs from SRC: fc2.bias nudged by n * 1e-5 (the predictions
    stay the same) and its own creation time. Returns its version."""
    header, data = read_safetensors(src)
    begin, end = header["fc2.bias"]["data_offsets"]
    data = bytearray(data)
    bias = list(struct.unpack(f"<{(end - begin) // 4}f", data[begin:end]))
    bias = [b + n * 1e-5 for b in bias]
    data[begin:end] = struct.pack(f"<{len(bias)}f", *bias)
    meta = header.setdefault("__metadata__", {})
    meta["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400 * n))
    write_safetensors(dst, header, bytes(data))
    return model_version(dst)


def make_corrupt(src, out_dir):
    """Model files the service must refuse: truncated, garbage, a NaN weight, a header
    that lies about its length, a deskewing step it does not know. Returns their
    paths."""
    raw = open(src, "rb").read()
    rng = random.Random(7)
    files = {
        "truncated": raw[:len(raw) * 3 // 5],
        "garbage": bytes(rng.getrandbits(8) for _ in range(4096)) * (len(raw) // 4096),
        "empty": b"",
        "bad-header-length": struct.pack("<Q", 1 << 40) + raw[8:],
    }
    header, data = read_safetensors(src)
    begin, _ = header["fc1.weight"]["data_offsets"]
    nan = bytearray(data)
    nan[begin + 400:begin + 404] = struct.pack("<f", math.nan)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    files["nan-weight"] = struct.pack("<Q", len(text)) + text + bytes(nan)
    header.setdefault("__metadata__", {})["deskew"] = "hough"
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    files["unknown-deskew"] = struct.pack("<Q", len(text)) + text + data
    paths = []
    for name, content in files.items():
        path = os.path.join(out_dir, f"{name}.safetensors")
        with open(path, "wb") as f:
            f.write(content)
        paths.append(path)
    return paths


def publish(src, dst):
    """Atomic publish as the trainer does it: a temporary file beside DST, renamed."""
    tmp = f"{dst}.tmp.{os.getpid()}"
    with open(src, "rb") as f, open(tmp, "wb") as g:
        g.write(f.read())
        g.flush()
        os.fsync(g.fileno())
    os.rename(tmp, dst)


def wait_health(client, cond, timeout, step=0.01):
    """Polls /health until cond(status, json); returns (seconds, status, json) or
    (None, last status, last json) after TIMEOUT seconds."""
    t0 = time.monotonic()
    st, j = None, {}
    while time.monotonic() - t0 < timeout:
        try:
            st, j = health(client)
        except OSError as e:
            st, j = repr(e), {}
            client.close()
        if cond(st, j):
            return time.monotonic() - t0, st, j
        time.sleep(step)
    return None, st, j


# ------------------------------------------------------------------ the checks
def pick_samples(client, images, labels, per_class=2):
    """Test images (per_class of each digit) that the service reads right, with a clear
    margin, when sent as plain 28x28 PNGs: the baseline every other way of sending them
    must agree with."""
    chosen, count = [], [0] * 10
    for i in range(len(images)):
        if count[labels[i]] >= per_class:
            continue
        r = client.post("/predict", png(images[i]), "image/png")
        j = r.json() or {}
        if r.status == 200 and j.get("prediction") == labels[i] and j.get("confidence", 0) > 0.95:
            chosen.append(i)
            count[labels[i]] += 1
        if len(chosen) == 10 * per_class or i > 2000:
            break
    return chosen


# Thick digits stored at 8x8, dark on light, filling their canvas: ink on most of the
# border, so that the border's median is no paper level and the polarity it gives is
# wrong; the service reads such an image both ways round and keeps the surer reading.
FILLED_DIGITS = {
    0: [[255, 96, 0, 0, 16, 96, 239, 255], [159, 0, 0, 159, 80, 0, 64, 255],
        [112, 0, 32, 255, 175, 0, 0, 239], [127, 0, 64, 255, 255, 64, 0, 191],
        [191, 0, 16, 255, 255, 127, 0, 127], [239, 0, 0, 159, 255, 112, 0, 96],
        [255, 64, 0, 16, 159, 16, 0, 80], [255, 239, 112, 16, 0, 0, 64, 223]],
    8: [[159, 16, 0, 0, 0, 64, 207, 255], [64, 0, 175, 255, 143, 0, 32, 255],
        [96, 0, 143, 255, 239, 0, 0, 255], [239, 32, 0, 32, 16, 0, 80, 255],
        [207, 0, 16, 143, 143, 32, 0, 175], [223, 0, 112, 255, 255, 223, 0, 80],
        [255, 16, 16, 175, 255, 175, 0, 48], [255, 191, 48, 0, 0, 0, 16, 159]],
}


def check_filled_canvas(c, version):
    for label, rows in FILLED_DIGITS.items():
        small = bytes(v for row in rows for v in row)
        for scale in (1, 10):  # as stored, and scaled up blocky
            pixels = bytes(small[(y // scale) * 8 + x // scale]
                           for y in range(8 * scale) for x in range(8 * scale))
            r = c.post("/predict", png(pixels, 8 * scale, 8 * scale), "image/png")
            j = r.json() or {}
            ok(not answer_problems(r, version) and j.get("prediction") == label,
               f"a thick {label} filling its {8 * scale}x{8 * scale} canvas, dark on light: read as {label}", r)
        # saved with the 17 levels it was stored in (0..16), not scaled to 0..255
        r = c.post("/predict", png(bytes((v * 16 + 127) // 255 for v in small), 8, 8), "image/png")
        j = r.json() or {}
        ok(not answer_problems(r, version) and j.get("prediction") == label,
           f"a thick {label} filling its 8x8 canvas, in levels 0..16: read as {label}", r)


def marked(pixels, mark):
    """A test digit x4, dark on a white 200x200 page, with a box drawn round it, a ring,
    a comb (a line under it, with ticks rising beside it) or a line under it."""
    page = Image.new("L", (200, 200), 255)
    page.paste(gray_image(pixels).resize((112, 112), Image.BICUBIC).point(lambda v: 255 - v), (44, 44))
    draw = ImageDraw.Draw(page)
    if mark == "in a box":
        draw.rectangle((25, 25, 174, 174), outline=0, width=3)
    elif mark == "circled":
        draw.ellipse((18, 18, 181, 181), outline=0, width=3)
    elif mark == "in a form's comb":
        draw.line((12, 150, 12, 182, 188, 182, 188, 150), fill=0, width=3)
    else:
        draw.line((30, 170, 170, 170), fill=0, width=3)
    return page


def on_desk(pixels, level=70, left=60):
    """A test digit x4, dark on a white 170x170 sheet lying on a 300x300 desk, dark
    (level 70) or light (170: the sheet is lighter still), its grain of sigma 5 as a
    camera sees it; the sheet `left` pixels from the desk's left edge."""
    rng = random.Random(level)
    desk = Image.new("L", (300, 300))
    desk.putdata([min(255, max(0, round(rng.gauss(level, 5)))) for _ in range(300 * 300)])
    desk.paste(230, (left, 70, left + 170, 240))
    desk.paste(30, (left + 29, 99), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    return desk


def turned_note(pixels, angle=15, note_side=170, desk_side=300, desk_level=70):
    """A test digit x4, dark (30) on a white (230) note `note_side` pixels a side turned
    by `angle` degrees, lying on a dark (`desk_level`) desk `desk_side` pixels a side: a
    turned note's box has desk in its corners."""
    note = Image.new("L", (note_side, note_side), 230)
    at = (note_side - 112) // 2
    note.paste(30, (at, at), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    turned = note.rotate(angle, Image.BICUBIC, expand=True)
    mask = Image.new("L", (note_side, note_side), 255).rotate(angle, Image.BICUBIC, expand=True)
    desk = Image.new("L", (desk_side, desk_side), desk_level)
    desk.paste(turned, ((desk_side - turned.width) // 2, (desk_side - turned.height) // 2), mask)
    return desk


def under_a_shadow(pixels):
    """A test digit x4, in pencil (60) on white (235) paper 240x240, a shadow
    darkening the page right of x = 100 (through the digit) to 55 %, its edge blurred
    over a few pixels: the lit paper on the border lies further from the shade than
    the ink does."""
    page = Image.new("L", (240, 240), 235)
    page.paste(60, (64, 64), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    light = Image.new("L", (240, 240), 255)
    light.paste(140, (100, 0, 240, 240))
    return ImageChops.multiply(page, light.filter(ImageFilter.BoxBlur(2)))


def on_squared_paper(pixels, angle=4, falloff=True):
    """A test digit x4, in pencil (120) on squared paper (225, lines of 180 every 26
    px), photographed turned by `angle` degrees, under light falling off to 75 % across
    the 260x260 page (or evenly lit, without `falloff`), slightly out of focus: the
    lines cross the picture at a slant, nearly as dark as the pencil's fainter strokes."""
    page = Image.new("L", (400, 400), 225)
    draw = ImageDraw.Draw(page)
    for k in range(0, 400, 26):
        draw.line((k, 0, k, 399), fill=180, width=2)
        draw.line((0, k, 399, k), fill=180, width=2)
    page.paste(120, (144, 144), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    page = page.rotate(angle, Image.BICUBIC).crop((70, 70, 330, 330))
    if falloff:
        light = Image.linear_gradient("L").rotate(90).resize((260, 260)).point(lambda v: 191 + v // 4)
        page = ImageChops.multiply(page, light)
    return page.filter(ImageFilter.GaussianBlur(0.8))


def with_a_thumb(pixels):
    """A test digit x4, dark (35) on paper (228) 260x260, photographed with a thumb
    over the bottom left corner: a gray (120) half-ellipse 50 wide and 100 tall."""
    page = Image.new("L", (260, 260), 228)
    page.paste(35, (74, 74), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    ImageDraw.Draw(page).ellipse((-50, 160, 50, 360), fill=120)
    return page.filter(ImageFilter.GaussianBlur(0.8))


PRINT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core


def with_captions(pixels):
    """A test digit x4, dark (35) on paper (228) 260x260, on a worksheet: a line of
    print (DejaVu Sans, 14 px) over it and another under it."""
    page = Image.new("L", (260, 260), 228)
    page.paste(35, (74, 64), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(PRINT_FONT, 14)
    draw.text((40, 20), "Write a digit here", fill=40, font=font)
    draw.text((90, 222), "Question 3", fill=40, font=font)
    return page


def with_a_label(pixels):
    """A test digit x4, dark (35) on paper (228) 300x200, on a worksheet's line:
    "Answer:" (DejaVu Sans, 14 px) before it, on its baseline."""
    page = Image.new("L", (300, 200), 228)
    page.paste(35, (150, 44), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    ImageDraw.Draw(page).text((140, 120), "Answer:", fill=40, font=ImageFont.truetype(PRINT_FONT, 14),
                              anchor="rs")
    return page


def all_read(c, images, labels, samples, version, picture, what):
    """One check: every sample, sent as picture(pixels) gives it (body, content type),
    is read as its digit."""
    bad = []
    for i in samples:
        r = c.post("/predict", *picture(images[i]))
        j = r.json() or {}
        if answer_problems(r, version) or j.get("prediction") != labels[i]:
            bad.append((i, j.get("prediction"), labels[i]))
    ok(not bad, f"POST /predict of digits {what}: every one read as the digit", bad)


def with_punched_holes(pixels):
    """A test digit x4, dark (35) on paper (228) 260x260, scanned with a dark lid: two
    binder's holes, dark discs 17 px across, 3 px from the left edge."""
    page = Image.new("L", (260, 260), 228)
    page.paste(35, (74, 74), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    draw = ImageDraw.Draw(page)
    for y in (40, 220):
        draw.ellipse((3, y - 8, 19, y + 8), fill=20)
    return page


def check_marks(c, images, labels, samples, version):
    def as_jpeg(im):
        return encode(im, "JPEG", quality=85), "image/jpeg"

    def as_png(im):
        return encode(im, "PNG"), "image/png"

    # the light desk's sheet near its edge: the light of the sheet on the border looks
    # like paper that a shadow darkens elsewhere
    for level, left, desk in ((70, 60, "a dark desk"), (170, 14, "a light desk, near its edge")):
        all_read(c, images, labels, samples, version,
                 lambda p: as_jpeg(on_desk(p, level, left)), f"on a sheet lying on {desk}")
    # a turned digit can read as another (MNIST's test 8, a 5 with a closed loop, as a 6)
    # with no desk at all: the desk is judged on the digits read right, and surely (the
    # web page's 0.8), on a turned page as white as the note. Turned by 25 degrees, a
    # note fills 57 % of its box, and the sheet's cut goes a quarter of the box in (until
    # 2026-12-06 the note was read whole, as a 0)
    for angle in (15, 25):
        answers = {i: c.post("/predict", *as_jpeg(turned_note(images[i], angle, desk_level=230)))
                   .json() or {} for i in samples}
        right = [i for i in samples if answers[i].get("prediction") == labels[i]]
        ok(len(right) >= len(samples) - 2, f"{len(right)} of {len(samples)} digits on a page "
           f"turned by {angle} degrees are read right", sorted(set(samples) - set(right)))
        surely = [i for i in right if answers[i].get("confidence", 0) >= 0.8]
        all_read(c, images, labels, surely, version,
                 lambda p, angle=angle: as_jpeg(turned_note(p, angle)),
                 f"on a note turned by {angle} degrees on a dark desk ({len(surely)} read "
                 "surely on a white page)")
    all_read(c, images, labels, samples, version, lambda p: as_jpeg(turned_note(p, 0, 132, 340)),
             "on a small note (a seventh of the picture) on a dark desk")
    all_read(c, images, labels, samples, version, lambda p: as_png(under_a_shadow(p)),
             "half in a shadow across the page")
    all_read(c, images, labels, samples, version, lambda p: as_jpeg(with_a_thumb(p)),
             "photographed with a thumb over a corner")
    # the lines are painted over, but where one meets a stroke a stub is left beside it
    # (a one-off set of 100 such pictures read 95 %; the build before step 1c, 15 %)
    for falloff, light in ((True, "under uneven light"), (False, "evenly lit")):
        right = [i for i in samples if (c.post("/predict", *as_jpeg(on_squared_paper(
            images[i], falloff=falloff))).json() or {}).get("prediction") == labels[i]]
        ok(len(right) >= len(samples) - 3, f"{len(right)} of {len(samples)} digits in pencil on "
           f"squared paper photographed at a slant, {light}, are read right",
           sorted(set(samples) - set(right)))
    all_read(c, images, labels, samples, version, lambda p: as_png(with_punched_holes(p)),
             "scanned with punched holes beside them")
    all_read(c, images, labels, samples, version, lambda p: as_png(with_captions(p)),
             "with a line of print over and under them")
    all_read(c, images, labels, samples, version, lambda p: as_png(with_a_label(p)),
             "with a label before them (\"Answer:\")")
    for mark in ("in a box", "circled", "in a form's comb", "underlined"):
        all_read(c, images, labels, samples, version, lambda p: as_png(marked(p, mark)), mark)


def in_a_row(first, second):
    """Two test digits x4, dark on a white 280x140 page, side by side: the 28x28 frames
    touch, so the ink is a few pixels apart, as a number is written."""
    page = Image.new("L", (280, 140), 255)
    for k, pixels in enumerate((first, second)):
        page.paste(0, (28 + 112 * k, 14), gray_image(pixels).resize((112, 112), Image.BICUBIC))
    return page


def check_rows(c, images, samples):
    """Several digits in one picture are refused, not read as one."""
    bad = []
    for a, b in zip(samples[0::2], samples[1::2]):
        r = c.post("/predict", encode(in_a_row(images[a], images[b]), "PNG"), "image/png")
        if not is_error_json(r, 422, "several_digits"):
            bad.append((a, b, r.status, (r.json() or {}).get("prediction")))
    ok(not bad, "POST /predict of two digits side by side: 422 several_digits, each pair", bad)


def check_api(url, data):
    c = Client(url)
    images, labels = read_idx(data)
    st, h = health(c)
    ok(st == 200 and h.get("status") == "ok", "GET /health: 200, status ok", (st, h))
    model = h.get("model") or {}
    version = model.get("version")
    ok(isinstance(version, str) and len(version) == 12 and isinstance(model.get("created"), str)
       and isinstance(model.get("test_accuracy"), (int, float)) and isinstance(h.get("uptime_seconds"), (int, float)),
       "GET /health: model version, created, test accuracy, uptime", h)
    r = c.request("HEAD", "/health")
    ok(r.status == 200 and r.body == b"", "HEAD /health: 200 without a body", r)
    r = c.get("/health/live")
    ok(r.status == 200 and (r.json() or {}).get("status") == "alive", "GET /health/live: 200 alive", r)

    samples = pick_samples(c, images, labels)
    ok(len(samples) == 20, f"20 test digits (2 of each class) read right as 28x28 PNG: {samples}")
    need_pil()

    def gif(p):
        return encode(gray_image(p).convert("P"), "GIF")

    def to_rgba(p):  # white digit on black, as RGBA with full alpha
        return png(b"".join(bytes((v, v, v, 255)) for v in p), channels=4)

    ways = {
        "multipart/form-data (field file)": lambda p: multipart([("file", "digit.png", "image/png", png(p))]),
        "multipart, another field first, no part Content-Type": lambda p: multipart(
            [("note", None, None, b"hello"), ("file", "d.png", None, png(p))]),
        "image/png": lambda p: (png(p), "image/png"),
        "image/png, RGBA": lambda p: (to_rgba(p), "image/png"),
        "image/png, white strokes on a transparent layer": lambda p: (
            png(b"".join(bytes((255, 255, 255, v)) for v in p), channels=4), "image/png"),
        "image/png, 16-bit (Pillow's integer image, levels 0..255)": lambda p: (
            encode(gray_image(p).convert("I"), "PNG"), "image/png"),
        "image/png, 16-bit, levels 0..65535": lambda p: (
            encode(gray_image(p).point(lambda v: v * 257, "I"), "PNG"), "image/png"),
        "image/jpeg": lambda p: (encode(gray_image(p), "JPEG", quality=95), "image/jpeg"),
        "image/gif": lambda p: (gif(p), "image/gif"),
        "image/bmp": lambda p: (encode(gray_image(p), "BMP"), "image/bmp"),
        "application/octet-stream (PNG bytes)": lambda p: (png(p), "application/octet-stream"),
        "application/octet-stream (JPEG bytes)": lambda p: (
            encode(gray_image(p), "JPEG", quality=95), "application/octet-stream"),
        "image/png; charset-like parameter": lambda p: (png(p), "image/png; name=digit.png"),
        'JSON {"image": base64}': lambda p: (
            json.dumps({"image": base64.b64encode(png(p)).decode()}).encode(), "application/json"),
        'JSON {"image": "data:image/png;base64,..."}': lambda p: (json.dumps(
            {"image": "data:image/png;base64," + base64.b64encode(png(p)).decode()}).encode(),
            "application/json; charset=utf-8"),
        'JSON {"image": "data:image/jpeg;base64,..."}': lambda p: (json.dumps(
            {"image": "data:image/jpeg;base64," + base64.b64encode(
                encode(gray_image(p), "JPEG", quality=95)).decode()}).encode(), "application/json"),
        'JSON {"pixels": [784 integers]}': lambda p: (
            json.dumps({"pixels": list(p)}).encode(), "application/json"),
        'JSON {"pixels": [784 floats]}': lambda p: (
            json.dumps({"pixels": [v + 0.25 if v < 255 else 255.0 for v in p]}).encode(), "application/json"),
    }
    for what, make in ways.items():
        bad = []
        for i in samples:
            body, ctype = make(images[i])
            r = c.post("/predict", body, ctype)
            problems = answer_problems(r, version)
            j = r.json() or {}
            if not problems and j.get("prediction") != labels[i]:
                problems.append(f"read {j.get('prediction')}, is {labels[i]}")
            if problems:
                bad.append((i, problems))
        ok(not bad, f"POST /predict as {what}: every digit right, a complete answer", bad)

    check_filled_canvas(c, version)
    check_marks(c, images, labels, samples, version)
    check_rows(c, images, samples)

    # query options
    i = samples[0]
    r = c.post("/predict?preview=1", png(images[i]), "image/png")
    pv = (r.json() or {}).get("preview")
    ok(not answer_problems(r, version) and isinstance(pv, list) and len(pv) == 784
       and all(isinstance(v, int) and 0 <= v <= 255 for v in pv) and max(pv) > 128,
       "?preview=1: a 784-element preview of 0..255 values", r)
    r = c.post("/predict", png(images[i]), "image/png")
    ok("preview" not in (r.json() or {}), "no preview unless asked for", r)
    wrong = [k for k in samples if (c.post("/predict?preprocess=0", png(images[k]), "image/png").json()
                                    or {}).get("prediction") != labels[k]]
    ok(not wrong, "?preprocess=0 with 28x28 MNIST PNGs: every digit right", wrong)
    wrong = [k for k in samples if (c.post("/predict?preprocess=0", json.dumps(
        {"pixels": list(images[k])}).encode(), "application/json").json() or {}).get("prediction") != labels[k]]
    ok(not wrong, "?preprocess=0 with JSON pixels: every digit right", wrong)
    big = encode(gray_image(images[i]).resize((280, 280)), "PNG")
    r = c.post("/predict?preprocess=0", big, "image/png")
    ok(is_error_json(r, 422), "?preprocess=0 with a 280x280 image: 422 JSON error", r)
    r = c.post("/predict?preprocess=1&preview=0", big, "image/png")
    ok(r.status == 200 and (r.json() or {}).get("prediction") == labels[i]
       and "preview" not in (r.json() or {}), "?preprocess=1&preview=0 with a 280x280 image: right", r)
    # same digit, same answer, whichever way it came: PNG, JSON pixels and multipart agree
    p1 = (c.post("/predict", png(images[i]), "image/png").json() or {}).get("probabilities")
    p2 = (c.post("/predict", json.dumps({"pixels": list(images[i])}).encode(), "application/json").json() or {}).get("probabilities")
    p3 = (c.post("/predict", *multipart([("file", "d.png", "image/png", png(images[i]))])).json() or {}).get("probabilities")
    ok(p1 and p1 == p2 == p3, "the same pixels as PNG, JSON pixels and multipart give the same probabilities", (p1, p2, p3))

    # ---------------------------------------------------------------- errors
    rng = random.Random(1)
    noise = bytes(rng.getrandbits(8) for _ in range(5000))
    good = png(images[i])
    white = png(b"\xff" * 784)
    mp_file = lambda content: multipart([("file", "d.png", "image/png", content)])
    mp_body, mp_type = mp_file(good)
    b = "----mnistTestBoundary7MA4YWxkTrZu0gW"
    cases = [
        # what, method, path, body, content type, status, code, extra check
        ("empty body", "POST", "/predict", b"", "image/png", 400, "empty_body"),
        ("empty multipart body", "POST", "/predict", b"", mp_type, 400, None),
        ("random bytes as image/png", "POST", "/predict", noise, "image/png", 422, "bad_image"),
        ("random bytes as application/octet-stream", "POST", "/predict", noise, "application/octet-stream", 422, "bad_image"),
        ("random bytes in a multipart file", "POST", "/predict", *mp_file(noise), 422, "bad_image"),
        ("a truncated PNG", "POST", "/predict", good[:len(good) // 2], "image/png", 422, "bad_image"),
        ("a PNG of nothing but its signature", "POST", "/predict", good[:8], "image/png", 422, "bad_image"),
        ("a truncated JPEG", "POST", "/predict", encode(gray_image(images[i]), "JPEG")[:200], "image/jpeg", 422, "bad_image"),
        ("a PNG header claiming 50000x50000", "POST", "/predict", png_header_only(50000, 50000), "image/png", 422, "image_too_large"),
        ("a PNG header claiming 50000x50000 in JSON base64", "POST", "/predict", json.dumps(
            {"image": base64.b64encode(png_header_only(50000, 50000)).decode()}).encode(), "application/json", 422, "image_too_large"),
        ("a PNG claiming 0x0", "POST", "/predict", png_header_only(0, 0), "image/png", 422, None),
        ("an unknown content type (text/plain)", "POST", "/predict", good, "text/plain", 415, "unsupported_media_type"),
        ("an unknown content type (image/svg+xml)", "POST", "/predict", b"<svg/>", "image/svg+xml", 415, "unsupported_media_type"),
        ("no content type", "POST", "/predict", good, None, 415, "unsupported_media_type"),
        ("multipart with no file part", "POST", "/predict", *multipart([("image", "d.png", "image/png", good)]), 400, "no_file"),
        ("multipart with the wrong boundary", "POST", "/predict", mp_body,
         "multipart/form-data; boundary=SomethingElse", 400, "bad_multipart"),
        ("multipart without a boundary parameter", "POST", "/predict", mp_body, "multipart/form-data", 400, "bad_multipart"),
        ("multipart without its closing delimiter", "POST", "/predict", mp_body[:mp_body.rindex(b"\r\n--")],
         mp_type, 400, "bad_multipart"),
        ("multipart with a broken delimiter line", "POST", "/predict",
         mp_body.replace(f"--{b}\r\n".encode(), f"--{b}XX".encode(), 1), mp_type, 400, "bad_multipart"),
        ("multipart part without Content-Disposition", "POST", "/predict",
         f"--{b}\r\nContent-Type: image/png\r\n\r\n".encode() + good + f"\r\n--{b}--\r\n".encode(), mp_type, 400, "bad_multipart"),
        ("bad base64", "POST", "/predict", b'{"image": "iVBORw0KGgo!!!*not base64*"}', "application/json", 400, "bad_base64"),
        ("base64 of random bytes", "POST", "/predict", json.dumps(
            {"image": base64.b64encode(noise).decode()}).encode(), "application/json", 422, "bad_image"),
        ("a data: URL that is not base64", "POST", "/predict", b'{"image": "data:image/png,%89PNG"}', "application/json", 400, "bad_base64"),
        ("malformed JSON", "POST", "/predict", b'{"image": "iVBOR', "application/json", 400, "bad_json"),
        ("JSON with trailing data", "POST", "/predict", b'{"pixels": []} {}', "application/json", 400, "bad_json"),
        ("JSON that is not an object", "POST", "/predict", b'[1, 2, 3]', "application/json", 400, "bad_json"),
        ("JSON with neither image nor pixels", "POST", "/predict", b'{"picture": "x"}', "application/json", 400, None),
        ("JSON with both image and pixels", "POST", "/predict", json.dumps(
            {"image": base64.b64encode(good).decode(), "pixels": list(images[i])}).encode(), "application/json", 400, None),
        ("JSON image that is not a string", "POST", "/predict", b'{"image": 12}', "application/json", 400, None),
        ("783 pixels", "POST", "/predict", json.dumps({"pixels": list(images[i])[:783]}).encode(), "application/json", 400, "bad_pixels"),
        ("785 pixels", "POST", "/predict", json.dumps({"pixels": list(images[i]) + [0]}).encode(), "application/json", 400, "bad_pixels"),
        ("no pixels", "POST", "/predict", b'{"pixels": []}', "application/json", 400, "bad_pixels"),
        ("pixels that are not an array", "POST", "/predict", b'{"pixels": "0,0,0"}', "application/json", 400, "bad_pixels"),
        ("a pixel above 255", "POST", "/predict", json.dumps({"pixels": [256] + [0] * 783}).encode(), "application/json", 400, "bad_pixels"),
        ("a negative pixel", "POST", "/predict", json.dumps({"pixels": [-1] + [0] * 783}).encode(), "application/json", 400, "bad_pixels"),
        ("a pixel that is a string", "POST", "/predict", json.dumps({"pixels": ["7"] + [0] * 783}).encode(), "application/json", 400, "bad_pixels"),
        ("a blank white image", "POST", "/predict", white, "image/png", 422, "no_digit"),
        ("a blank white 280x280 JPEG", "POST", "/predict", encode(Image.new("RGB", (280, 280), "white"), "JPEG"), "image/jpeg", 422, "no_digit"),
        ("a blank black image", "POST", "/predict", png(bytes(784)), "image/png", 422, "no_digit"),
        ("all-zero JSON pixels", "POST", "/predict", json.dumps({"pixels": [0] * 784}).encode(), "application/json", 422, "no_digit"),
        ("GET /predict", "GET", "/predict", None, None, 405, "method_not_allowed"),
        ("PUT /predict", "PUT", "/predict", good, "image/png", 405, "method_not_allowed"),
        ("POST /health with a body", "POST", "/health", b'{"x": 1}', "application/json", 405, "method_not_allowed"),
        ("DELETE /health", "DELETE", "/health", None, None, 405, "method_not_allowed"),
        ("POST /health/live", "POST", "/health/live", b"x", "text/plain", 405, "method_not_allowed"),
        ("an unknown route under /predict", "POST", "/predict/extra", good, "image/png", 404, "not_found"),
        ("an unknown route under /health", "GET", "/health/nope", None, None, 404, "not_found"),
        ("an unknown route /model", "GET", "/model", None, None, 404, "not_found"),
    ]
    allow = {"/predict": "POST", "/health": "GET, HEAD", "/health/live": "GET, HEAD"}
    for what, method, path, body, ctype, status, code in cases:
        try:
            r = c.request(method, path, body, ctype)
        except OSError as e:
            ok(False, f"{what}: {status} with a JSON error", repr(e))
            continue
        good_answer = is_error_json(r, status, code)
        if status == 405:
            good_answer = good_answer and r.header("allow") == allow[path]
        label = f"{what}: {status}" + (f" {code}" if code else "") + (
            f" (Allow: {allow[path]})" if status == 405 else "") + ", JSON error"
        st, h = health(c)
        ok(good_answer and st == 200, label + "; /health 200 after",
           f"{r!r}; then /health {st}")
    # the service is still right after all that
    r = c.post("/predict", good, "image/png")
    ok(not answer_problems(r, version) and r.json()["prediction"] == labels[i],
       "after every bad request: still right", r)


def check_accuracy(url, data, n_plain, n_user, threads=4):
    """Accuracy through HTTP: N_PLAIN test images (10000: all) as 28x28 PNGs, in
    multipart and raw with ?preprocess=0 (which must match the test accuracy the
    trainer measured and wrote into the model file); N_USER of them (spread over the
    test set) as user-like images (black on white, x10, off-centre, a third JPEG).
    Prints 'ACCURACY name percent right/total rate' lines too."""
    c = Client(url)
    images, labels = read_idx(data)
    rng = random.Random(2024)
    st, h = health(c)
    claimed = (h.get("model") or {}).get("test_accuracy")
    info(f"model {(h.get('model') or {}).get('version')}: test accuracy {claimed} % by its trainer")

    def spread(n):
        step = max(1, len(images) // n)
        return list(range(0, len(images), step))[:n]

    def run(name, idx, make, threshold):
        bodies = [make(i) for i in idx]
        t0 = time.monotonic()
        answers = pmap(lambda b: c.post(b[2], b[0], b[1]), bodies, threads)
        secs = time.monotonic() - t0
        errors = [(i, a) for i, a in zip(idx, answers) if a.status != 200]
        right = sum(1 for i, a in zip(idx, answers)
                    if a.status == 200 and (a.json() or {}).get("prediction") == labels[i])
        acc = 100.0 * right / len(idx)
        print(f"ACCURACY\t{name}\t{acc:.2f}\t{right}/{len(idx)}\t{len(idx) / secs:.0f} req/s", flush=True)
        ok(not errors, f"{name}: every request answered 200", errors[:5])
        ok(acc >= threshold, f"{name}: accuracy {acc:.2f} % >= {threshold} % on {len(idx)} test images")
        return acc

    plain = spread(n_plain)
    run("28x28 PNG, multipart", plain,
        lambda i: multipart([("file", f"{i}.png", "image/png", png(images[i]))]) + ("/predict",), 99.0)
    acc = run("28x28 PNG, raw, ?preprocess=0", plain,
              lambda i: (png(images[i]), "image/png", "/predict?preprocess=0"), 99.0)
    if len(plain) == len(images) and isinstance(claimed, (int, float)):
        ok(abs(acc - claimed) <= 0.011, f"?preprocess=0 over HTTP gives the trainer's own test accuracy "
           f"({acc:.2f} % vs {claimed} %): serving adds no error")
    need_pil()
    kinds = ["jpeg", "png", "png"]
    run("user-like: black on white, x10, off-centre, 1/3 JPEG", spread(n_user),
        lambda i: user_like(images[i], rng, kinds[i % 3]) + ("/predict",), 97.0)


def check_no_model(url):
    """Before a model exists: /health 503 no_model (JSON), liveness 200, /predict 503."""
    c = Client(url)
    r = c.get("/health")
    j = r.json() or {}
    ok(is_error_json(r, 503, "no_model") and j.get("status") == "unavailable" and "model" not in j,
       "no model yet: /health 503, JSON, error.code no_model", r)
    r = c.request("HEAD", "/health")
    ok(r.status == 503 and r.body == b"", "no model yet: HEAD /health 503", r)
    r = c.get("/health/live")
    ok(r.status == 200, "no model yet: /health/live 200", r)
    r = c.post("/predict", png(bytes(784)), "image/png")
    ok(is_error_json(r, 503, "no_model"), "no model yet: POST /predict 503 no_model JSON", r)


def check_publish(src, dst, url):
    """Publishes SRC at DST atomically; /health must be 200 with its version within 2 s."""
    c = Client(url)
    version = model_version(src)
    t0 = time.monotonic()
    publish(src, dst)
    secs, st, j = wait_health(c, lambda s, j: s == 200 and (j.get("model") or {}).get("version") == version, 5)
    after = time.monotonic() - t0
    info(f"publish -> /health 200 with version {version}: "
         + (f"{secs * 1000:.0f} ms" if secs is not None else f"not within 5 s (last {st} {j})"))
    print(f"TIMING\tpublish\t{after * 1000:.0f}", flush=True)
    ok(secs is not None and after <= 2.0, f"published model served within 2 s ({after * 1000:.0f} ms)", (st, j))
    ok(st == 200 and "error" not in j and "last_reload_error" not in j, "/health then reports no error", j)


def classic_8x8(pixels):
    """An MNIST digit as old scanners stored it: on 32x32, 4x4 blocks averaged to 8x8."""
    big = [[0] * 32 for _ in range(32)]
    for y in range(28):
        for x in range(28):
            big[y + 2][x + 2] = pixels[y * 28 + x]
    return bytes(sum(big[4 * j + v][4 * i + u] for v in range(4) for u in range(4)) // 16
                 for j in range(8) for i in range(8))


def check_low_res_temperature(src, dst, url, data):
    """A model whose "temperature_low_res" is 10 answers an 8x8 digit (read at low
    resolution) with that temperature, and a 28x28 one as before."""
    images, labels = read_idx(data)
    c = Client(url)
    bodies = {"28x28": png(images[0]), "8x8": png(classic_8x8(images[0]), 8, 8)}
    before = {k: c.post("/predict", b, "image/png").json() for k, b in bodies.items()}
    header, tensors = read_safetensors(src)
    header["__metadata__"]["temperature_low_res"] = "10"
    variant = dst + ".low-res.tmp"
    write_safetensors(variant, header, tensors)
    check_publish(variant, dst, url)
    os.remove(variant)
    after = {k: c.post("/predict", b, "image/png").json() for k, b in bodies.items()}
    ok(after["28x28"]["probabilities"] == before["28x28"]["probabilities"],
       "temperature_low_res leaves a 28x28 digit's answer as it was", (before, after))
    a, b = after["8x8"], before["8x8"]
    ok(a["prediction"] == b["prediction"] == labels[0] and a["confidence"] < b["confidence"] - 0.1,
       f"an 8x8 digit is answered with temperature_low_res 10: confidence "
       f"{b['confidence']:.3f} -> {a['confidence']:.3f}, the same digit", (b, a))


def leaning_bar(lean=0.6):
    """28x28 pixels: a bar 3 pixels wide from row 4 to row 23 leaning `lean` pixels
    right per row upwards, about (14, 14)."""
    px = bytearray(784)
    for y in range(4, 24):
        mid = round(14 + lean * (14 - y))
        for x in range(mid - 1, mid + 2):
            px[y * 28 + x] = 255
    return bytes(px)


def columns_spanned(preview):
    """How many columns apart the first and last ink (> 128) of a 28x28 preview are."""
    cols = [i % 28 for i, v in enumerate(preview) if v > 128]
    return max(cols) - min(cols) if cols else -1


def check_deskew(src, dst, url):
    """A model whose metadata says "deskew": "moments" reads a leaning bar stood up,
    and ?preview shows it so; the same weights without it read the bar as sent."""
    c = Client(url)
    header, tensors = read_safetensors(src)
    spans = {}
    for step in ("moments", None):
        meta = header.setdefault("__metadata__", {})
        meta.pop("deskew", None)
        if step:
            meta["deskew"] = step
        variant = dst + ".deskew.tmp"
        write_safetensors(variant, header, tensors)
        check_publish(variant, dst, url)
        os.remove(variant)
        r = c.post("/predict?preview=1&preprocess=0", png(leaning_bar()), "image/png")
        spans[step] = columns_spanned((r.json() or {}).get("preview") or [])
    ok(0 <= spans["moments"] <= 5 and spans[None] >= 12,
       f"\"deskew\": \"moments\" stands a leaning bar up: it spans {spans['moments']} "
       f"columns, {spans[None]} as sent to a model without it", spans)


class Load:
    """Threads that POST test digits until stopped, recording every outcome."""

    def __init__(self, url, images, labels, threads=6):
        self.client = Client(url, retry=False)
        self.images, self.labels = images, labels
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses, self.failures, self.versions = {}, [], {}
        self.count = 0
        self.bodies = [(k, png(images[k])) for k in range(64)]
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(threads)]

    def run(self, t):
        k = t
        while not self.stop.is_set():
            i, body = self.bodies[k % len(self.bodies)]
            k += 7
            try:
                r = self.client.post("/predict", body, "image/png")
                j = r.json() or {}
                fail = None if r.status == 200 and j.get("prediction") == self.labels[i] else r
                status = r.status
                version = (j.get("model") or {}).get("version")
            except OSError as e:
                fail, status, version = repr(e), "exception", None
                self.client.close()
            with self.lock:
                self.count += 1
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if version:
                    self.versions[version] = self.versions.get(version, 0) + 1
                if fail is not None:
                    self.failures.append((i, fail))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def check_swap_under_load(url, data, dst, variants):
    c = Client(url)
    images, labels = read_idx(data)
    st, h = health(c)
    start_version = (h.get("model") or {}).get("version")
    # the load only sends digits this model reads right, so that any wrong answer is news
    base = [k for k in range(200) if (c.post("/predict", png(images[k]), "image/png").json() or {}).get("prediction") == labels[k]]
    imgs = [images[k] for k in base][:64]
    labs = [labels[k] for k in base][:64]
    loads0 = h.get("model_loads", 0)
    swaps = []
    with Load(url, imgs, labs) as load:
        time.sleep(0.5)
        for v in variants:
            version = model_version(v)
            t0 = time.monotonic()
            before = load.count
            publish(v, dst)
            secs, st, j = wait_health(c, lambda s, j: s == 200 and (j.get("model") or {}).get("version") == version, 5, 0.02)
            swaps.append((version, secs))
            # let requests run on the new model for a moment before the next swap
            while load.count < before + 100 and time.monotonic() - t0 < 5:
                time.sleep(0.01)
        time.sleep(0.3)
    info(f"{load.count} requests while replacing the model {len(variants)} times; statuses {load.statuses}")
    info("answers by model version: " + ", ".join(f"{v} {n}" for v, n in load.versions.items()))
    info("each swap seen by /health after: " + ", ".join(
        f"{s * 1000:.0f} ms" if s is not None else "never" for _, s in swaps))
    for _, s in swaps:
        if s is not None:
            print(f"TIMING\tswap\t{s * 1000:.0f}", flush=True)
    ok(load.count >= 300, f"at least 300 requests flowed during the swaps ({load.count})")
    ok(not load.failures, f"0 failed or wrong answers among {load.count} requests during {len(variants)} swaps",
       load.failures[:5])
    ok(all(s is not None and s <= 2.0 for _, s in swaps), "each replacement served within 2 s", swaps)
    last = model_version(variants[-1])
    st, h = health(c)
    ok(st == 200 and (h.get("model") or {}).get("version") == last and "last_reload_error" not in h,
       f"/health shows the last version {last}, no reload error", h)
    ok(h.get("model_loads") == loads0 + len(variants), f"model_loads went up by {len(variants)}",
       (loads0, h.get("model_loads")))
    ok(len([v for v in load.versions if v != start_version]) >= len(variants) - 1 and load.versions.get(last, 0) > 0,
       "answers came from the new versions as they were published", load.versions)
    r = c.post("/predict", png(images[0]), "image/png")
    ok(not answer_problems(r, last), "answers name the new version", r)


def check_refuse(url, data, dst, bad_files):
    """Each corrupt replacement is refused: /health stays 200 with the old version and
    reports last_reload_error; predictions stay right; requests keep flowing."""
    c = Client(url)
    images, labels = read_idx(data)
    st, h = health(c)
    old = (h.get("model") or {}).get("version")
    refusals = h.get("model_refusals", 0)
    ok(st == 200 and old, f"serving version {old} before the corrupt replacements", h)
    base = [k for k in range(200) if (c.post("/predict", png(images[k]), "image/png").json() or {}).get("prediction") == labels[k]][:64]
    with Load(url, [images[k] for k in base], [labels[k] for k in base], threads=2) as load:
        for path in bad_files:
            name = os.path.basename(path)
            publish(path, dst)
            secs, st, h = wait_health(c, lambda s, j: (j.get("model_refusals", 0) > refusals), 5, 0.02)
            refusals = h.get("model_refusals", refusals)
            err = h.get("last_reload_error") or {}
            ok(secs is not None and st == 200 and (h.get("model") or {}).get("version") == old
               and isinstance(err, dict) and err.get("code") == "model_refused" and err.get("message"),
               f"corrupt replacement ({name}): refused, /health 200 with the old version and last_reload_error",
               (st, h))
            if err.get("message"):
                info(f"{name}: {err.get('message')}")
            wrong = [k for k in base[:20] if (c.post("/predict", png(images[k]), "image/png").json() or {}).get("prediction") != labels[k]]
            ok(not wrong, f"after {name}: predictions still right", wrong)
            r = c.post("/predict", png(images[base[0]]), "image/png")
            ok(not answer_problems(r, old), f"after {name}: answers still name version {old}", r)
    ok(not load.failures and load.count > 0,
       f"0 failed requests among {load.count} while corrupt files were published", load.failures[:5])


def check_kill(url, data, lighttpd_pid, mode):
    """kill -9 of the responder: /health must be 200 again within 1 s. MODE idle: only
    the /health poll (every 10 ms from the kill); load: 4 threads of /predict too."""
    c = Client(url, timeout=10)
    images, labels = read_idx(data)

    def fcgi_pids():
        out = subprocess.run(["pgrep", "-P", str(lighttpd_pid), "-x", "mnist-fcgi"],
                             capture_output=True, text=True).stdout.split()
        return [int(p) for p in out]

    def target():
        # the process lighttpd spawned, or, if it forks a worker of its own, that worker
        # (the one that serves, the one a crash or the OOM killer would take down)
        pids = fcgi_pids()
        if not pids:
            return None
        kids = subprocess.run(["pgrep", "-P", str(pids[0]), "-x", "mnist-fcgi"],
                              capture_output=True, text=True).stdout.split()
        return int(kids[0]) if kids else pids[0]

    st, _ = health(c)
    ok(st == 200, f"{mode}: /health 200 before the kill", st)
    pid = target()
    ok(pid is not None, f"{mode}: found mnist-fcgi under lighttpd {lighttpd_pid}", pid)
    if pid is None:
        return
    c.close()
    statuses = {}
    load = Load(url, images[:64], labels[:64], threads=4) if mode == "load" else None
    if load:
        load.__enter__()
        time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    back = None
    while time.monotonic() - t0 < 10:
        try:
            r = Client(url, timeout=10).get("/health")
            key = r.status if r.status == 200 or is_error_json(r, r.status) else f"{r.status} (not JSON)"
            statuses[key] = statuses.get(key, 0) + 1
            if r.status == 200:
                back = time.monotonic() - t0
                break
        except OSError as e:
            statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
        time.sleep(0.01)
    if load:
        time.sleep(0.2)
        load.__exit__(None, None, None)
    new = target()
    info(f"{mode}: kill -9 {pid}; /health answers while it was down: {statuses}; new pid {new}")
    if load:
        info(f"{mode}: the load saw {load.statuses} over {load.count} requests")
    print(f"TIMING\tkill-{mode}\t{back * 1000:.0f}" if back is not None else f"TIMING\tkill-{mode}\tnever", flush=True)
    ok(back is not None, f"{mode}: lighttpd respawned mnist-fcgi (/health 200 again, new pid {new})", statuses)
    # the supervisor (fcgi/supervise.c) starts a new responder at once
    ok(back is not None and back <= 1.0, f"{mode}: /health 200 again within 1 s of kill -9 ("
       + (f"{back * 1000:.0f} ms)" if back is not None else "never)"), statuses)
    ok(all(isinstance(k, int) for k in statuses),
       f"{mode}: while it was down, /health answered (JSON errors), no connection failed", statuses)
    r = c.post("/predict", png(images[0]), "image/png")
    ok(r.status == 200 and (r.json() or {}).get("prediction") == labels[0], f"{mode}: predictions right after the respawn", r)


def startup_time(url, cmd, runs):
    """Starts CMD (a new session) RUNS times; the time from exec to the first /health 200,
    polled back to back. Prints the times in ms; stops the process group each time."""
    times = []
    u = urllib.parse.urlsplit(url)
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = None
        while time.monotonic() - t0 < 10 and p.poll() is None:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
            try:
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    t = time.monotonic() - t0
                    break
            except OSError:
                pass
            finally:
                c.close()
            time.sleep(0.0005)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        # wait until the whole group is gone before the next run
        for _ in range(500):
            try:
                os.killpg(p.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        times.append(t)
    return times


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "api":
        check_api(argv[2], argv[3])
    elif cmd == "accuracy":
        check_accuracy(argv[2], argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "no-model":
        check_no_model(argv[2])
    elif cmd == "publish":
        check_publish(argv[2], argv[3], argv[4])
    elif cmd == "low-res-temperature":
        check_low_res_temperature(argv[2], argv[3], argv[4], argv[5])
    elif cmd == "deskew":
        check_deskew(argv[2], argv[3], argv[4])
    elif cmd == "swap-under-load":
        check_swap_under_load(argv[2], argv[3], argv[4], argv[5:])
    elif cmd == "refuse":
        check_refuse(argv[2], argv[3], argv[4], argv[5:])
    elif cmd == "kill":
        check_kill(argv[2], argv[3], int(argv[4]), argv[5])
    elif cmd == "variant":
        print(make_variant(argv[2], argv[3], int(argv[4])))
    elif cmd == "version":
        print(model_version(argv[2]))
    elif cmd == "corrupt":
        print("\n".join(make_corrupt(argv[2], argv[3])))
    elif cmd == "png":
        images, labels = read_idx(argv[2])
        open(argv[4], "wb").write(png(images[int(argv[3])]))
        print(labels[int(argv[3])])
    elif cmd == "multipart-body":
        images, _ = read_idx(argv[2])
        body, ctype = multipart([("file", "digit.png", "image/png", png(images[0]))])
        open(argv[3], "wb").write(body)
        print(ctype)
    elif cmd == "startup-time":
        runs = int(os.environ.get("RUNS", "5"))
        for t in startup_time(os.environ["URL"], argv[2:], runs):
            print(f"{t * 1000:.1f}" if t is not None else "never")
    else:
        sys.exit(__doc__)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
