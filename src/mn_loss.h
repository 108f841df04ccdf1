/* Softmax and cross-entropy over a batch of logits [batch][classes], and the
 * predicted class. */
#ifndef MN_LOSS_H
#define MN_LOSS_H

#include <stdint.h>

/* The label of a picture that holds no digit (mn_shapes.h): its target is the uniform
 * distribution, and its loss the divergence from it, KL(uniform || probs), which is 0
 * when the network is evenly unsure (the cross-entropy less its least value, log
 * classes). Its gradient is probs - 1/classes. */
#define MN_LABEL_NONE 255

/* probs = softmax(logits), row by row; returns the mean cross-entropy against labels
 * (computed from log-sum-exp, so it stays finite; MN_LABEL_NONE as above), or 0 when
 * labels is NULL. */
float mn_softmax_xent_forward(const float *logits, const uint8_t *labels, int batch,
                              int classes, float *probs);

/* Gradient of the mean cross-entropy: dlogits = (probs - onehot(labels)) / batch, the
 * uniform distribution standing for onehot(MN_LABEL_NONE). */
void mn_softmax_xent_backward(const float *probs, const uint8_t *labels, int batch,
                              int classes, float *dlogits);

/* The index of the largest of x[0..n), n >= 1; the first of equals wins, so a
 * prediction never depends on a tie's order of evaluation. */
int mn_argmax(const float *x, int n);

#endif
