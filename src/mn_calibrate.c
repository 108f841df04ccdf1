#include "config.h"

#include <float.h>
#include <math.h>

#include "mn_calibrate.h"

/* log of a probability; zero (an underflowed softmax) counts as the smallest float */
static double log_prob(float p)
{
    return log(p > 1e-45f ? (double)p : 1e-45);
}

static int usable_temperature(double t)
{
    return t > 0.0 && isfinite(t);
}

/* log-sum-exp of log(p_i) / T over the row, and log(p_label) / T */
static double tempered_log_norm(const float *row, int classes, double inv_t)
{
    double top = -INFINITY, sum = 0.0;
    for (int i = 0; i < classes; i++)
        if (log_prob(row[i]) * inv_t > top)
            top = log_prob(row[i]) * inv_t;
    for (int i = 0; i < classes; i++)
        sum += exp(log_prob(row[i]) * inv_t - top);
    return top + log(sum);
}

void mn_calibrate_apply(float *probs, int classes, double temperature)
{
    if (!usable_temperature(temperature) || temperature == 1.0)
        return;
    int any = 0;
    for (int i = 0; i < classes; i++)
        any |= probs[i] > 0.0f;
    if (!any)
        return;
    const double inv_t = 1.0 / temperature;
    const double norm = tempered_log_norm(probs, classes, inv_t);
    for (int i = 0; i < classes; i++)
        probs[i] = (float)exp(log_prob(probs[i]) * inv_t - norm);
}

double mn_calibrate_nll(const float *probs, const uint8_t *labels, size_t n, int classes,
                        double temperature)
{
    if (n == 0)
        return 0.0;
    const double inv_t = usable_temperature(temperature) ? 1.0 / temperature : 1.0;
    double sum = 0.0;
    for (size_t r = 0; r < n; r++) {
        const float *row = probs + r * (size_t)classes;
        sum += tempered_log_norm(row, classes, inv_t) - log_prob(row[labels[r]]) * inv_t;
    }
    return sum / (double)n;
}

double mn_calibrate_fit(const float *probs, const uint8_t *labels, size_t n, int classes)
{
    if (n == 0)
        return 1.0;
    const double ratio = 0.5 * (sqrt(5.0) - 1.0);
    double lo = log(MN_CALIBRATE_T_MIN), hi = log(MN_CALIBRATE_T_MAX);
    double a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
    double fa = mn_calibrate_nll(probs, labels, n, classes, exp(a));
    double fb = mn_calibrate_nll(probs, labels, n, classes, exp(b));
    while (hi - lo > 1e-4) { /* T to 0.01 % */
        if (fa <= fb) {
            hi = b;
            b = a;
            fb = fa;
            a = hi - ratio * (hi - lo);
            fa = mn_calibrate_nll(probs, labels, n, classes, exp(a));
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + ratio * (hi - lo);
            fb = mn_calibrate_nll(probs, labels, n, classes, exp(b));
        }
    }
    return exp(0.5 * (lo + hi));
}

double mn_calibrate_ece(const float *probs, const uint8_t *labels, size_t n, int classes,
                        int bins)
{
    enum { MAX_BINS = 100 };
    double confidence[MAX_BINS] = {0}, correct[MAX_BINS] = {0};
    double count[MAX_BINS] = {0};
    if (n == 0 || bins < 1)
        return 0.0;
    if (bins > MAX_BINS)
        bins = MAX_BINS;
    for (size_t r = 0; r < n; r++) {
        const float *row = probs + r * (size_t)classes;
        int best = 0;
        for (int i = 1; i < classes; i++)
            if (row[i] > row[best])
                best = i;
        int bin = (int)((double)row[best] * bins);
        bin = bin < 0 ? 0 : bin >= bins ? bins - 1 : bin;
        confidence[bin] += row[best];
        correct[bin] += best == labels[r];
        count[bin] += 1.0;
    }
    double ece = 0.0;
    for (int b = 0; b < bins; b++)
        if (count[b] > 0.0)
            ece += fabs(correct[b] - confidence[b]) / (double)n;
    return ece;
}
