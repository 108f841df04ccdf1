/* Temperature scaling (mn_calibrate.h): tempering equals softmax(logits / T), zeros
 * stay finite, fitting recovers a known temperature, ECE on hand-made cases. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_calibrate.h"
#include "mn_rng.h"

#define K 10

static void softmax(const double *z, double t, float *p)
{
    double top = z[0], sum = 0;
    for (int i = 1; i < K; i++)
        top = fmax(top, z[i]);
    for (int i = 0; i < K; i++)
        sum += exp((z[i] - top) / t);
    for (int i = 0; i < K; i++)
        p[i] = (float)(exp((z[i] - top) / t) / sum);
}

static void test_apply_equals_softmax_of_scaled_logits(void **state)
{
    (void)state;
    const double z[K] = {2.0, 0.5, -1.0, 3.5, 0.0, -4.0, 1.0, 2.2, -0.3, 0.9};
    const double temps[] = {0.5, 1.7, 4.0};
    for (size_t k = 0; k < sizeof temps / sizeof *temps; k++) {
        float p[K], want[K];
        softmax(z, 1.0, p);
        softmax(z, temps[k], want);
        mn_calibrate_apply(p, K, temps[k]);
        for (int i = 0; i < K; i++)
            assert_float_equal(p[i], want[i], 1e-6);
    }
}

static void test_apply_identity_and_bad_temperatures(void **state)
{
    (void)state;
    const float orig[K] = {0.5f, 0.25f, 0.125f, 0.125f, 0, 0, 0, 0, 0, 0};
    const double leave[] = {1.0, 0.0, -2.0, NAN, INFINITY};
    for (size_t k = 0; k < sizeof leave / sizeof *leave; k++) {
        float p[K];
        memcpy(p, orig, sizeof p);
        mn_calibrate_apply(p, K, leave[k]);
        assert_memory_equal(p, orig, sizeof p);
    }
    float zero[K] = {0};
    mn_calibrate_apply(zero, K, 2.0);
    for (int i = 0; i < K; i++)
        assert_true(zero[i] == 0.0f);
}

/* A one-hot vector (what an underflowed softmax gives): finite, sums to 1, argmax kept;
 * a high temperature lifts the zeros. */
static void test_apply_with_zeros(void **state)
{
    (void)state;
    const double temps[] = {0.1, 3.0, 1000.0};
    for (size_t k = 0; k < sizeof temps / sizeof *temps; k++) {
        float p[K] = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0};
        mn_calibrate_apply(p, K, temps[k]);
        double sum = 0;
        for (int i = 0; i < K; i++) {
            assert_true(isfinite(p[i]) && p[i] >= 0.0f);
            assert_true(i == 2 || p[i] <= p[2]);
            sum += p[i];
        }
        assert_float_equal(sum, 1.0, 1e-5);
    }
    float p[K] = {0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0};
    mn_calibrate_apply(p, K, 1000.0);
    assert_true(p[0] > 0.05f); /* 1e-45^(1/1000) is about 0.9: nearly uniform */
}

/* Labels drawn from softmax(z / 2.5) while the model says softmax(z): the fitted
 * temperature is 2.5. */
static void test_fit_recovers_a_known_temperature(void **state)
{
    (void)state;
    enum { N = 8000 };
    const double truth = 2.5;
    float *probs = malloc((size_t)N * K * sizeof *probs), real[K];
    uint8_t *labels = malloc(N);
    assert_non_null(probs);
    assert_non_null(labels);
    mn_rng rng;
    mn_rng_seed(&rng, 42);
    for (int r = 0; r < N; r++) {
        double z[K];
        for (int i = 0; i < K; i++)
            z[i] = 8.0 * mn_rng_uniform(&rng);
        softmax(z, 1.0, probs + (size_t)r * K);
        softmax(z, truth, real);
        float u = mn_rng_uniform(&rng), acc = 0;
        labels[r] = K - 1;
        for (int i = 0; i < K; i++)
            if (u < (acc += real[i])) {
                labels[r] = (uint8_t)i;
                break;
            }
    }
    double t = mn_calibrate_fit(probs, labels, N, K);
    assert_float_equal(t, truth, 0.1 * truth);
    double at_t = mn_calibrate_nll(probs, labels, N, K, t);
    assert_true(at_t < mn_calibrate_nll(probs, labels, N, K, 1.0));
    assert_true(at_t <= mn_calibrate_nll(probs, labels, N, K, t * 1.2));
    assert_true(at_t <= mn_calibrate_nll(probs, labels, N, K, t / 1.2));
    assert_true(mn_calibrate_fit(probs, labels, 0, K) == 1.0);
    free(probs);
    free(labels);
}

static void test_nll_by_hand(void **state)
{
    (void)state;
    float p[2 * K] = {0};
    p[0] = 0.5f, p[1] = 0.5f;           /* label 0: -log 0.5 */
    p[K + 3] = 0.25f, p[K + 4] = 0.75f; /* label 4: -log 0.75 */
    const uint8_t labels[2] = {0, 4};
    assert_float_equal(mn_calibrate_nll(p, labels, 2, K, 1.0),
                       (-log(0.5) - log(0.75)) / 2, 1e-6);
}

static void test_ece_by_hand(void **state)
{
    (void)state;
    /* two rows at confidence 0.9 (one right), two at 0.6 (both right):
     * (2/4)|0.5 - 0.9| + (2/4)|1.0 - 0.6| = 0.4 */
    float p[4 * K] = {0};
    p[0 * K + 1] = 0.9f, p[0 * K + 2] = 0.1f;
    p[1 * K + 1] = 0.9f, p[1 * K + 2] = 0.1f;
    p[2 * K + 5] = 0.6f, p[2 * K + 6] = 0.4f;
    p[3 * K + 5] = 0.6f, p[3 * K + 6] = 0.4f;
    const uint8_t labels[4] = {1, 2, 5, 5};
    assert_float_equal(mn_calibrate_ece(p, labels, 4, K, 15), 0.4, 1e-6);
    /* one bin holding 0.9 and 0.6 with 1.5 right of 2... one bin of all: |0.75 - 0.75| */
    const uint8_t half[4] = {1, 2, 5, 5};
    assert_float_equal(mn_calibrate_ece(p, half, 4, K, 1), fabs(0.75 - 0.75), 1e-6);
    /* certainty that is always right */
    float sure[2 * K] = {0};
    sure[3] = 1.0f, sure[K + 7] = 1.0f;
    const uint8_t right[2] = {3, 7};
    assert_float_equal(mn_calibrate_ece(sure, right, 2, K, 15), 0.0, 1e-9);
    const uint8_t wrong[2] = {4, 7};
    assert_float_equal(mn_calibrate_ece(sure, wrong, 2, K, 15), 0.5, 1e-9);
    assert_true(mn_calibrate_ece(sure, right, 0, K, 15) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_equals_softmax_of_scaled_logits),
        cmocka_unit_test(test_apply_identity_and_bad_temperatures),
        cmocka_unit_test(test_apply_with_zeros),
        cmocka_unit_test(test_fit_recovers_a_known_temperature),
        cmocka_unit_test(test_nll_by_hand),
        cmocka_unit_test(test_ece_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
