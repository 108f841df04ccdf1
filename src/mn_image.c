#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <stb_image.h>

#include "mn_image.h"

/* ------------------------------------------------------------------ byte readers */

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ------------------------------------------------------------------ sniffing */

mn_image_format mn_image_sniff(const void *data, size_t size)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    const uint8_t *p = data;
    if (!p)
        return MN_IMAGE_FORMAT_UNKNOWN;
    if (size >= 8 && memcmp(p, png_magic, 8) == 0)
        return MN_IMAGE_FORMAT_PNG;
    if (size >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return MN_IMAGE_FORMAT_JPEG;
    if (size >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return MN_IMAGE_FORMAT_GIF;
    /* "BM" alone is too weak (it starts plenty of text): also require one of the
     * DIB header sizes stb knows, as stb's own test does. */
    if (size >= 18 && p[0] == 'B' && p[1] == 'M') {
        uint32_t hsz = le32(p + 14);
        if (hsz == 12 || hsz == 40 || hsz == 56 || hsz == 108 || hsz == 124)
            return MN_IMAGE_FORMAT_BMP;
    }
    return MN_IMAGE_FORMAT_UNKNOWN;
}

const char *mn_image_format_name(mn_image_format format)
{
    switch (format) {
    case MN_IMAGE_FORMAT_PNG: return "PNG";
    case MN_IMAGE_FORMAT_JPEG: return "JPEG";
    case MN_IMAGE_FORMAT_GIF: return "GIF";
    case MN_IMAGE_FORMAT_BMP: return "BMP";
    case MN_IMAGE_FORMAT_UNKNOWN: break;
    }
    return "unknown";
}

/* ------------------------------------------------------------------ headers
 *
 * Each parser reads the dimensions from the header (so that the limit is checked even
 * where stbi_info would fail first, e.g. PNG refuses huge sizes as "corrupt"), and
 * records what the completeness check needs. Sizes are 64-bit so nothing overflows. */

typedef struct header {
    uint64_t width, height;  /* as stored */
    int orientation;         /* EXIF, JPEG only */
    bool cut_short;          /* GIF, BMP: the first frame / pixel array is incomplete */
    bool deep;               /* PNG: 16 bits a channel */
} header;

static mn_status truncated(mn_error *err, const char *what)
{
    return mn_fail(err, MN_ERR_FORMAT, "truncated or corrupt %s image", what);
}

static mn_status png_header(const uint8_t *p, size_t n, header *h, mn_error *err)
{
    /* signature, then the IHDR chunk must come first: length, "IHDR", width, height */
    if (n < 24)
        return truncated(err, "PNG");
    if (memcmp(p + 12, "IHDR", 4) != 0)
        return mn_fail(err, MN_ERR_FORMAT, "corrupt PNG image: first chunk is not IHDR");
    h->width = be32(p + 16);
    h->height = be32(p + 20);
    h->deep = n > 24 && p[24] == 16;
    return MN_OK;
}

/* Every chunk must lie inside the file, up to IEND. stb_image grows its IDAT buffer
 * to a chunk's declared length before reading it, so a 200-byte file claiming a 2 GiB
 * chunk would make it allocate 2 GiB (found by fuzzing); and a file cut short is
 * refused here, clearly, rather than as whatever stb makes of it. */
static mn_status png_check_chunks(const uint8_t *p, size_t n, mn_error *err)
{
    for (size_t i = 8; n - i >= 12;) {
        uint32_t len = be32(p + i);
        if (len > 0x7fffffffu || n - i - 12 < len)
            return truncated(err, "PNG");
        if (memcmp(p + i + 4, "IEND", 4) == 0)
            return MN_OK;
        i += 12 + (size_t)len;
    }
    return truncated(err, "PNG");
}

/* EXIF orientation from an APP1 segment body; 1 when absent or unreadable (a broken
 * EXIF block is common and must not cost the user the image). */
static int exif_orientation(const uint8_t *s, size_t n)
{
    if (n < 6 + 8 || memcmp(s, "Exif\0\0", 6) != 0)
        return 1;
    const uint8_t *t = s + 6;  /* TIFF header; offsets are relative to it */
    size_t tn = n - 6;
    bool le;
    if (t[0] == 'I' && t[1] == 'I')
        le = true;
    else if (t[0] == 'M' && t[1] == 'M')
        le = false;
    else
        return 1;
    uint32_t (*r16)(const uint8_t *) = le ? le16 : be16;
    uint32_t (*r32)(const uint8_t *) = le ? le32 : be32;
    if (r16(t + 2) != 42)
        return 1;
    uint32_t ifd = r32(t + 4);
    if (ifd > tn || tn - ifd < 2)
        return 1;
    uint32_t count = r16(t + ifd);
    size_t e = (size_t)ifd + 2;
    for (uint32_t k = 0; k < count && tn - e >= 12; k++, e += 12) {
        if (r16(t + e) == 0x0112) {
            uint32_t v = r16(t + e + 2) == 3 ? r16(t + e + 8) : 1;  /* type SHORT */
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    return 1;
}

/* Start of frame: any SOFn but DHT (c4), JPG (c8) and DAC (cc), which share the range */
static bool jpeg_is_sof(uint8_t m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Cut short after the frame header: still report the size, so that the limit wins. */
#define JPEG_TRUNCATED()                                  \
    do {                                                  \
        if (!have_frame)                                  \
            return truncated(err, "JPEG");                \
        h->cut_short = true;                              \
        return MN_OK;                                     \
    } while (0)

static mn_status jpeg_header(const uint8_t *p, size_t n, header *h, mn_error *err)
{
    bool have_frame = false, have_exif = false;
    size_t i = 2;
    for (;;) {
        if (i >= n)
            JPEG_TRUNCATED();
        if (p[i] != 0xff)
            return mn_fail(err, MN_ERR_FORMAT,
                           "corrupt JPEG image: no marker at byte %zu", i);
        while (i < n && p[i] == 0xff)  /* fill bytes */
            i++;
        if (i >= n)
            JPEG_TRUNCATED();
        uint8_t m = p[i++];
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))  /* markers without a length */
            continue;
        if (m == 0x00 || m == 0xd8 || m == 0xd9)
            return mn_fail(err, MN_ERR_FORMAT,
                           "corrupt JPEG image: marker 0x%02x before any scan", m);
        if (n - i < 2)
            JPEG_TRUNCATED();
        size_t len = be16(p + i);
        if (len < 2)
            return mn_fail(err, MN_ERR_FORMAT, "corrupt JPEG image: bad segment length");
        if (n - i < len)
            JPEG_TRUNCATED();
        const uint8_t *seg = p + i + 2;
        size_t seglen = len - 2;
        if (jpeg_is_sof(m) && !have_frame) {
            if (seglen < 6)
                JPEG_TRUNCATED();
            h->height = be16(seg + 1);
            h->width = be16(seg + 3);
            have_frame = true;
        } else if (m == 0xe1 && !have_exif && seglen >= 6 && memcmp(seg, "Exif\0\0", 6) == 0) {
            h->orientation = exif_orientation(seg, seglen);
            have_exif = true;
        } else if (m == 0xda) {
            if (!have_frame)
                return mn_fail(err, MN_ERR_FORMAT,
                               "corrupt JPEG image: scan before the frame header");
            return MN_OK;
        }
        i += len;
    }
}
#undef JPEG_TRUNCATED

/* The whole file, segment by segment, up to its end-of-image marker; a file without
 * one is truncated. On the way, stb_image's blind spot: it decodes a scan with
 * whatever its tables hold, so a scan that names a Huffman table no DHT segment
 * defined makes it index with uninitialised memory and read out of bounds
 * (heap-use-after-free under ASan; found by tests/fuzz/fuzz_image), and an undefined
 * quantisation table leaks heap contents into the pixels. A scan is refused unless
 * each table it uses is defined: the DC and AC tables of a baseline scan, the DC
 * table of a first progressive DC scan, the AC table of a progressive AC scan, and
 * the quantisation table of each of its components. */
/* What the segments so far defined: the frame's components and the tables. */
typedef struct jpeg_tables {
    bool huff[2][4];         /* [DC, AC][table id] */
    bool quant[4];
    bool progressive;
    uint8_t comp_id[4], comp_tq[4];
    int ncomp;
} jpeg_tables;

static mn_status jpeg_corrupt(mn_error *err, const char *what)
{
    return mn_fail(err, MN_ERR_FORMAT, "corrupt JPEG image: %s", what);
}

/* SOF: P, Y, X, Nf, then Ci, Hi/Vi, Tqi per component */
static mn_status jpeg_frame(uint8_t m, const uint8_t *seg, size_t len, jpeg_tables *t,
                            mn_error *err)
{
    t->progressive = m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce;
    t->ncomp = len >= 6 ? seg[5] : 0;
    if (t->ncomp < 1 || t->ncomp > 4 || len < 6 + 3 * (size_t)t->ncomp)
        return jpeg_corrupt(err, "bad frame header");
    for (int c = 0; c < t->ncomp; c++) {
        t->comp_id[c] = seg[6 + 3 * c];
        t->comp_tq[c] = seg[8 + 3 * c];
        if (t->comp_tq[c] > 3)
            return jpeg_corrupt(err, "bad frame header");
    }
    return MN_OK;
}

/* DQT: Pq/Tq, then 64 values of 1 or 2 bytes, per table */
static mn_status jpeg_dqt(const uint8_t *seg, size_t len, jpeg_tables *t, mn_error *err)
{
    for (size_t k = 0; k < len;) {
        size_t size = 1 + 64 * (size_t)((seg[k] >> 4) + 1);
        if ((seg[k] >> 4) > 1 || (seg[k] & 15) > 3 || len - k < size)
            return jpeg_corrupt(err, "bad quantisation table");
        t->quant[seg[k] & 15] = true;
        k += size;
    }
    return MN_OK;
}

/* DHT: Tc/Th, 16 counts, the values, per table */
static mn_status jpeg_dht(const uint8_t *seg, size_t len, jpeg_tables *t, mn_error *err)
{
    for (size_t k = 0; k < len;) {
        if (len - k < 17 || (seg[k] >> 4) > 1 || (seg[k] & 15) > 3)
            return jpeg_corrupt(err, "bad Huffman table");
        size_t count = 0;
        for (int b = 1; b <= 16; b++)
            count += seg[k + b];
        if (count > 256 || len - k - 17 < count)
            return jpeg_corrupt(err, "bad Huffman table");
        t->huff[seg[k] >> 4][seg[k] & 15] = true;
        k += 17 + count;
    }
    return MN_OK;
}

/* SOS: Ns, Cs and Td/Ta each, Ss, Se, Ah/Al; every table it uses must be defined */
static mn_status jpeg_scan(const uint8_t *seg, size_t len, const jpeg_tables *t, mn_error *err)
{
    size_t ns = len >= 1 ? seg[0] : 0;
    if (ns < 1 || ns > 4 || len < 1 + 2 * ns + 3 || t->ncomp == 0)
        return jpeg_corrupt(err, "bad scan header");
    uint8_t ss = seg[1 + 2 * ns], ah = seg[3 + 2 * ns] >> 4;
    bool need_dc = !t->progressive || (ss == 0 && ah == 0), need_ac = !t->progressive || ss > 0;
    for (size_t c = 0; c < ns; c++) {
        int td = seg[2 + 2 * c] >> 4, ta = seg[2 + 2 * c] & 15, f = 0;
        while (f < t->ncomp && t->comp_id[f] != seg[1 + 2 * c])
            f++;
        if (f == t->ncomp || td > 3 || ta > 3)
            return jpeg_corrupt(err, "bad scan header");
        if ((need_dc && !t->huff[0][td]) || (need_ac && !t->huff[1][ta]))
            return jpeg_corrupt(err, "a scan uses an undefined Huffman table");
        if (!t->quant[t->comp_tq[f]])
            return jpeg_corrupt(err, "a scan uses an undefined quantisation table");
    }
    return MN_OK;
}

static mn_status jpeg_segment(uint8_t m, const uint8_t *seg, size_t len, jpeg_tables *t,
                              mn_error *err)
{
    if (jpeg_is_sof(m))
        return jpeg_frame(m, seg, len, t, err);
    if (m == 0xdb)
        return jpeg_dqt(seg, len, t, err);
    if (m == 0xc4)
        return jpeg_dht(seg, len, t, err);
    if (m == 0xda)
        return jpeg_scan(seg, len, t, err);
    return MN_OK;
}

static mn_status jpeg_check_body(const uint8_t *p, size_t n, mn_error *err)
{
    jpeg_tables tables = {.ncomp = 0};
    size_t i = 2;
    while (i + 1 < n) {
        if (p[i] != 0xff) { /* entropy-coded data: on to the next marker */
            const uint8_t *ff = memchr(p + i, 0xff, n - i);
            if (!ff)
                break;
            i = (size_t)(ff - p);
            continue;
        }
        uint8_t m = p[i + 1];
        if (m == 0xff) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0x00 || m == 0x01 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7)) {
            i += 2; /* stuffed byte, or a marker without a length */
            continue;
        }
        if (m == 0xd9)
            return MN_OK;
        if (n - i < 4 || be16(p + i + 2) < 2 || n - i - 2 < be16(p + i + 2))
            return truncated(err, "JPEG");
        size_t len = be16(p + i + 2) - 2;
        mn_status st = jpeg_segment(m, p + i + 4, len, &tables, err);
        if (st != MN_OK)
            return st;
        i += 2 + 2 + len;
    }
    return mn_fail(err, MN_ERR_FORMAT, "truncated JPEG image: no end-of-image marker");
}

