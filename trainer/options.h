/* Command line and environment of mnist-train. */
#ifndef TRAINER_OPTIONS_H
#define TRAINER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mn_augment.h"

/* The most epochs a run may have (--epochs): the checkpoint keeps a history row for each. */
#define MAX_EPOCHS 1000

typedef struct train_options {
    char data_dir[4096];   /* --data, env DATA_DIR */
    char out_path[4096];   /* --out, env MODEL_PATH */
    int epochs;
    int batch_size;
    float lr;
    bool cosine;           /* --schedule cosine (default) or constant */
    uint64_t seed;
    int threads;           /* 0: OpenMP's default (online CPUs) */
    long limit_train;      /* 0: all */
    long limit_test;       /* 0: all */
    bool resume;
    int keep_versions;     /* --keep-versions: earlier versions kept beside the current */
    mn_augment augment;    /* --augment: training-time distortions (none: the original) */
    bool calibrate;        /* --no-calibrate: no temperature fitted (T = 1) */
    bool as_served;        /* --as-served: distorted images go through the service's
                              preprocessing (only when augmenting) */
    int scan_copies;       /* --scan-copies: each epoch also trains on scanner's copies of
                              this percentage of the images (only when augmenting) */
    int shapes;            /* --shapes: ... and as many pictures without a digit as
                              this percentage of the images (only when augmenting) */
    float dropout;         /* --dropout: the rate after fc1 (default 0.3; 0.5, MNISTNet's,
                              with --augment none) */
    int deskew;            /* --deskew (1), --no-deskew (0): digits' slant taken out
                              (mn_deskew.h); default 1, 0 with --augment none */
} train_options;

typedef enum { OPTIONS_RUN, OPTIONS_EXIT_OK, OPTIONS_USAGE_ERROR } options_result;

/* Fills opts from the environment, then argv. Prints --help/--version output to out
 * and one-line usage errors to err. */
options_result options_parse(train_options *opts, int argc, char **argv, FILE *out, FILE *err);

#endif
