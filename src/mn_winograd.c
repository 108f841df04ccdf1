#include "config.h"

#include "mn_gemm_tile.h"
#include "mn_simd.h"
#include "mn_winograd.h"

void mn_winograd_pack(const float *w, int cin, int cout, float *u)
{
    /* G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] */
    static const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++) {
            const float *g = w + ((size_t)co * cin + ci) * 9;
            float t[4][3]; /* G g */
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * g[0 * 3 + j] + G[i][1] * g[1 * 3 + j] + G[i][2] * g[2 * 3 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) /* (G g) G^T */
                    u[((size_t)(i * 4 + j) * cin + ci) * cout + co] =
                        t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
        }
}

/* A block of tiles is transformed, multiplied and transformed back before the next:
 * its V and M (12 x 16 x 32 and 12 x 16 x 64 floats for conv2, 72 KiB) stay in cache
 * from one step to the next, where whole-image arrays (300 KiB) spilled out of L1 and
 * L2. Twelve tiles are two blocks of the GEMM kernel's six rows. */
enum { TILE_BLOCK = MN_WINOGRAD_TILE_BLOCK };

size_t mn_winograd_scratch_floats(int h, int w, int cin, int cout)
{
    size_t tiles = (size_t)(h / 2) * (size_t)(w / 2);
    return 16 * (tiles < TILE_BLOCK ? tiles : TILE_BLOCK) * (size_t)(cin + cout);
}

/* The geometry the three steps share; V and M hold one block of tb tiles. */
typedef struct {
    int tw, tb, w, cin, cout;
    size_t prow; /* one padded input row, in floats */
} tiling;

/* V = B^T d B for tiles t0..t0+nt, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 * eight channels at a time. The helpers are always inlined into the MN_HOT_KERNEL,
 * so they are compiled for its targets. */
static inline __attribute__((always_inline)) void transform_inputs(const tiling *g,
                                                                   const float *padded,
                                                                   int t0, int nt, float *v)
{
    const size_t prow = g->prow;
    for (int k = 0; k < nt; k++) {
        const int t = t0 + k;
        const float *d = padded + (size_t)(2 * (t / g->tw)) * prow +
                         (size_t)(2 * (t % g->tw)) * g->cin;
        for (int ci = 0; ci < g->cin; ci += 8) {
            mn_v8 x[4][4], r[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    x[i][j] = mn_v8_load(d + i * prow + (size_t)j * g->cin + ci);
            for (int j = 0; j < 4; j++) { /* rows: B^T d */
                r[0][j] = x[0][j] - x[2][j];
                r[1][j] = x[1][j] + x[2][j];
                r[2][j] = x[2][j] - x[1][j];
                r[3][j] = x[1][j] - x[3][j];
            }
            for (int i = 0; i < 4; i++) { /* columns: (B^T d) B */
                const mn_v8 o[4] = {r[i][0] - r[i][2], r[i][1] + r[i][2], r[i][2] - r[i][1],
                                    r[i][1] - r[i][3]};
                for (int j = 0; j < 4; j++)
                    mn_v8_store(v + ((size_t)(i * 4 + j) * g->tb + k) * g->cin + ci, o[j]);
            }
        }
    }
}

/* Y = A^T M A, A^T = [1 1 1 0; 0 1 -1 -1], plus the bias, for tile k of the block
 * (tile t of the image). */
static inline __attribute__((always_inline)) void transform_output(const tiling *g,
                                                                   const float *m, int k,
                                                                   int t, const float *bias,
                                                                   float *out)
{
    const int y = 2 * (t / g->tw), x = 2 * (t % g->tw), cout = g->cout;
    for (int co = 0; co < cout; co += 8) {
        mn_v8 q[4][4], s[2][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                q[i][j] = mn_v8_load(m + ((size_t)(i * 4 + j) * g->tb + k) * cout + co);
        for (int j = 0; j < 4; j++) {
            s[0][j] = q[0][j] + q[1][j] + q[2][j];
            s[1][j] = q[1][j] - q[2][j] - q[3][j];
        }
        const mn_v8 b = mn_v8_load(bias + co);
        mn_v8 y4[2][2];
        for (int i = 0; i < 2; i++) {
            y4[i][0] = s[i][0] + s[i][1] + s[i][2] + b;
            y4[i][1] = s[i][1] - s[i][2] - s[i][3] + b;
        }
        for (int i = 0; i < 2; i++) {
            float *o = out + ((size_t)(y + i) * g->w + x) * cout + co;
            mn_v8_store(o, y4[i][0]);
            mn_v8_store(o + cout, y4[i][1]);
        }
    }
}

MN_HOT_KERNEL
void mn_winograd_forward(const float *padded, int h, int w, int padded_w, int cin,
                         const float *u, const float *bias, int cout, float *out,
                         float *scratch)
{
    const int tw = w / 2, ntiles = (h / 2) * tw;
    const tiling g = {.tw = tw, .tb = ntiles < TILE_BLOCK ? ntiles : TILE_BLOCK, .w = w,
                      .cin = cin, .cout = cout, .prow = (size_t)padded_w * cin};
    float *v = scratch;                           /* [16][tb][cin] */
    float *m = scratch + (size_t)16 * g.tb * cin; /* [16][tb][cout] */

    for (int t0 = 0; t0 < ntiles; t0 += g.tb) {
        const int nt = ntiles - t0 < g.tb ? ntiles - t0 : g.tb;
        transform_inputs(&g, padded, t0, nt, v);
        /* the 16 element-wise products, summed over input channels: 16 GEMMs
         * [nt x cin] x [cin x cout] */
        for (int e = 0; e < 16; e++)
            mn_gemm_tiles(v + (size_t)e * g.tb * cin, nt, cin, u + (size_t)e * cin * cout, cout,
                          m + (size_t)e * g.tb * cout);
        for (int k = 0; k < nt; k++)
            transform_output(&g, m, k, t0 + k, bias, out);
    }
}