/* Skips a chain of GIF data sub-blocks starting at *i; false if it runs off the end. */
static bool gif_skip_blocks(const uint8_t *p, size_t n, size_t *i)
{
    for (;;) {
        if (*i >= n)
            return false;
        size_t len = p[(*i)++];
        if (len == 0)
            return true;
        if (n - *i < len)
            return false;
        *i += len;
    }
}

static mn_status gif_header(const uint8_t *p, size_t n, header *h, mn_error *err)
{
    if (n < 13)
        return truncated(err, "GIF");
    h->width = le16(p + 6);
    h->height = le16(p + 8);
    size_t i = 13;
    if (p[10] & 0x80)
        i += (size_t)3 << ((p[10] & 7) + 1);  /* global colour table */
    /* Walk to the end of the first frame's data: stb would quietly decode a frame cut
     * short as if the rest were background. */
    for (;;) {
        if (i >= n) {
            h->cut_short = true;
            return MN_OK;
        }
        uint8_t b = p[i++];
        if (b == 0x21) {  /* extension: label, then sub-blocks */
            i++;
            if (i > n || !gif_skip_blocks(p, n, &i)) {
                h->cut_short = true;
                return MN_OK;
            }
        } else if (b == 0x2c) {  /* image descriptor */
            if (n - i < 9) {
                h->cut_short = true;
                return MN_OK;
            }
            uint8_t flags = p[i + 8];
            i += 9;
            if (flags & 0x80)
                i += (size_t)3 << ((flags & 7) + 1);  /* local colour table */
            i++;                                      /* LZW minimum code size */
            h->cut_short = i > n || !gif_skip_blocks(p, n, &i);
            return MN_OK;
        } else if (b == 0x3b) {
            return mn_fail(err, MN_ERR_FORMAT, "GIF image has no frame");
        } else {
            return mn_fail(err, MN_ERR_FORMAT,
                           "corrupt GIF image: unknown block 0x%02x at byte %zu", b, i - 1);
        }
    }
}

