/* The training run: load the data, resume or initialise, train, evaluate, publish. */
#ifndef TRAINER_TRAIN_H
#define TRAINER_TRAIN_H

#include <signal.h>

#include "options.h"

/* Exit statuses (sysexits.h values, so that scripts and Kubernetes can tell). */
enum {
    EXIT_USAGE = 64,
    EXIT_DATA = 65,
    EXIT_INTERNAL = 70,
    EXIT_WRITE = 74
};

/* Runs the whole training and returns the process exit status. Stops at the next
 * batch boundary once *stop_signal is non-zero, after saving a checkpoint, and then
 * returns 128 + that signal number. Logs to stderr. */
int train_run(const train_options *opts, volatile sig_atomic_t *stop_signal);

#endif
