#!/usr/bin/python3
"""Writes the request bodies of the load test into DIR, and DIR/requests.tsv:
one line per request type, "name<TAB>method<TAB>content-type<TAB>body file<TAB>weight
<TAB>expected status<TAB>expected error code" (code "-" for 200).

Valid requests are real MNIST test digits (from MNIST_DIR's t10k-images file, raw or
.gz), each sent the ways a client can: PNG, JPEG photo-like (dark ink on paper, larger),
GIF, BMP, multipart, JSON base64, JSON data: URL, JSON pixels. Invalid ones each earn
their own status and error code, so that a response tells which type it answered.

usage: make-bodies.py DIR MNIST_DIR   (needs python3-pil)
"""
import base64
import gzip
import io
import json
import os
import struct
import sys
import zlib

from PIL import Image, ImageOps

out, mnist = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def load_digits(n):
    for name in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"):
        path = os.path.join(mnist, name)
        if os.path.exists(path):
            raw = open(path, "rb").read()
            if name.endswith(".gz"):
                raw = gzip.decompress(raw)
            count, rows, cols = struct.unpack(">III", raw[4:16])
            return [Image.frombytes("L", (cols, rows), raw[16 + i * 784:16 + (i + 1) * 784])
                    for i in range(n)]
    sys.exit("make-bodies.py: no t10k-images-idx3-ubyte in " + mnist)


def encode(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


rows = []


def add(name, method, ctype, body, weight, status, code="-"):
    fname = name + ".body"
    with open(os.path.join(out, fname), "wb") as f:
        f.write(body)
    rows.append("\t".join([name, method, ctype or "-", fname, str(weight), str(status), code]))


digits = load_digits(4)
d0, d1, d2, d3 = digits
photo = ImageOps.invert(d1).resize((160, 160), Image.BICUBIC).convert("RGB")
png = encode(d0, "PNG")
boundary = "----loadtestBoundary7MA4YWxkTrZu0gW"


def multipart(name, content, close=True):
    body = ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"digit.png\"\r\n"
            "Content-Type: image/png\r\n\r\n" % (boundary, name)).encode() + content + b"\r\n"
    return body + (("--%s--\r\n" % boundary).encode() if close else b"")


mp_type = "multipart/form-data; boundary=" + boundary
# valid: 200
add("png", "POST", "image/png", png, 3, 200)
add("jpeg_photo", "POST", "image/jpeg", encode(photo, "JPEG", quality=85), 2, 200)
add("gif", "POST", "image/gif", encode(d2.convert("P"), "GIF"), 1, 200)
add("bmp", "POST", "image/bmp", encode(d3, "BMP"), 1, 200)
add("multipart", "POST", mp_type, multipart("file", png), 2, 200)
add("json_base64", "POST", "application/json",
    json.dumps({"image": base64.b64encode(png).decode()}).encode(), 1, 200)
add("json_data_url", "POST", "application/json",
    json.dumps({"image": "data:image/png;base64," + base64.b64encode(encode(d1, "PNG")).decode()}).encode(), 1, 200)
add("json_pixels", "POST", "application/json", json.dumps({"pixels": list(d2.tobytes())}).encode(), 1, 200)
# invalid: each its own status and code
add("not_image", "POST", "application/octet-stream", b"GIF88a this is not an image at all" * 4, 1, 422, "bad_image")
add("blank", "POST", "image/png", encode(Image.new("L", (28, 28), 0), "PNG"), 1, 422, "no_digit")


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


huge = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)) +
        png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""))
add("too_many_pixels", "POST", "image/png", huge, 1, 422, "image_too_large")
add("wrong_type", "POST", "text/plain", b"seven", 1, 415, "unsupported_media_type")
add("bad_json", "POST", "application/json", b'{"image": "iVBOR', 1, 400, "bad_json")
add("bad_base64", "POST", "application/json", b'{"image": "iVBOR!!w0KGgo="}', 1, 400, "bad_base64")
add("bad_pixels", "POST", "application/json", b'{"pixels": [1, 2, 3]}', 1, 400, "bad_pixels")
add("truncated_multipart", "POST", mp_type, multipart("file", png, close=False), 1, 400, "bad_multipart")
add("no_file_part", "POST", mp_type, multipart("picture", png), 1, 400, "no_file")
add("empty_body", "POST", "image/png", b"", 1, 400, "empty_body")
add("get", "GET", None, b"", 1, 405, "method_not_allowed")

with open(os.path.join(out, "requests.tsv"), "w") as f:
    f.write("\n".join(rows) + "\n")