static mn_status bmp_header(const uint8_t *p, size_t n, header *h, mn_error *err)
{
    uint32_t hsz = le32(p + 14), bpp, compression = 0;
    int64_t w, ht;
    if (hsz == 12) {
        if (n < 26)
            return truncated(err, "BMP");
        w = le16(p + 18);
        ht = le16(p + 20);
        bpp = le16(p + 24);
    } else {
        if (n < 34)
            return truncated(err, "BMP");
        w = (int32_t)le32(p + 18);
        ht = (int32_t)le32(p + 22);  /* negative: rows stored top-down */
        bpp = le16(p + 28);
        compression = le32(p + 30);
    }
    if (w < 0)
        return mn_fail(err, MN_ERR_FORMAT, "corrupt BMP image: negative width");
    h->width = (uint64_t)w;
    h->height = (uint64_t)(ht < 0 ? -ht : ht);
    /* Uncompressed (BI_RGB, BI_BITFIELDS): the pixel array has a known size. stb
     * refuses the RLE variants itself. */
    if ((compression == 0 || compression == 3) && bpp >= 1 && bpp <= 32) {
        uint64_t offset = le32(p + 10);
        uint64_t stride = (h->width * bpp + 31) / 32 * 4;
        h->cut_short = offset > n || (h->height != 0 && stride > (n - offset) / h->height);
    }
    return MN_OK;
}

