/* mnist-train: trains MNISTNet and publishes the model (see --help). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mn_denormals.h"
#include "mn_gemm.h"
#include "options.h"
#include "train.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig; /* the loop checkpoints and stops at the next batch boundary */
}

int main(int argc, char **argv)
{
    mn_gemm_prefer_fast_kernels(argv);
    mn_flush_denormals(); /* before any thread starts: they inherit it */
    train_options opts;
    switch (options_parse(&opts, argc, argv, stdout, stderr)) {
    case OPTIONS_EXIT_OK: return 0;
    case OPTIONS_USAGE_ERROR: return EXIT_USAGE;
    case OPTIONS_RUN: break;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return train_run(&opts, &stop_signal);
}
