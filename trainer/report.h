/* The training report: a small JSON document beside the model (per-epoch loss and
 * accuracy, the test confusion matrix, timings), published atomically. The web UI's
 * model page draws it. */
#ifndef TRAINER_REPORT_H
#define TRAINER_REPORT_H

#include "checkpoint.h"
#include "mn_error.h"
#include "mn_metadata.h"

typedef struct evaluation {
    double loss;
    double accuracy;                /* percent */
    long count;
    long confusion[10][10];         /* [true label][predicted] */
} evaluation;

/* Temperature scaling (mn_calibrate.h), fitted after training. */
typedef struct calibration {
    double temperature;             /* 1 when not fitted */
    long images;                    /* distorted training images it was fitted on; 0: none */
    double nll_before, nll_after;   /* their mean negative log-likelihood at T = 1 and T */
    double ece_before, ece_after;   /* test set, 15 bins, fraction */
    double temperature_low_res;     /* for digits read at low resolution; 1 when not fitted */
    long low_res_images;            /* classic copies it was fitted on; 0: none */
} calibration;

/* FILE.safetensors -> FILE.report.json (any other name: NAME.report.json). */
void report_path_for(const char *model_path, char *out, size_t size);

mn_status report_write(const char *path, const mn_metadata *model_meta,
                       const train_state *state, const evaluation *final_eval,
                       const calibration *cal, mn_error *err);

#endif