/* ------------------------------------------------------------------ probe */

static mn_status read_header(mn_image_format format, const uint8_t *p, size_t size, header *h,
                             mn_error *err)
{
    switch (format) {
    case MN_IMAGE_FORMAT_PNG: return png_header(p, size, h, err);
    case MN_IMAGE_FORMAT_JPEG: return jpeg_header(p, size, h, err);
    case MN_IMAGE_FORMAT_GIF: return gif_header(p, size, h, err);
    case MN_IMAGE_FORMAT_BMP: return bmp_header(p, size, h, err);
    case MN_IMAGE_FORMAT_UNKNOWN: break;
    }
    return mn_fail(err, MN_ERR_FORMAT, "not a PNG, JPEG, GIF or BMP image (%zu bytes)", size);
}

/* The header's dimensions and the file's size against the limits. A 16-bit PNG counts
 * its pixels twice: stb decodes it at 16 bits a channel, in twice the memory. */
static mn_status check_limits(const char *name, const header *h, size_t size,
                              size_t max_pixels, mn_error *err)
{
    if (h->width == 0 || h->height == 0)
        return mn_fail(err, MN_ERR_LIMIT, "%s image has a zero side (%llux%llu)", name,
                       (unsigned long long)h->width, (unsigned long long)h->height);
    /* width and height are below 2^32 each, so the product fits in 64 bits */
    if (h->width > INT_MAX || h->height > INT_MAX || h->width * h->height > max_pixels)
        return mn_fail(err, MN_ERR_LIMIT,
                       "%s image is %llux%llu pixels, more than the limit of %zu pixels",
                       name, (unsigned long long)h->width, (unsigned long long)h->height,
                       max_pixels);
    if (h->deep && h->width * h->height > max_pixels / 2)
        return mn_fail(err, MN_ERR_LIMIT,
                       "%s image is %llux%llu pixels of 16 bits, more than the limit of %zu "
                       "pixels (16-bit pixels count twice)",
                       name, (unsigned long long)h->width, (unsigned long long)h->height,
                       max_pixels);
    if (size > INT_MAX)
        return mn_fail(err, MN_ERR_LIMIT, "image file of %zu bytes is too large", size);
    return MN_OK;
}

