/* Adam, exactly as torch.optim.Adam without weight decay or amsgrad:
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * State: two buffers the size of the parameters and the step count t. */
#ifndef MN_ADAM_H
#define MN_ADAM_H

#include <stddef.h>
#include <stdint.h>

#include "mn_error.h"

typedef struct mn_adam {
    float lr, beta1, beta2, eps;
    uint64_t step;  /* updates done so far */
    size_t n;
    float *m, *v;   /* owned, n floats each */
} mn_adam;

/* PyTorch's defaults for betas and eps; m and v start at zero. */
mn_status mn_adam_init(mn_adam *adam, size_t n, float lr, mn_error *err);
void mn_adam_free(mn_adam *adam);
void mn_adam_update(mn_adam *adam, float *params, const float *grads);

#endif
