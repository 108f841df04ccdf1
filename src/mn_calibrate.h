/* Confidence calibration by temperature scaling (Guo et al. 2017): one scalar T
 * divides the logits, softmax(z / T), which softens over-confident probabilities
 * (T > 1) without changing any argmax. Given only probabilities p = softmax(z), the
 * same result is p_i^(1/T) renormalised, computed here in the log domain so that
 * tiny or zero probabilities neither underflow to a 0/0 nor become NaN.
 *
 * Probabilities are row-major, n rows of `classes` floats; labels are class indices.
 * Nothing allocates. */
#ifndef MN_CALIBRATE_H
#define MN_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#define MN_CALIBRATE_T_MIN 0.05
#define MN_CALIBRATE_T_MAX 20.0
#define MN_CALIBRATE_ECE_BINS 15

/* Tempers one probability vector in place. T = 1, T <= 0, or a non-finite T leave it
 * unchanged; a row with no positive entry is left as it is. */
void mn_calibrate_apply(float *probs, int classes, double temperature);

/* Mean negative log-likelihood of the labels under the tempered probabilities. */
double mn_calibrate_nll(const float *probs, const uint8_t *labels, size_t n, int classes,
                        double temperature);

/* The T in [MN_CALIBRATE_T_MIN, MN_CALIBRATE_T_MAX] that minimises the NLL: a
 * golden-section search on log T (the NLL is convex in 1/T). n = 0 gives 1. */
double mn_calibrate_fit(const float *probs, const uint8_t *labels, size_t n, int classes);

/* Expected calibration error: rows binned by confidence (their largest probability)
 * into `bins` equal-width bins; the count-weighted mean of |accuracy - confidence|
 * over the bins, as a fraction (0..1). n = 0 gives 0. */
double mn_calibrate_ece(const float *probs, const uint8_t *labels, size_t n, int classes,
                        int bins);

#endif