/* What stb does not check: the data is all there and, for JPEG, its tables defined. */
static mn_status check_structure(mn_image_format format, const char *name, const header *h,
                                 const uint8_t *p, size_t size, mn_error *err)
{
    if (h->cut_short)
        return truncated(err, name);
    if (format == MN_IMAGE_FORMAT_PNG)
        return png_check_chunks(p, size, err);
    if (format == MN_IMAGE_FORMAT_JPEG)
        return jpeg_check_body(p, size, err);
    return MN_OK;
}

/* What stb will decode: the dimensions (before orientation), and whether the PNG has
 * 16 bits a channel (its header says so; stb need not read it again). */
typedef struct stored {
    int w, h;
    bool deep;
} stored;

/* Probe plus what stb will decode, in *out. */
static mn_status probe(const uint8_t *p, size_t size, size_t max_pixels, mn_image_info *info,
                       stored *out, mn_error *err)
{
    if (max_pixels == 0)
        max_pixels = MN_IMAGE_DEFAULT_MAX_PIXELS;
    mn_image_format format = mn_image_sniff(p, size);
    const char *name = mn_image_format_name(format);
    header h = {.orientation = 1};
    mn_status st = read_header(format, p, size, &h, err);
    if (st == MN_OK)
        st = check_limits(name, &h, size, max_pixels, err);
    if (st == MN_OK)
        st = check_structure(format, name, &h, p, size, err);
    if (st != MN_OK)
        return st;

    int w = 0, hh = 0, comp = 0;
    if (!stbi_info_from_memory(p, (int)size, &w, &hh, &comp))
        return mn_fail(err, MN_ERR_FORMAT, "unreadable %s image: %s", name,
                       stbi_failure_reason() ? stbi_failure_reason() : "unknown reason");
    /* stb's view decides how much it allocates: check its dimensions too */
    if (w <= 0 || hh <= 0 || (uint64_t)w * (uint64_t)hh > max_pixels)
        return mn_fail(err, MN_ERR_LIMIT,
                       "%s image is %dx%d pixels, outside the limit of %zu pixels", name,
                       w, hh, max_pixels);

    bool swap = h.orientation >= 5;
    if (info) {
        info->format = format;
        info->width = swap ? hh : w;
        info->height = swap ? w : hh;
        info->orientation = h.orientation;
    }
    *out = (stored){w, hh, h.deep};
    return MN_OK;
}

