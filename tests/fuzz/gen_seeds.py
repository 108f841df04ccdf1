#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (except the safetensors seeds, which
seed_model writes with the project's own writer) into OUTDIR/<target>/.

Valid samples of every input the targets take, small (a few KiB at most) so that the
fuzzer mutates them quickly: images in each accepted format and their variants
(palette, alpha, 16-bit, interlaced, progressive, EXIF orientation, animated GIF,
top-down BMP), IDX files raw and gzip, multipart bodies, v2 infer requests, /predict
JSON bodies, base64 strings and data: URLs. Deterministic: the same files each run.

usage: gen_seeds.py OUTDIR   (needs python3-pil)
"""
import base64
import gzip
import io
import os
import struct
import sys
import zlib

from PIL import Image, ImageDraw

out = sys.argv[1]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def digit(size=28, ink=255, paper=0, mode="L", width=None):
    """A hand-drawn-looking 7 on a plain background."""
    im = Image.new(mode, (size, size), paper)
    d = ImageDraw.Draw(im)
    w = width or max(2, size // 9)
    s = size / 28.0
    d.line([(6 * s, 6 * s), (21 * s, 6 * s), (11 * s, 23 * s)], fill=ink, width=w)
    d.line([(10 * s, 14 * s), (18 * s, 14 * s)], fill=ink, width=max(1, w // 2))
    return im


def save(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


# ---------------------------------------------------------------- images
images = {}
images["mnist-like.png"] = save(digit(), "PNG")
images["dark-on-white.png"] = save(digit(40, 0, 255), "PNG")
rgba = Image.new("RGBA", (48, 48), (0, 0, 0, 0))
ImageDraw.Draw(rgba).line([(10, 8), (36, 8), (18, 42)], fill=(20, 20, 200, 255), width=4)
images["canvas-rgba.png"] = save(rgba, "PNG")
images["palette.png"] = save(digit(32, 255, 0).convert("P"), "PNG")
images["palette-trns.png"] = save(digit(32, 255, 0).convert("P"), "PNG", transparency=0)
images["gray16.png"] = save(digit(24, 255, 0).convert("I;16"), "PNG")


def png_adam7(im):
    """An interlaced (Adam7) 8-bit grayscale PNG, which PIL cannot write."""
    w, h = im.size
    px = im.tobytes()
    raw = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        for y in range(y0, h, dy):
            row = bytes(px[y * w + x] for x in range(x0, w, dx))
            if row:
                raw += b"\0" + row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 1)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


images["interlaced.png"] = png_adam7(digit(30, 0, 255))
images["la.png"] = save(digit(28, 255, 0).convert("LA"), "PNG")
images["bilevel.png"] = save(digit(28, 255, 0).convert("1"), "PNG")
images["gray.jpg"] = save(digit(32, 0, 255), "JPEG", quality=70)
images["rgb-progressive.jpg"] = save(digit(32, 0, 255).convert("RGB"), "JPEG", quality=60,
                                     progressive=True)
images["subsampled.jpg"] = save(digit(40, 0, 230).convert("RGB"), "JPEG", quality=50,
                                subsampling=2)
ex = Image.Exif()
ex[0x0112] = 6
images["exif-rotate6.jpg"] = save(digit(24, 0, 255).convert("RGB").resize((32, 24)), "JPEG",
                                  quality=60, exif=ex.tobytes())
ex = Image.Exif()
ex[0x0112] = 3
images["exif-rotate3.jpg"] = save(digit(24, 0, 255), "JPEG", quality=60, exif=ex.tobytes())
images["one.gif"] = save(digit(28, 255, 0).convert("P"), "GIF")
frames = [digit(32, 255, 0).convert("P"), digit(32, 0, 255).convert("P")]
b = io.BytesIO()
frames[0].save(b, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
               transparency=0)
images["animated.gif"] = b.getvalue()
images["rgb24.bmp"] = save(digit(28, 0, 255).convert("RGB"), "BMP")
images["pal8.bmp"] = save(digit(28, 0, 255).convert("P"), "BMP")
images["mono.bmp"] = save(digit(28, 255, 0).convert("1"), "BMP")
images["gray8.bmp"] = save(digit(20, 255, 0), "BMP")
bmp = bytearray(images["rgb24.bmp"])
h = struct.unpack_from("<i", bmp, 22)[0]
struct.pack_into("<i", bmp, 22, -h)  # rows stored top-down
images["topdown.bmp"] = bytes(bmp)
images["rgba32.bmp"] = save(rgba.resize((24, 24)), "BMP")
# a blank image (no digit) and a tiny one
images["blank.png"] = save(Image.new("L", (16, 16), 0), "PNG")
images["one-pixel.png"] = save(Image.new("L", (1, 1), 255), "PNG")
for name, data in images.items():
    put("image", name, data)

# ---------------------------------------------------------------- base64 and data: URLs
small_png = images["mnist-like.png"]
b64 = base64.b64encode(small_png).decode()
put("base64", "padded", base64.b64encode(b"hello world!?").decode())
put("base64", "unpadded", base64.b64encode(b"hello").decode().rstrip("="))
put("base64", "pad2", "QQ==")
put("base64", "mime-lines", base64.encodebytes(bytes(range(100))).decode().replace("\n", "\r\n"))
put("base64", "data-url", "data:image/png;base64," + b64[:200])
put("base64", "data-url-params", "DATA:Image/PNG;charset=utf-8;name=x;base64,QUJD")
put("base64", "data-url-plain", "data:,hello%20world")
put("base64", "data-url-empty", "data:;base64,")

# ---------------------------------------------------------------- /predict JSON
put("predict_json", "image.json", '{"image": "%s"}' % b64)
put("predict_json", "data-url.json", '{"image": "data:image/png;base64,%s"}' % b64)
put("predict_json", "pixels.json",
    '{"pixels": [%s]}' % ",".join(str((i * 7) % 256) for i in range(784)))
put("predict_json", "pixels-float.json",
    '{"pixels":[%s]}' % ",".join("%.1f" % ((i % 28) * 9.1) for i in range(784)))
put("predict_json", "both.json", '{"image": "QQ==", "pixels": []}')
put("predict_json", "escaped.json", '{"image": "data:image\\/png;base64,\\u0041\\u0041==", "x": [1, {"y": null}]}')

# ---------------------------------------------------------------- v2 infer
zeros = ",".join(["0"] * 784)
vals = ",".join("%g" % ((i % 50) / 10.0 - 0.42) for i in range(784))
put("v2_infer", "flat.json", '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,784],"data":[%s]}]}' % zeros)
rows = ",".join("[%s]" % ",".join(["-0.4242"] * 28) for _ in range(28))
put("v2_infer", "nested.json",
    '{"id": "req-\\u00e9\\n1", "parameters": {"a": [true, false, null, "s"], "b": 1.5e-3},\n'
    ' "inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32",\n'
    '   "parameters": {}, "data": [[%s]]}],\n'
    ' "outputs": [{"name": "probabilities", "parameters": {"binary_data": false}}]}' % rows)
put("v2_infer", "batch2.json", '{"inputs":[{"name":"input","datatype":"FP32","shape":[2,784],"data":[%s,%s]}],"outputs":[]}' % (vals, zeros))
put("v2_infer", "numbers.json", '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,784],"data":[%s]}]}'
    % ",".join(["1E+2", "-0.0", "2.5e-7", "123456789012345678901234", "0.1", "-1e-30"] * 130 + ["7"] * 4))
def binary_infer(header, tensor):  # fuzz_v2_infer's framing: 0x01, header length, body
    head = header.encode()
    return b"\x01" + struct.pack("<H", len(head)) + head + tensor
floats = struct.pack("<784f", *[((i % 50) / 10.0 - 0.42) for i in range(784)])
put("v2_infer", "binary.bin", binary_infer(
    '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,784],"parameters":{"binary_data_size":3136}}],'
    '"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}],'
    '"parameters":{"binary_data_output":true}}', floats))
put("v2_infer", "binary-short.bin", binary_infer(
    '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,28,28],"parameters":{"binary_data_size":3136}}]}',
    floats[:-1]))
put("v2_infer", "bad-shape.json", '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,28,28],"data":[1,2,3]}]}')

# ---------------------------------------------------------------- multipart
def multipart(boundary, parts, preamble=b"", epilogue=b""):
    body = preamble
    for headers, content in parts:
        body += b"--" + boundary + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + content + b"\r\n"
    return body + b"--" + boundary + b"--\r\n" + epilogue


png = images["one-pixel.png"]
fileh = [b'Content-Disposition: form-data; name="file"; filename="digit.png"', b"Content-Type: image/png"]
put("multipart", "curl", b"multipart/form-data; boundary=------------------------d74496d66958873e\n" +
    multipart(b"------------------------d74496d66958873e", [(fileh, png)]))
put("multipart", "two-parts", b'multipart/form-data; boundary="quoted:boundary"\n' +
    multipart(b"quoted:boundary", [([b'content-disposition: form-data; name=other'], b"x\r\ny"),
                                   (fileh, png)], preamble=b"preamble\r\n", epilogue=b"epilogue"))
put("multipart", "chrome", b"multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW\n" +
    multipart(b"----WebKitFormBoundary7MA4YWxkTrZu0gW",
              [([b'Content-Disposition: form-data; name="file"; filename="a \\"b\\".png"'], b"--not-a-delimiter\r\n")]))
put("multipart", "no-file", b"multipart/form-data; boundary=x\n" + multipart(b"x", [([b'Content-Disposition: form-data; name="f"'], b"")]))
put("multipart", "bare-body", multipart(b"----fuzzBoundary", [(fileh, b"\x89PNG")]))
put("multipart", "padding", b"multipart/form-data; boundary=b\n--b  \t\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--b--")

# ---------------------------------------------------------------- IDX
def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


im2 = digit().tobytes() + digit(28, 200, 10).tobytes()
put("idx", "images.idx", idx(0x803, [2, 28, 28], im2))
put("idx", "images-3x2.idx", idx(0x803, [1, 3, 2], bytes(range(6))))
put("idx", "labels.idx", idx(0x801, [10], bytes(range(10))))
put("idx", "labels-empty.idx", idx(0x801, [0], b""))
put("idx", "images.idx.gz", gzip.compress(idx(0x803, [2, 28, 28], im2), mtime=0))
put("idx", "labels.idx.gz", gzip.compress(idx(0x801, [3], b"\x07\x02\x01"), mtime=0))
lab = idx(0x801, [4], b"\x00\x01\x02\x03")
put("idx", "labels-2members.gz", gzip.compress(lab[:6], mtime=0) + gzip.compress(lab[6:], mtime=0))
