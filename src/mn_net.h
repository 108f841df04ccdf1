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

enum mn_tensor_id {
    MN_CONV1_W, MN_CONV1_B, MN_CONV2_W, MN_CONV2_B,
    MN_FC1_W, MN_FC1_B, MN_FC2_W, MN_FC2_B,
    MN_NUM_TENSORS
};

typedef struct mn_tensor_spec {
    const char *name;   /* PyTorch state_dict key, e.g. "conv1.weight" */
    int ndim;
    int shape[4];
    size_t offset;      /* in floats, within the parameter buffer */
    size_t count;       /* number of floats */
} mn_tensor_spec;

extern const mn_tensor_spec mn_net_tensors[MN_NUM_TENSORS];
#define MN_NUM_PARAMS ((size_t)(288 + 32 + 18432 + 64 + 401408 + 128 + 1280 + 10))

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

mn_status mn_workspace_create(mn_workspace **out, int max_batch, mn_error *err);
void mn_workspace_destroy(mn_workspace *ws);
int mn_workspace_max_batch(const mn_workspace *ws);

/* The weights repacked into the kernels' layouts (see mn_conv.h, mn_winograd.h). A
 * forward pass needs them; mn_net_forward packs the convolutions each call (training
 * changes the weights every step), while a server packs once per loaded model. The
 * transposed fc1 lets a small batch skip the weights of inputs that ReLU zeroed:
 * most of them, which halves the memory traffic that dominates a single prediction;
 * a larger batch multiplies with its panels, packed once instead of on every call. */
typedef struct mn_packed_weights {
    float conv1[9 * 32];          /* [9][32]: the direct kernel's layout */
    float conv2[16 * 32 * 64];    /* [16][32][64]: Winograd F(2x2,3x3) domain */
    float conv2_f4[36 * 32 * 64]; /* [36][32][64]: F(4x4,3x3) domain, inference's
                                   * (mn_net_pack only) */
    float fc1_t[3136 * 128];      /* fc1.weight transposed, rows in NHWC order, [3136][128]
                                   * (mn_net_pack only) */
    float fc1_panels[3136 * 128]; /* the same in mn_gemm_tile.h's panels, [8][3136][16]
                                   * (mn_net_pack only) */
} mn_packed_weights;

void mn_net_pack(const mn_params *p, mn_packed_weights *out);

/* Forward pass over `batch` images. With `train`, dropout is applied with masks drawn
 * from `dropout_seed` (the same seed gives the same masks whatever the thread count).
 * Leaves softmax probabilities in mn_workspace_probs(ws), batch x 10. */
void mn_net_forward(const mn_params *p, mn_workspace *ws, const float *input, int batch,
                    bool train, uint64_t dropout_seed);
const float *mn_workspace_probs(const mn_workspace *ws);

/* Mean cross-entropy of the last forward pass against labels; also counts correct
 * predictions into *correct (may be NULL). */
float mn_net_loss(mn_workspace *ws, const uint8_t *labels, int batch, int *correct);

/* Backward pass of the last forward pass (which must have run with train = true or
 * false; dropout masks are reused) for the mean cross-entropy loss against labels.
 * Overwrites grads. */
void mn_net_backward(const mn_params *p, mn_params *grads, mn_workspace *ws,
                     const uint8_t *labels, int batch);

/* Inference: probabilities (batch x 10) for `batch` normalised images, no dropout. */
void mn_net_predict(const mn_params *p, mn_workspace *ws, const float *input, int batch,
                    float *probs);
/* The same with weights packed beforehand by mn_net_pack (nothing is repacked). */
void mn_net_predict_packed(const mn_params *p, const mn_packed_weights *packed,
                           mn_workspace *ws, const float *input, int batch, float *probs);

/* Normalises 8-bit pixels into network input. */
void mn_normalize_pixels(const uint8_t *pixels, size_t n, float *out);

#endif
