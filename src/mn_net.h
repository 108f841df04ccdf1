/* MNISTNet: conv-relu-pool x2, dropout, fc-relu-dropout, fc (see ARCHITECTURE.md).
 *
 * Parameters live in one float buffer in PyTorch's tensor order and layouts
 * (conv1.weight [32,1,3,3], ..., fc2.bias [10]); gradients use a second buffer with
 * the same layout, so that Adam and the model file see plain arrays. Activations
 * live in a workspace sized once for a maximum batch, so a training step or a
 * prediction allocates nothing.
 *
 * Inputs are normalised images, batch-major, 784 floats each (row-major 28x28):
 * (pixel/255 - MN_MNIST_MEAN) / MN_MNIST_STD. */
#ifndef MN_NET_H
#define MN_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mn_error.h"

#define MN_IMAGE_SIDE 28
#define MN_IMAGE_PIXELS (MN_IMAGE_SIDE * MN_IMAGE_SIDE)
#define MN_NUM_CLASSES 10
#define MN_MNIST_MEAN 0.1307f
#define MN_MNIST_STD 0.3081f

/* MNISTNet's layer sizes, written here once: the tensor table, the parameter count
 * and every buffer size derive from them. */
enum {
    MN_CONV1_CHANNELS = 32,
    MN_CONV2_CHANNELS = 64,
    MN_HIDDEN = 128,                                    /* fc1's outputs */
    MN_POOLED_SIDE = MN_IMAGE_SIDE / 4,                 /* 7: after two 2x2 poolings */
    MN_FC1_INPUTS = MN_CONV2_CHANNELS * MN_POOLED_SIDE * MN_POOLED_SIDE /* 3136 */
};

enum mn_tensor_id {
    MN_CONV1_W, MN_CONV1_B, MN_CONV2_W, MN_CONV2_B,
    MN_FC1_W, MN_FC1_B, MN_FC2_W, MN_FC2_B,
    MN_NUM_TENSORS
};

/* Each tensor's float count, and its offset as the sum of those before it. */
enum {
    MN_CONV1_W_COUNT = MN_CONV1_CHANNELS * 1 * 3 * 3,
    MN_CONV1_B_COUNT = MN_CONV1_CHANNELS,
    MN_CONV2_W_COUNT = MN_CONV2_CHANNELS * MN_CONV1_CHANNELS * 3 * 3,
    MN_CONV2_B_COUNT = MN_CONV2_CHANNELS,
    MN_FC1_W_COUNT = MN_HIDDEN * MN_FC1_INPUTS,
    MN_FC1_B_COUNT = MN_HIDDEN,
    MN_FC2_W_COUNT = MN_NUM_CLASSES * MN_HIDDEN,
    MN_FC2_B_COUNT = MN_NUM_CLASSES,
    MN_CONV1_W_OFFSET = 0,
    MN_CONV1_B_OFFSET = MN_CONV1_W_OFFSET + MN_CONV1_W_COUNT,
    MN_CONV2_W_OFFSET = MN_CONV1_B_OFFSET + MN_CONV1_B_COUNT,
    MN_CONV2_B_OFFSET = MN_CONV2_W_OFFSET + MN_CONV2_W_COUNT,
    MN_FC1_W_OFFSET = MN_CONV2_B_OFFSET + MN_CONV2_B_COUNT,
    MN_FC1_B_OFFSET = MN_FC1_W_OFFSET + MN_FC1_W_COUNT,
    MN_FC2_W_OFFSET = MN_FC1_B_OFFSET + MN_FC1_B_COUNT,
    MN_FC2_B_OFFSET = MN_FC2_W_OFFSET + MN_FC2_W_COUNT,
    MN_PARAMS_END = MN_FC2_B_OFFSET + MN_FC2_B_COUNT
};

typedef struct mn_tensor_spec {
    const char *name;   /* PyTorch state_dict key, e.g. "conv1.weight" */
    int ndim;
    int shape[4];
    size_t offset;      /* in floats, within the parameter buffer */
    size_t count;       /* number of floats */
} mn_tensor_spec;

extern const mn_tensor_spec mn_net_tensors[MN_NUM_TENSORS];
#define MN_NUM_PARAMS ((size_t)MN_PARAMS_END) /* 421,642 */

/* A parameter (or gradient) buffer: `memory` holds MN_NUM_PARAMS floats and
 * t[id] points at tensor id inside it. */
typedef struct mn_params {
    float *memory;
    float *t[MN_NUM_TENSORS];
} mn_params;

mn_status mn_params_alloc(mn_params *p, mn_error *err);   /* zero-filled */
void mn_params_free(mn_params *p);
/* PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights
 * (Kaiming-uniform with a = sqrt(5)) and biases. Deterministic for a seed. */