mn_status mn_image_probe(const void *data, size_t size, size_t max_pixels,
                         mn_image_info *info, mn_error *err)
{
    stored s;
    if (!data && size > 0)
        return mn_fail(err, MN_ERR_ARG, "image data is NULL");
    return probe(data, data ? size : 0, max_pixels, info, &s, err);
}

/* ------------------------------------------------------------------ decode */

/* Gray+alpha pair to gray over the backdrop level, rounded. */
static inline uint8_t over(uint8_t g, uint8_t a, unsigned backdrop)
{
    return (uint8_t)(((unsigned)g * a + backdrop * (255u - a) + 127u) / 255u);
}

/* The level that transparency shows: white paper, as a canvas drawing in dark ink
 * expects; but black when most of the image is transparent (a drawing on a clear
 * layer) and what is drawn is light (white chalk, a dark theme's pen), which on white
 * would vanish. */
static unsigned backdrop(const uint8_t *pairs, size_t n)
{
    uint64_t clear = 0, ink = 0, cover = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned g = pairs[2 * i], a = pairs[2 * i + 1];
        clear += a < 128;
        ink += (uint64_t)g * a;
        cover += a;
    }
    return clear * 2 > n && cover > 0 && ink > cover * 127 ? 0u : 255u;
}

/* Source pixel index for displayed pixel (x, y) under EXIF orientation o; the stored
 * image is sw x sh. */
static size_t oriented_index(int o, int x, int y, int sw, int sh)
{
    int sx, sy;
    switch (o) {
    case 2: sx = sw - 1 - x; sy = y; break;
    case 3: sx = sw - 1 - x; sy = sh - 1 - y; break;
    case 4: sx = x; sy = sh - 1 - y; break;
    case 5: sx = y; sy = x; break;
    case 6: sx = y; sy = sh - 1 - x; break;
    case 7: sx = sw - 1 - y; sy = sh - 1 - x; break;
    case 8: sx = sw - 1 - y; sy = x; break;
    default: sx = x; sy = y; break;
    }
    return (size_t)sy * (size_t)sw + (size_t)sx;
}

/* A 16-bit image's gray+alpha pairs made 8-bit, in place. The level is the high byte,
 * rounded, unless every gray level lies under 256: then the image is 8-bit levels
 * saved in 16 bits (as Pillow writes its "I" images, of 32-bit integers), whose low
 * byte is the level; read by its high byte, such a digit was black on black. Alpha
 * always scales. Byte i is written after value i, which it comes from, was read, and
 * is never read again. */
