#include "config.h"

#include <stddef.h>

#include <math.h>

#include "mn_loss.h"

/* The logit the label's cross-entropy subtracts: the label's own, or for no digit the
 * mean logit plus log(classes), so that an evenly unsure answer costs 0. */
static double target_logit(const float *z, uint8_t label, int classes)
{
    if (label != MN_LABEL_NONE)
        return z[label];
    double mean = 0.0;
    for (int j = 0; j < classes; j++)
        mean += z[j];
    return mean / classes + log((double)classes);
}

float mn_softmax_xent_forward(const float *logits, const uint8_t *labels, int batch,
                              int classes, float *probs)
{
    double total = 0.0;
    for (int i = 0; i < batch; i++) {
        const float *z = logits + (size_t)i * classes;
        float *p = probs + (size_t)i * classes;
        float zmax = z[0];
        for (int j = 1; j < classes; j++)
            zmax = z[j] > zmax ? z[j] : zmax;
        double sum = 0.0;
        for (int j = 0; j < classes; j++) {
            p[j] = expf(z[j] - zmax);
            sum += p[j];
        }
        for (int j = 0; j < classes; j++)
            p[j] = (float)(p[j] / sum);
        if (labels)
            total += log(sum) + zmax - target_logit(z, labels[i], classes);
    }
    return labels ? (float)(total / batch) : 0.0f;
}

void mn_softmax_xent_backward(const float *probs, const uint8_t *labels, int batch,
                              int classes, float *dlogits)
{
    const float inv = 1.0f / (float)batch;
    for (int i = 0; i < batch; i++)
        for (int j = 0; j < classes; j++) {
            size_t k = (size_t)i * classes + j;
            const float target = labels[i] == MN_LABEL_NONE ? 1.0f / (float)classes
                               : j == labels[i] ? 1.0f : 0.0f;
            dlogits[k] = (probs[k] - target) * inv;
        }
}

int mn_argmax(const float *x, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (x[j] > x[best])
            best = j;
    return best;
}
