/* MNISTNet as a whole: the gradient of the full network against finite differences,
 * batch independence, determinism, PyTorch's initialisation bounds, Adam's update. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_adam.h"
#include "mn_net.h"
#include "mn_rng.h"

enum { BATCH = 4 };

typedef struct {
    mn_params p, g;
    mn_workspace *ws;
    float x[BATCH * MN_IMAGE_PIXELS];
    uint8_t labels[BATCH];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    mn_error err;
    assert_int_equal(mn_params_alloc(&f->p, &err), MN_OK);
    assert_int_equal(mn_params_alloc(&f->g, &err), MN_OK);
    assert_int_equal(mn_workspace_create(&f->ws, 16, 2, &err), MN_OK);
    mn_params_init(&f->p, 7);
    mn_rng rng;
    mn_rng_seed(&rng, 99);
    /* blobs of ink on a dark background, like digits */
    for (int i = 0; i < BATCH * MN_IMAGE_PIXELS; i++)
        f->x[i] = mn_rng_uniform(&rng) < 0.25f ? 2.0f + mn_rng_uniform(&rng) : -0.4242f;
    for (int b = 0; b < BATCH; b++)
        f->labels[b] = (uint8_t)((3 * b + 1) % MN_NUM_CLASSES);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mn_params_free(&f->p);
    mn_params_free(&f->g);
    mn_workspace_destroy(f->ws);
    free(f);
    return 0;
}

/* Probabilities from the training pass without dropout. */
static void predict_training_path(fixture *f, const float *x, int n, float *probs)
{
    mn_net_forward(&f->p, f->ws, x, n, false, 0);
    memcpy(probs, mn_workspace_probs(f->ws), (size_t)n * MN_NUM_CLASSES * sizeof *probs);
}

static double loss_at(fixture *f, bool train)
{
    mn_net_forward(&f->p, f->ws, f->x, BATCH, train, 1234);
    return mn_net_loss(f->ws, f->labels, BATCH, NULL);
}

/* Central differences in double around a few parameters of each tensor from `first`
 * on, chosen among those with the largest gradients so that float rounding does not
 * dominate. */
static void check_gradients_from(fixture *f, bool train, enum mn_tensor_id first)
{
    loss_at(f, train);
    assert_int_equal(mn_net_backward(&f->p, &f->g, f->ws, f->labels, BATCH, NULL), MN_OK);
    for (int t = (int)first; t < MN_NUM_TENSORS; t++) {
        const mn_tensor_spec *spec = &mn_net_tensors[t];
        float *grad = f->g.t[t], *param = f->p.t[t];
        int checked = 0;
        for (int pick = 0; pick < 3; pick++) {
            size_t best = 0;
            float best_abs = -1.0f;
            for (size_t i = (size_t)pick; i < spec->count; i += 3)
                if (fabsf(grad[i]) > best_abs) {
                    best_abs = fabsf(grad[i]);
                    best = i;
                }
            if (best_abs <= 0.0f)
                continue;
            const float eps = 1e-3f;
            float keep = param[best];
            param[best] = keep + eps;
            double up = loss_at(f, train);
            param[best] = keep - eps;
            double down = loss_at(f, train);
            param[best] = keep;
            double fd = (up - down) / (2.0 * eps);
            if (fabs(fd - grad[best]) > 0.05 * fabs(fd) + 2e-4)
                fail_msg("%s[%zu]: backward %.6g, finite differences %.6g", spec->name, best,
                         grad[best], fd);
            checked++;
        }
        assert_true(checked > 0); /* every tensor receives gradient */
    }
}

static void check_gradients(fixture *f, bool train)
{
    check_gradients_from(f, train, MN_CONV1_W);
}

static void test_gradients_eval_mode(void **state)
{
    check_gradients(*state, false);
}

static void test_gradients_with_dropout(void **state)
{
    check_gradients(*state, true); /* the same seed replays the same masks */
}

/* The rate after fc1 is the workspace's: MNISTNet's by default, another rate gives
 * other masks, and backward follows the rate that forward used. */