static void pairs_16_to_8(uint16_t *v, size_t n)
{
    uint16_t top = 0;
    for (size_t i = 0; i < n; i++)
        top = v[2 * i] > top ? v[2 * i] : top;
    uint8_t *p = (uint8_t *)v;
    for (size_t i = 0; i < 2 * n; i++) {
        const unsigned x = v[i];
        p[i] = (uint8_t)(i % 2 == 0 && top < 256 ? x : (x + 128) / 257);
    }
}

/* The image as gray+alpha byte pairs, as stbi_load_from_memory(..., 2) gives them; a
 * 16-bit PNG (deep) is decoded in 16 bits, for pairs_16_to_8. */
static uint8_t *load_pairs(const void *data, size_t size, bool deep, int *w, int *h)
{
    int comp = 0;
    if (deep) {
        uint16_t *v = stbi_load_16_from_memory(data, (int)size, w, h, &comp, 2);
        if (v)
            pairs_16_to_8(v, (size_t)*w * (size_t)*h);
        return (uint8_t *)v;
    }
    return stbi_load_from_memory(data, (int)size, w, h, &comp, 2);
}

mn_status mn_image_decode_gray(const void *data, size_t size, size_t max_pixels,
                               mn_gray_image *out, mn_image_info *info, mn_error *err)
{
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "no output image");
    *out = (mn_gray_image){0, 0, NULL};
    if (!data && size > 0)
        return mn_fail(err, MN_ERR_ARG, "image data is NULL");

    mn_image_info meta;
    stored s;
    mn_status st = probe(data, data ? size : 0, max_pixels, &meta, &s, err);
    if (st != MN_OK)
        return st;
    const int sw = s.w, sh = s.h;

    stbi_set_flip_vertically_on_load_thread(0);
    int w = 0, h = 0;
    uint8_t *buf = load_pairs(data, size, s.deep, &w, &h);
    if (!buf)
        return mn_fail(err, MN_ERR_FORMAT, "cannot decode %s image: %s",
                       mn_image_format_name(meta.format),
                       stbi_failure_reason() ? stbi_failure_reason() : "unknown reason");
    if (w != sw || h != sh) {  /* never seen; the buffer size below depends on it */
        stbi_image_free(buf);
        return mn_fail(err, MN_ERR_FORMAT, "%s image decoded as %dx%d, header said %dx%d",
                       mn_image_format_name(meta.format), w, h, sw, sh);
    }

    /* stb gives gray+alpha pairs in a 2*n byte buffer; the gray result is made in
     * place so that stb's allocation is the only one. */
    size_t n = (size_t)w * (size_t)h;
    /* a JPEG has no alpha: skip the pass over it */
    const unsigned paper = meta.format == MN_IMAGE_FORMAT_JPEG ? 255u : backdrop(buf, n);
    if (meta.orientation == 1) {
        for (size_t i = 0; i < n; i++)  /* writes at i never overtake reads at 2i */
            buf[i] = over(buf[2 * i], buf[2 * i + 1], paper);
    } else {
        /* Composite into the upper half going backwards (the write at n+i never
         * overtakes the reads at 2i, 2i+1), then reorient into the lower half. */
        uint8_t *gray = buf + n;
        for (size_t i = n; i-- > 0;)
            gray[i] = over(buf[2 * i], buf[2 * i + 1], paper);
        for (int y = 0; y < meta.height; y++)
            for (int x = 0; x < meta.width; x++)
                buf[(size_t)y * (size_t)meta.width + (size_t)x] =
                    gray[oriented_index(meta.orientation, x, y, w, h)];
    }
    out->width = meta.width;
    out->height = meta.height;
    out->pixels = buf;
    if (info)
        *info = meta;
    return MN_OK;
}

void mn_gray_image_free(mn_gray_image *img)
{
    if (!img)
        return;
    stbi_image_free(img->pixels);
    *img = (mn_gray_image){0, 0, NULL};
}
