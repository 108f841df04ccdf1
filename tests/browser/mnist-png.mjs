// MNIST test digits as PNG files, made on the fly from the t10k IDX files so that
// no data set is ever committed. A minimal PNG encoder (8-bit grayscale, filter 0,
// zlib from node) and a reader of the IDX format.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes width*height 8-bit gray pixels (row-major) as a PNG file. */
export function encodeGrayPng(width, height, pixels) {
  if (pixels.length !== width * height) throw new Error('pixel count does not match the size');
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter type None
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = pixels[y * width + x];
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: grayscale
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter method
  ihdr[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function mnistDir() {
  if (process.env.MNIST_DATA) return process.env.MNIST_DATA;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'mnist-service', 'mnist');
}

/** Reads the MNIST test set: { count, rows, cols, images: Buffer, labels: Buffer }. */
export function readMnistTest(dir = mnistDir()) {
  const images = fs.readFileSync(path.join(dir, 't10k-images-idx3-ubyte'));
  const labels = fs.readFileSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) {
    throw new Error(`${dir}: not MNIST IDX files (bad magic numbers)`);
  }
  const count = images.readUInt32BE(4);
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  if (labels.readUInt32BE(4) !== count || images.length !== 16 + count * rows * cols || labels.length !== 8 + count) {
    throw new Error(`${dir}: IDX sizes do not match`);
  }
  return { count, rows, cols, images: images.subarray(16), labels: labels.subarray(8) };
}

/** Test digit number `index` as { index, label, png }. */
export function mnistDigitPng(set, index) {
  if (!Number.isInteger(index) || index < 0 || index >= set.count) throw new Error(`no test digit ${index}`);
  const size = set.rows * set.cols;
  const pixels = set.images.subarray(index * size, (index + 1) * size);
  return { index, label: set.labels[index], png: encodeGrayPng(set.cols, set.rows, pixels) };
}