static void test_fc_dropout_rate(void **state)
{
    fixture *f = *state;
    float a[BATCH * MN_NUM_CLASSES], b[BATCH * MN_NUM_CLASSES], c[BATCH * MN_NUM_CLASSES];
    mn_net_forward(&f->p, f->ws, f->x, BATCH, true, 5);
    memcpy(a, mn_workspace_probs(f->ws), sizeof a);
    mn_workspace_set_fc_dropout(f->ws, MN_FC_DROPOUT);
    mn_net_forward(&f->p, f->ws, f->x, BATCH, true, 5);
    memcpy(b, mn_workspace_probs(f->ws), sizeof b);
    mn_workspace_set_fc_dropout(f->ws, 0.3f);
    mn_net_forward(&f->p, f->ws, f->x, BATCH, true, 5);
    memcpy(c, mn_workspace_probs(f->ws), sizeof c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    check_gradients_from(f, true, MN_FC1_W); /* the layers next to that dropout */
    mn_workspace_set_fc_dropout(f->ws, MN_FC_DROPOUT);
}

static void test_batch_independence(void **state)
{
    /* an image's prediction must not depend on its batch-mates or its position */
    fixture *f = *state;
    float batch_probs[BATCH * MN_NUM_CLASSES], one[MN_NUM_CLASSES];
    predict_training_path(f, f->x, BATCH, batch_probs);
    for (int b = 0; b < BATCH; b++) {
        predict_training_path(f, f->x + b * MN_IMAGE_PIXELS, 1, one);
        for (int j = 0; j < MN_NUM_CLASSES; j++)
            assert_float_equal(one[j], batch_probs[b * MN_NUM_CLASSES + j], 1e-6);
    }
}

static void test_packed_prediction_matches(void **state)
{
    /* the serving path (weights packed once, conv2's ReLU-pool fused, fc1 in NHWC
     * order, skipping zero inputs for a few images and one GEMM for more) must give
     * the training path's probabilities, for every batch size */
    enum { N = 16 }; /* the fixture's workspace holds 16 */
    fixture *f = *state;
    static float x[N * MN_IMAGE_PIXELS];
    for (int i = 0; i < N * MN_IMAGE_PIXELS; i++) /* the fixture's images, shifted */
        x[i] = f->x[(i + 29 * (i / (BATCH * MN_IMAGE_PIXELS))) % (BATCH * MN_IMAGE_PIXELS)];
    mn_packed_weights *packed = malloc(sizeof *packed);
    mn_net_pack(&f->p, packed);
    float want[N * MN_NUM_CLASSES], got[N * MN_NUM_CLASSES];
    predict_training_path(f, x, N, want);
    const int batches[] = {N, BATCH, 1};
    for (size_t k = 0; k < sizeof batches / sizeof batches[0]; k++) {
        const int n = batches[k];
        for (int b0 = 0; b0 + n <= N; b0 += n) {
            mn_net_predict_packed(&f->p, packed, f->ws, x + b0 * MN_IMAGE_PIXELS, n, got);
            for (int i = 0; i < n * MN_NUM_CLASSES; i++)
                assert_float_equal(got[i], want[b0 * MN_NUM_CLASSES + i], 1e-6);
        }
    }
    free(packed);
}

static void test_backward_needs_kept_state(void **state)
{
    /* an inference pass keeps nothing for backward (no argmax, other layouts): a
     * backward after it, or over more images than the pass saw, is refused */
    fixture *f = *state;
    mn_packed_weights *packed = malloc(sizeof *packed);
    float probs[BATCH * MN_NUM_CLASSES];
    mn_error err;
    mn_net_pack(&f->p, packed);
    memset(f->g.memory, 0, MN_NUM_PARAMS * sizeof(float));
    assert_int_equal(mn_net_backward(&f->p, &f->g, f->ws, f->labels, BATCH, &err), MN_ERR_ARG);
    mn_net_forward(&f->p, f->ws, f->x, BATCH, true, 3);
    mn_net_predict_packed(&f->p, packed, f->ws, f->x, BATCH, probs);
    assert_int_equal(mn_net_backward(&f->p, &f->g, f->ws, f->labels, BATCH, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "inference"));
    for (size_t i = 0; i < MN_NUM_PARAMS; i++) /* refused before touching the gradients */
        assert_true(f->g.memory[i] == 0.0f);
    mn_net_forward(&f->p, f->ws, f->x, 2, true, 3);
    assert_int_equal(mn_net_backward(&f->p, &f->g, f->ws, f->labels, BATCH, &err), MN_ERR_ARG);
    assert_int_equal(mn_net_backward(&f->p, &f->g, f->ws, f->labels, 2, &err), MN_OK);
    free(packed);
}

static void test_workspace_thread_count(void **state)
{
    /* the caller's thread count, checked; and the same probabilities on 1 thread as on
     * the fixture's 2: the forward pass splits images, never an image's sums */
    fixture *f = *state;
    mn_workspace *one;
    float two_threads[BATCH * MN_NUM_CLASSES];
    assert_int_equal(mn_workspace_create(&one, 4, 0, NULL), MN_ERR_ARG);
    assert_null(one);
    assert_int_equal(mn_workspace_create(&one, 4, 1, NULL), MN_OK);
    predict_training_path(f, f->x, BATCH, two_threads);
    mn_net_forward(&f->p, one, f->x, BATCH, false, 0);
    assert_memory_equal(mn_workspace_probs(one), two_threads, sizeof two_threads);
    mn_workspace_destroy(one);
}

static void test_dropout_seed_determinism(void **state)
{
    fixture *f = *state;
    float a[BATCH * MN_NUM_CLASSES], b[BATCH * MN_NUM_CLASSES], c[BATCH * MN_NUM_CLASSES];
    mn_net_forward(&f->p, f->ws, f->x, BATCH, true, 5);
    memcpy(a, mn_workspace_probs(f->ws), sizeof a);
    mn_net_forward(&f->p, f->ws, f->x, BATCH, true, 5);
    memcpy(b, mn_workspace_probs(f->ws), sizeof b);
    mn_net_forward(&f->p, f->ws, f->x, BATCH, true, 6);
    memcpy(c, mn_workspace_probs(f->ws), sizeof c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

static void test_init_bounds(void **state)
{
    fixture *f = *state;
    const int fan_in[MN_NUM_TENSORS] = {9, 9, 288, 288, 3136, 3136, 128, 128};
    for (int t = 0; t < MN_NUM_TENSORS; t++) {
        const float bound = 1.0f / sqrtf((float)fan_in[t]);
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < mn_net_tensors[t].count; i++) {
            lo = fminf(lo, f->p.t[t][i]);
            hi = fmaxf(hi, f->p.t[t][i]);
        }
        assert_true(lo >= -bound && hi <= bound);
        if (mn_net_tensors[t].count >= 100) /* the range is actually used */
            assert_true(hi - lo > 1.6f * bound);
    }
    mn_params q;
    assert_int_equal(mn_params_alloc(&q, NULL), MN_OK);
    mn_params_init(&q, 7);
    assert_memory_equal(q.memory, f->p.memory, MN_NUM_PARAMS * sizeof(float));
    mn_params_init(&q, 8);
    assert_memory_not_equal(q.memory, f->p.memory, MN_NUM_PARAMS * sizeof(float));
    mn_params_free(&q);
}

static void test_tensor_table(void **state)
{
    (void)state;
    size_t offset = 0;
    for (int t = 0; t < MN_NUM_TENSORS; t++) {
        size_t n = 1;
        for (int d = 0; d < mn_net_tensors[t].ndim; d++)
            n *= (size_t)mn_net_tensors[t].shape[d];
        assert_int_equal(n, mn_net_tensors[t].count);
        assert_int_equal(offset, mn_net_tensors[t].offset);
        offset += n;
    }
    assert_int_equal(offset, MN_NUM_PARAMS);
    assert_string_equal(mn_net_tensors[MN_FC1_W].name, "fc1.weight");
    assert_int_equal(mn_net_tensors[MN_FC1_W].shape[1], 3136);
}

static void test_adam_matches_pytorch_formula(void **state)
{
    (void)state;
    mn_adam adam;
    assert_int_equal(mn_adam_init(&adam, 3, 0.01f, NULL), MN_OK);
    float p[3] = {1.0f, -2.0f, 0.5f};
    const float g1[3] = {0.1f, -0.3f, 0.0f}, g2[3] = {0.2f, 0.1f, 1e-4f};
    double m[3] = {0}, v[3] = {0}, want[3] = {1.0, -2.0, 0.5};
    for (int step = 1; step <= 2; step++) {
        const float *g = step == 1 ? g1 : g2;
        mn_adam_update(&adam, p, g);
        for (int i = 0; i < 3; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * (double)g[i] * g[i];
            double mh = m[i] / (1 - pow(0.9, step)), vh = v[i] / (1 - pow(0.999, step));
            want[i] -= 0.01 * mh / (sqrt(vh) + 1e-8);
        }
        for (int i = 0; i < 3; i++)
            assert_float_equal(p[i], want[i], 1e-6);
    }
    assert_int_equal(adam.step, 2);
    mn_adam_free(&adam);
}

static void test_learns_a_fixed_batch(void **state)
{
    /* a few Adam steps on one batch must drive its loss down: the pieces fit together */
    fixture *f = *state;
    mn_adam adam;
    assert_int_equal(mn_adam_init(&adam, MN_NUM_PARAMS, 1e-3f, NULL), MN_OK);
    double first = loss_at(f, false), last = first;
    for (int step = 0; step < 20; step++) {
        mn_net_forward(&f->p, f->ws, f->x, BATCH, true, (uint64_t)step);
        mn_net_loss(f->ws, f->labels, BATCH, NULL);
        assert_int_equal(mn_net_backward(&f->p, &f->g, f->ws, f->labels, BATCH, NULL), MN_OK);
        mn_adam_update(&adam, f->p.memory, f->g.memory);
    }
    last = loss_at(f, false);
    assert_true(last < 0.25 * first);
    mn_adam_free(&adam);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_table),
        cmocka_unit_test_setup_teardown(test_init_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gradients_eval_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gradients_with_dropout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_independence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packed_prediction_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropout_seed_determinism, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fc_dropout_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backward_needs_kept_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workspace_thread_count, setup, teardown),
        cmocka_unit_test(test_adam_matches_pytorch_formula),
        cmocka_unit_test_setup_teardown(test_learns_a_fixed_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
