#include "config.h"

#include <stddef.h>

#include <math.h>

#include "mn_loss.h"

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
            total += log(sum) + zmax - z[labels[i]];
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
            dlogits[k] = (probs[k] - (j == labels[i] ? 1.0f : 0.0f)) * inv;
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