void mn_params_init(mn_params *p, uint64_t seed);

typedef struct mn_workspace mn_workspace;

/* A workspace for batches of up to max_batch images, run on `threads` threads (the
 * caller's choice: the trainer's --threads, 1 for a server's request thread); the
 * library reads no process-wide thread setting. */
mn_status mn_workspace_create(mn_workspace **out, int max_batch, int threads, mn_error *err);
void mn_workspace_destroy(mn_workspace *ws);
int mn_workspace_max_batch(const mn_workspace *ws);

/* Dropout rates of training passes: after the second pooling (MNISTNet's 0.25) and
 * after fc1 (MNISTNet's 0.5, a workspace's default until it is set otherwise). */
#define MN_POOL_DROPOUT 0.25f
#define MN_FC_DROPOUT 0.5f
/* Sets the rate after fc1 for the training passes that follow, in [0, 0.9]. */
void mn_workspace_set_fc_dropout(mn_workspace *ws, float rate);

/* The weights repacked into the kernels' layouts (mn_conv.h, mn_winograd.h,
 * mn_winograd4.h, mn_gemm_tile.h), all by mn_net_pack. conv2 has two layouts because
 * the two passes must keep their own arithmetic: the training pass (backward's
 * state, and a model bit-identical to earlier trainers') takes Winograd F(2x2,3x3),
 * whose errors stay near 8e-7 where gradients are summed, while inference takes
 * F(4x4,3x3), 27 % fewer multiplications at errors up to 6e-6. fc1 needs no packed
 * form in training (its GEMMs read fc1.weight as it is). Inference reads it
 * transposed, its rows (fc1's inputs) in NHWC order so that pool2's output feeds it
 * without PyTorch's C,H,W flatten, in two layouts: whole 512-byte rows for one
 * image, which skips the rows of zero inputs (walking the panels instead is 1.7x
 * slower: eight scattered lines a row), and 16-column panels for a batch, whose
 * GEMM keeps a 16 KiB slice of a panel in L1 (rows 512 bytes apart would fall into
 * 8 of its 64 sets). A server packs once per loaded model; mn_net_forward
 * packs the training layouts into its workspace each call, since training changes
 * the weights every step. */
typedef struct mn_packed_weights {
    float conv1[9 * MN_CONV1_CHANNELS];                 /* [9][32]: the direct kernel's */
    float conv2_f2[16 * MN_CONV1_CHANNELS * MN_CONV2_CHANNELS]; /* [16][32][64] */
    float conv2_f4[36 * MN_CONV1_CHANNELS * MN_CONV2_CHANNELS]; /* [36][32][64] */
    float fc1_rows[MN_FC1_INPUTS * MN_HIDDEN];          /* [3136][128] */
    float fc1_panels[MN_FC1_INPUTS * MN_HIDDEN];        /* [8][3136][16] */
} mn_packed_weights;

/* Packs every layout, for mn_net_predict_packed. */
void mn_net_pack(const mn_params *p, mn_packed_weights *out);

/* Forward pass over `batch` images that keeps what mn_net_backward needs. With
 * `train`, dropout is applied with masks drawn from `dropout_seed` (the same seed
 * gives the same masks whatever the thread count). Leaves softmax probabilities in
 * mn_workspace_probs(ws), batch x 10. */
void mn_net_forward(const mn_params *p, mn_workspace *ws, const float *input, int batch,
                    bool train, uint64_t dropout_seed);
const float *mn_workspace_probs(const mn_workspace *ws);

/* Mean cross-entropy of the last forward pass against labels; also counts correct
 * predictions into *correct (may be NULL). */
float mn_net_loss(mn_workspace *ws, const uint8_t *labels, int batch, int *correct);

/* Backward pass of the last mn_net_forward (with train = true or false; dropout
 * masks are reused) for the mean cross-entropy loss against labels. Overwrites
 * grads. MN_ERR_ARG, grads untouched, when the last pass was mn_net_predict_packed
 * (which keeps nothing for backward) or covered fewer than `batch` images. */
mn_status mn_net_backward(const mn_params *p, mn_params *grads, mn_workspace *ws,
                          const uint8_t *labels, int batch, mn_error *err);

/* Inference: probabilities (batch x 10) for `batch` normalised images, no dropout,
 * with weights packed beforehand by mn_net_pack. The same layers
 * as mn_net_forward, with fused kernels where nothing is kept for backward. */
void mn_net_predict_packed(const mn_params *p, const mn_packed_weights *packed,
                           mn_workspace *ws, const float *input, int batch, float *probs);

/* Normalises 8-bit pixels into network input. */
void mn_normalize_pixels(const uint8_t *pixels, size_t n, float *out);

#endif
