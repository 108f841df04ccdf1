/* Training checkpoints: everything needed to continue a run exactly where it stopped,
 * in one safetensors file beside the model (FILE.ckpt), published atomically.
 *
 * Tensors: the parameters ("param.<name>"), Adam's moments ("adam.m.<name>",
 * "adam.v.<name>") and the per-epoch history ("history", [epochs done, 6]).
 * Metadata: the settings that must match for a resume (seed, batch size, learning
 * rate, train limit, data set checksum), the position (epoch, batch), Adam's step,
 * the shuffle generator's state at the start of the current epoch and the epoch's
 * running sums. Dropout masks derive from (seed, step), so no other state exists. */
#ifndef TRAINER_CHECKPOINT_H
#define TRAINER_CHECKPOINT_H

#include <stdbool.h>

#include "mn_adam.h"
#include "mn_error.h"
#include "mn_net.h"
#include "mn_rng.h"
#include "options.h" /* MAX_EPOCHS */

typedef struct epoch_record {
    float train_loss, train_accuracy, test_loss, test_accuracy, seconds, images_per_second;
} epoch_record;

/* What must match for a checkpoint to be resumed. */
typedef struct run_settings {
    uint64_t seed;
    int batch_size;
    float lr;
    float dropout;                  /* after fc1 (--dropout) */
    bool deskew;                    /* --deskew */
    long train_count;               /* images actually trained on */
    int epochs;                     /* the schedule depends on the run's length */
    bool cosine;
    char data_sha256[65];
    char augment[MN_AUGMENT_TEXT + 48]; /* mn_augment_format's text, then ",as-served",
                                         * ",scan-copies=PCT%" and ",shapes=PCT%" if so */
} run_settings;

typedef struct train_state {
    int epoch;                      /* epochs completed */
    int batch;                      /* batches completed in the current epoch */
    mn_rng epoch_rng;               /* shuffle generator at the start of the current epoch */
    double loss_sum;                /* current epoch: sum of batch losses x batch sizes */
    long correct, seen;             /* current epoch: correct predictions, images */
    long shapes;                    /* current epoch: shapes among the images seen, which
                                       the training accuracy leaves out */
    double seconds;                 /* training time so far, all sessions */
    int history_len;
    epoch_record history[MAX_EPOCHS];
} train_state;

mn_status checkpoint_save(const char *path, const run_settings *settings,
                          const train_state *state, const mn_params *params,
                          const mn_adam *adam, mn_error *err);

/* Loads PATH into state, params and adam (adam already initialised with the run's
 * learning rate). MN_ERR_ARG when the checkpoint belongs to other settings (the
 * message says which); other statuses when it is unreadable or malformed. Nothing
 * is modified unless the whole checkpoint is valid. */
mn_status checkpoint_load(const char *path, const run_settings *settings,
                          train_state *state, mn_params *params, mn_adam *adam,
                          mn_error *err);

#endif
