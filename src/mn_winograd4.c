#include "config.h"

#include "mn_gemm_tile.h"
#include "mn_simd.h"
#include "mn_winograd4.h"

void mn_winograd4_pack(const float *w, int cin, int cout, float *u)
{
    static const double G[6][3] = {{1.0 / 4, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                   {0, 0, 1}};
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++) {
            const float *g = w + ((size_t)co * cin + ci) * 9;
            double t[6][3]; /* G g, in double: the constants are not exact in float */
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * g[0 * 3 + j] + G[i][1] * g[1 * 3 + j] + G[i][2] * g[2 * 3 + j];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) /* (G g) G^T */
                    u[((size_t)(i * 6 + j) * cin + ci) * cout + co] =
                        (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
        }
}

enum { TILE_BLOCK = MN_WINOGRAD4_TILE_BLOCK };

size_t mn_winograd4_scratch_floats(int h, int w, int cin, int cout)
{
    size_t tiles = (size_t)((h + 3) / 4) * (size_t)((w + 3) / 4);
    return 36 * (tiles < TILE_BLOCK ? tiles : TILE_BLOCK) * (size_t)(cin + cout);
}

/* r = B^T x for one column of six, B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 * 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1] */
static inline __attribute__((always_inline)) void input_transform(const mn_v8 x[6], mn_v8 r[6])
{
    const mn_v8 two = mn_v8_set1(2), four = mn_v8_set1(4), five = mn_v8_set1(5);
    const mn_v8 t0 = x[4] - four * x[2], t1 = x[3] - four * x[1];
    const mn_v8 t2 = x[4] - x[2], t3 = two * (x[3] - x[1]);
    r[0] = four * x[0] - five * x[2] + x[4];
    r[1] = t0 + t1;
    r[2] = t0 - t1;
    r[3] = t2 + t3;
    r[4] = t2 - t3;
    r[5] = four * x[1] - five * x[3] + x[5];
}

/* y = A^T m for one column of six, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
 * 0 1 -1 8 -8 1] */
static inline __attribute__((always_inline)) void output_transform(const mn_v8 m[6], mn_v8 y[4])
{
    const mn_v8 a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    y[0] = m[0] + a + c;
    y[1] = b + mn_v8_set1(2) * d;
    y[2] = a + mn_v8_set1(4) * c;
    y[3] = b + mn_v8_set1(8) * d + m[5];
}

/* The geometry the three steps share; V and M hold one block of tb tiles. */
typedef struct {
    int tw, tb, pw, ph, cin, cout;
    size_t prow; /* one padded input row, in floats */
} tiling;

/* V = B^T d B for tiles t0..t0+nt, eight channels at a time. The helpers are always
 * inlined into the MN_HOT_KERNEL, so they are compiled for its targets. */
static inline __attribute__((always_inline)) void transform_inputs(const tiling *g,
                                                                   const float *padded,
                                                                   int t0, int nt, float *v)
{
    for (int k = 0; k < nt; k++) {
        const int t = t0 + k;
        const float *d = padded + (size_t)(4 * (t / g->tw)) * g->prow +
                         (size_t)(4 * (t % g->tw)) * g->cin;
        for (int ci = 0; ci < g->cin; ci += 8) {
            mn_v8 r[6][6]; /* B^T d, column by column */
            for (int j = 0; j < 6; j++) {
                mn_v8 x[6], c[6];
                for (int i = 0; i < 6; i++)
                    x[i] = mn_v8_load(d + i * g->prow + (size_t)j * g->cin + ci);
                input_transform(x, c);
                for (int i = 0; i < 6; i++)
                    r[i][j] = c[i];
            }
            for (int i = 0; i < 6; i++) { /* (B^T d) B, row by row */
                mn_v8 o[6];
                input_transform(r[i], o);
                for (int j = 0; j < 6; j++)
                    mn_v8_store(v + ((size_t)(i * 6 + j) * g->tb + k) * g->cin + ci, o[j]);
            }
        }
    }
}

/* Y = A^T M A plus the bias for tile k of the block (tile t of the image), then
 * ReLU and 2x2 max-pooling of the pooling windows inside the image. */
static inline __attribute__((always_inline)) void transform_output(const tiling *g,
                                                                   const float *m, int k,
                                                                   int t, const float *bias,
                                                                   float *out)
{
    const int py = 2 * (t / g->tw), px = 2 * (t % g->tw), cout = g->cout;
    const int rows = g->ph - py < 2 ? g->ph - py : 2, cols = g->pw - px < 2 ? g->pw - px : 2;
    for (int co = 0; co < cout; co += 8) {
        mn_v8 s[4][6]; /* A^T M, column by column */
        for (int j = 0; j < 6; j++) {
            mn_v8 q[6], c[4];
            for (int i = 0; i < 6; i++)
                q[i] = mn_v8_load(m + ((size_t)(i * 6 + j) * g->tb + k) * cout + co);
            output_transform(q, c);
            for (int i = 0; i < 4; i++)
                s[i][j] = c[i];
        }
        mn_v8 y[4][4]; /* (A^T M) A, row by row */
        for (int i = 0; i < 4; i++)
            output_transform(s[i], y[i]);
        const mn_v8 b = mn_v8_load(bias + co);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                const mn_v8 best =
                    mn_v8_max(mn_v8_max(mn_v8_max(y[2 * i][2 * j], y[2 * i][2 * j + 1]),
                                        y[2 * i + 1][2 * j]),
                              y[2 * i + 1][2 * j + 1]);
                mn_v8_store(out + ((size_t)(py + i) * g->pw + px + j) * cout + co,
                            mn_v8_relu(best + b));
            }
    }
}

MN_HOT_KERNEL
void mn_winograd4_forward_relu_pool(const float *padded, int h, int w, int cin, const float *u,
                                    const float *bias, int cout, float *out, float *scratch)
{
    const int tw = (w + 3) / 4, ntiles = ((h + 3) / 4) * tw;
    const tiling g = {.tw = tw, .tb = ntiles < TILE_BLOCK ? ntiles : TILE_BLOCK,
                      .pw = w / 2, .ph = h / 2, .cin = cin, .cout = cout,
                      .prow = (size_t)mn_winograd4_padded_side(w) * cin};
    float *v = scratch;                           /* [36][tb][cin] */
    float *m = scratch + (size_t)36 * g.tb * cin; /* [36][tb][cout] */

    for (int t0 = 0; t0 < ntiles; t0 += g.tb) {
        const int nt = ntiles - t0 < g.tb ? ntiles - t0 : g.tb;
        transform_inputs(&g, padded, t0, nt, v);
        /* the 36 element-wise products, summed over input channels */
        for (int e = 0; e < 36; e++)
            mn_gemm_tiles(v + (size_t)e * g.tb * cin, nt, cin, u + (size_t)e * cin * cout, cout,
                          m + (size_t)e * g.tb * cout);
        for (int k = 0; k < nt; k++)
            transform_output(&g, m, k, t0 + k, bias, out);
    }
}
