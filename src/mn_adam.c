#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mn_adam.h"

mn_status mn_adam_init(mn_adam *adam, size_t n, float lr, mn_error *err)
{
    memset(adam, 0, sizeof *adam);
    adam->m = calloc(n, sizeof(float));
    adam->v = calloc(n, sizeof(float));
    if (!adam->m || !adam->v) {
        mn_adam_free(adam);
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for Adam state (%zu floats)", 2 * n);
    }
    adam->n = n;
    adam->lr = lr;
    adam->beta1 = 0.9f;
    adam->beta2 = 0.999f;
    adam->eps = 1e-8f;
    return MN_OK;
}

void mn_adam_free(mn_adam *adam)
{
    free(adam->m);
    free(adam->v);
    adam->m = adam->v = NULL;
    adam->n = 0;
}

void mn_adam_update(mn_adam *adam, float *params, const float *grads)
{
    adam->step++;
    const float b1 = adam->beta1, b2 = adam->beta2;
    const float bc1 = 1.0f - (float)pow(b1, (double)adam->step);
    const float bc2 = 1.0f - (float)pow(b2, (double)adam->step);
    const float step_size = adam->lr / bc1, inv_sqrt_bc2 = 1.0f / sqrtf(bc2);
    float *m = adam->m, *v = adam->v;
    const long n = (long)adam->n;
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        const float g = grads[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        params[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + adam->eps);
    }
}
