#include "config.h"

#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "checkpoint.h"
#include "copies.h"
#include "mn_adam.h"
#include "mn_augment.h"
#include "mn_calibrate.h"
#include "mn_clock.h"
#include "mn_deskew.h"
#include "mn_gemm.h"
#include "mn_idx.h"
#include "mn_loss.h"
#include "mn_model.h"
#include "mn_net.h"
#include "mn_preprocess.h"
#include "mn_shapes.h"
#include "mn_versions.h"
#include "report.h"
#include "train.h"

typedef struct trainer {
    const train_options *opts;
    mn_dataset train, test;
    long ntrain, ntest;
    long ncopies;             /* scanner's copies trained on each epoch after the images */
    long nshapes;             /* pictures without a digit trained on after the copies */
    mn_params params, grads;
    mn_adam adam;
    mn_workspace *ws;
    float *x;                 /* one batch of normalised images */
    uint8_t *y;               /* its labels */
    uint32_t *order;          /* this epoch's permutation of its samples: the training
                                 images, then the copies, then the shapes */
    float *probs;             /* probabilities of every test or calibration image */
    uint8_t *labels;          /* their labels */
    calibration cal;
    mn_preprocess_scratch *scratch; /* one per OpenMP thread: classic copies, --as-served */
    int nscratch;
    run_settings settings;
    train_state state;
    char ckpt_path[4200];
} trainer;

#define LOG(...) fprintf(stderr, __VA_ARGS__)

static int threads_in_use(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* This thread's slot among t->scratch. */
static int thread_index(const trainer *t)
{
#ifdef _OPENMP
    int i = omp_get_thread_num();
    return i < t->nscratch ? i : 0;
#else
    (void)t;
    return 0;
#endif
}

/* Row x of a batch made what the network reads: deskewed when the run deskews
 * (mn_deskew.h), as the service deskews every input of the model. */
static void as_read(const trainer *t, float *x)
{
    if (t->opts->deskew)
        mn_deskew(x);
}

static void gather_batch(trainer *t, const mn_dataset *ds, const uint32_t *index, long first,
                         int n)
{
    for (int i = 0; i < n; i++) {
        size_t src = index ? index[first + i] : (size_t)(first + i);
        float *x = t->x + (size_t)i * MN_IMAGE_PIXELS;
        mn_normalize_pixels(ds->images + src * MN_IMAGE_PIXELS, MN_IMAGE_PIXELS, x);
        as_read(t, x);
        t->y[i] = ds->labels[src];
    }
}

/* Temperature scaling is fitted on this many training images, spread evenly over the
 * set and distorted as uploads are (every transform at strength 1, whatever the
 * training recipe), with random numbers no training epoch draws. */
#define CALIBRATION_IMAGES 10000L
#define CALIBRATION_EPOCH UINT64_MAX

/* The calibration images' distortions: every transform, a new one too, at strength 1. */
static mn_augment calibration_augment(void)
{
    mn_augment every;
    for (int k = 0; k < MN_AUG_KINDS; k++)
        every.strength[k] = 1.0f;
    return every;
}

/* x made from distorted pixels as the service would see them when served (an image
 * it would refuse is trained on as it is), or only normalised. */
static void read_distorted(trainer *t, bool served, uint8_t *pixels, float *x)
{
    mn_gray_image gray = {MN_IMAGE_SIDE, MN_IMAGE_SIDE, pixels};
    if (!served || mn_preprocess_gray(&gray, &t->scratch[thread_index(t)], x, NULL, NULL,
                                      NULL) != MN_OK)
        mn_normalize_pixels(pixels, MN_IMAGE_PIXELS, x);
    as_read(t, x);
}

/* A training batch, each image distorted by its own random numbers (mn_augment.h):
 * they come from (seed, epoch, sample number), so neither threads nor order matter,
 * and a copy draws other numbers than its original. A copy (copies.h) is made and
 * read as /predict reads the classic 8x8 format; a shape (mn_shapes.h) is drawn from
 * its sample's numbers, labelled MN_LABEL_NONE and distorted as the images are. */
static void gather_augmented(trainer *t, const mn_augment *aug, uint64_t seed, uint64_t epoch,
                             const uint32_t *index, long first, int n)
{
    const bool served = t->opts->as_served && mn_augment_enabled(aug);
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        size_t sample = index ? index[first + i] : (size_t)(first + i);
        const uint64_t sample_seed = mn_augment_seed(seed, epoch, sample);
        uint8_t pixels[MN_IMAGE_PIXELS];
        float *x = t->x + (size_t)i * MN_IMAGE_PIXELS;
        if (sample >= (size_t)(t->ntrain + t->ncopies)) {
            uint8_t shape[MN_IMAGE_PIXELS];
            t->y[i] = MN_LABEL_NONE;
            mn_shape_draw(sample_seed, shape);
            mn_augment_image(aug, sample_seed, -1, shape, pixels);
            read_distorted(t, served, pixels, x);
            continue;
        }
        size_t src = copy_source(t->ntrain, t->ncopies, sample);
        const uint8_t *digit = t->train.images + src * MN_IMAGE_PIXELS;
        t->y[i] = t->train.labels[src];
        if (sample != src) {
            classic_copy(aug, sample_seed, t->y[i], digit, &t->scratch[thread_index(t)], x);
            as_read(t, x);
            continue;
        }
        mn_augment_image(aug, sample_seed, t->y[i], digit, pixels);
        read_distorted(t, served, pixels, x);
    }
}

/* Copies the batch's probabilities and labels out, from row `first` on. */
static void keep_probs(trainer *t, long first, int n)
{
    memcpy(t->probs + (size_t)first * MN_NUM_CLASSES, mn_workspace_probs(t->ws),
           (size_t)n * MN_NUM_CLASSES * sizeof *t->probs);
    memcpy(t->labels + first, t->y, (size_t)n);
}

static void evaluate(trainer *t, evaluation *ev)
{
    const int bs = mn_workspace_max_batch(t->ws);
    double loss_sum = 0.0;
    memset(ev, 0, sizeof *ev);
    for (long first = 0; first < t->ntest; first += bs) {
        int n = (int)(t->ntest - first < bs ? t->ntest - first : bs);
        gather_batch(t, &t->test, NULL, first, n);
        mn_net_forward(&t->params, t->ws, t->x, n, false, 0);
        loss_sum += (double)mn_net_loss(t->ws, t->y, n, NULL) * n;
        keep_probs(t, first, n);
        const float *probs = mn_workspace_probs(t->ws);
        for (int i = 0; i < n; i++)
            ev->confusion[t->y[i]][mn_argmax(probs + i * MN_NUM_CLASSES, MN_NUM_CLASSES)]++;
    }
    ev->count = t->ntest;
    long correct = 0;
    for (int k = 0; k < 10; k++)
        correct += ev->confusion[k][k];
    ev->loss = loss_sum / (double)t->ntest;
    ev->accuracy = 100.0 * (double)correct / (double)t->ntest;
}

/* Classic copies (copies.h) of the calibration images t->order[first..first + n), as
 * rows of the batch; low_res[i] says whether the service reads row i at low resolution. */
static void gather_classic(trainer *t, long first, int n, bool *low_res)
{
    const mn_augment every = calibration_augment();
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const size_t src = t->order[first + i];
        const uint64_t seed = mn_augment_seed(t->opts->seed, CALIBRATION_EPOCH, src);
        t->y[i] = t->train.labels[src];
        float *x = t->x + (size_t)i * MN_IMAGE_PIXELS;
        low_res[i] = classic_copy(&every, seed, t->y[i], t->train.images + src * MN_IMAGE_PIXELS,
                                  &t->scratch[thread_index(t)], x);
        as_read(t, x);
    }
}

/* The temperature for digits read at low resolution: the network is less sure of
 * them than of MNIST-like ones, and one temperature fitted on both would leave them
 * under-confident. Fitted on classic copies of the calibration images (old scanners'
 * 8x8 format, as the service reads it), those read at low resolution. */
static void calibrate_low_res(trainer *t, long count)
{
    const int bs = mn_workspace_max_batch(t->ws);
    calibration *c = &t->cal;
    float *probs = t->probs + (size_t)t->ntest * MN_NUM_CLASSES;
    uint8_t *labels = t->labels + t->ntest;
    long kept = 0;
    bool *low_res = malloc((size_t)bs * sizeof *low_res);
    c->temperature_low_res = c->temperature;
    if (!low_res)
        return; /* no low-resolution temperature: the model's one serves those too */
    for (long first = 0; first < count; first += bs) {
        int n = (int)(count - first < bs ? count - first : bs);
        gather_classic(t, first, n, low_res);
        mn_net_forward(&t->params, t->ws, t->x, n, false, 0);
        const float *batch = mn_workspace_probs(t->ws);
        for (int i = 0; i < n; i++)
            if (low_res[i]) {
                memcpy(probs + (size_t)kept * MN_NUM_CLASSES, batch + (size_t)i * MN_NUM_CLASSES,
                       MN_NUM_CLASSES * sizeof *probs);
                labels[kept++] = t->y[i];
            }
    }
    free(low_res);
    c->low_res_images = kept;
    if (kept)
        c->temperature_low_res = mn_calibrate_fit(probs, labels, (size_t)kept, MN_NUM_CLASSES);
    LOG("Calibration: low-resolution temperature %.4f (%ld classic copies)\n",
        c->temperature_low_res, kept);
}

/* Fits the temperature (mn_calibrate.h) and measures the test set's calibration
 * error before and after it. t->probs holds the test set's probabilities: evaluate()
 * has just run. */
static void calibrate(trainer *t)
{
    const int bs = mn_workspace_max_batch(t->ws);
    calibration *c = &t->cal;
    const long count = t->ntrain < CALIBRATION_IMAGES ? t->ntrain : CALIBRATION_IMAGES;
    memset(c, 0, sizeof *c);
    c->temperature = 1.0;
    c->ece_before = c->ece_after = mn_calibrate_ece(t->probs, t->labels, (size_t)t->ntest,
                                                    MN_NUM_CLASSES, MN_CALIBRATE_ECE_BINS);
    if (!t->opts->calibrate)
        return;
    for (long i = 0; i < count; i++)
        t->order[i] = (uint32_t)(i * t->ntrain / count);
    const mn_augment every = calibration_augment();
    for (long first = 0; first < count; first += bs) {
        int n = (int)(count - first < bs ? count - first : bs);
        gather_augmented(t, &every, t->opts->seed, CALIBRATION_EPOCH, t->order, first, n);
        mn_net_forward(&t->params, t->ws, t->x, n, false, 0);
        keep_probs(t, t->ntest + first, n);
    }
    const float *probs = t->probs + (size_t)t->ntest * MN_NUM_CLASSES;
    const uint8_t *labels = t->labels + t->ntest;
    c->images = count;
    c->temperature = mn_calibrate_fit(probs, labels, (size_t)count, MN_NUM_CLASSES);
    c->nll_before = mn_calibrate_nll(probs, labels, (size_t)count, MN_NUM_CLASSES, 1.0);
    c->nll_after = mn_calibrate_nll(probs, labels, (size_t)count, MN_NUM_CLASSES, c->temperature);
    for (long r = 0; r < t->ntest; r++)
        mn_calibrate_apply(t->probs + r * MN_NUM_CLASSES, MN_NUM_CLASSES, c->temperature);
    c->ece_after = mn_calibrate_ece(t->probs, t->labels, (size_t)t->ntest, MN_NUM_CLASSES,
                                    MN_CALIBRATE_ECE_BINS);
    LOG("Calibration: temperature %.4f (NLL %.4f -> %.4f on %ld distorted training images); "
        "test ECE %.2f%% -> %.2f%%\n", c->temperature, c->nll_before, c->nll_after, count,
        100.0 * c->ece_before, 100.0 * c->ece_after);
    calibrate_low_res(t, count);
}

static int load_data(trainer *t)
{
    mn_error err;
    LOG("Loading MNIST from %s\n", t->opts->data_dir);
    if (mn_mnist_load(t->opts->data_dir, "train", &t->train, &err) ||
        mn_mnist_load(t->opts->data_dir, "t10k", &t->test, &err)) {
        LOG("mnist-train: %s\n", err.msg);
        return EXIT_DATA;
    }
    t->ntrain = t->opts->limit_train && t->opts->limit_train < (long)t->train.count
              ? t->opts->limit_train : (long)t->train.count;
    t->ntest = t->opts->limit_test && t->opts->limit_test < (long)t->test.count
             ? t->opts->limit_test : (long)t->test.count;
    /* copies only when augmenting: --augment none is the original recipe */
    if (mn_augment_enabled(&t->opts->augment)) {
        t->ncopies = t->ntrain * t->opts->scan_copies / 100;
        t->nshapes = t->ntrain * t->opts->shapes / 100;
    }
    LOG("Train: %ld images, %ld scanner's copies and %ld shapes an epoch, Test: %ld images "
        "(train-images sha256 %.12s...)\n", t->ntrain, t->ncopies, t->nshapes, t->ntest,
        t->train.images_sha256);
    return 0;
}

static int allocate(trainer *t)
{
    mn_error err;
    const int bs = t->opts->batch_size;
    if (mn_params_alloc(&t->params, &err) || mn_params_alloc(&t->grads, &err) ||
        mn_adam_init(&t->adam, MN_NUM_PARAMS, t->opts->lr, &err) ||
        mn_workspace_create(&t->ws, bs, threads_in_use(), &err)) {
        LOG("mnist-train: %s\n", err.msg);
        return EXIT_INTERNAL;
    }
    mn_workspace_set_fc_dropout(t->ws, t->opts->dropout);
    t->x = malloc((size_t)bs * MN_IMAGE_PIXELS * sizeof *t->x);
    t->y = malloc((size_t)bs);
    t->order = malloc((size_t)(t->ntrain + t->ncopies + t->nshapes) * sizeof *t->order);
    long rows = t->ntest + CALIBRATION_IMAGES; /* the test set's rows, then calibration's */
    t->probs = malloc((size_t)rows * MN_NUM_CLASSES * sizeof *t->probs);
    t->labels = malloc((size_t)rows);
    t->nscratch = threads_in_use();
    t->scratch = malloc((size_t)t->nscratch * sizeof *t->scratch);
    if (!t->x || !t->y || !t->order || !t->probs || !t->labels || !t->scratch) {
        LOG("mnist-train: out of memory\n");
        return EXIT_INTERNAL;
    }
    return 0;
}

/* Resumes from the checkpoint if it belongs to this run, else starts afresh. */
static void resume_or_init(trainer *t)
{
    mn_error err;
    memset(&t->state, 0, sizeof t->state);
    if (t->opts->resume && access(t->ckpt_path, F_OK) == 0) {
        mn_status st = checkpoint_load(t->ckpt_path, &t->settings, &t->state, &t->params,
                                       &t->adam, &err);
        if (st == MN_OK) {
            LOG("Resuming from %s: epoch %d, batch %d\n", t->ckpt_path, t->state.epoch + 1,
                t->state.batch);
            return;
        }
        LOG("Not resuming: %s; starting afresh\n", err.msg);
        memset(&t->state, 0, sizeof t->state);
    }
    mn_params_init(&t->params, t->opts->seed);
    mn_rng_seed(&t->state.epoch_rng, mn_mix64(t->opts->seed ^ 0x5348554646ull)); /* "SHUFF" */
}

static int save_checkpoint(trainer *t, bool fatal)
{
    mn_error err;
    if (checkpoint_save(t->ckpt_path, &t->settings, &t->state, &t->params, &t->adam, &err)) {
        LOG("mnist-train: %s: checkpoint not saved: %s\n", fatal ? "error" : "warning", err.msg);
        return EXIT_WRITE;
    }
    return 0;
}

/* Cosine decay from the peak rate to zero over the run: the last epochs refine with
 * small steps. Measured at 5 epochs (seed 42): constant 1e-3 as in the original
 * gives 99.06 % test accuracy, cosine from 1e-3 99.09 %, cosine from 2e-3 99.33 %
 * (99.30 % with seed 1), hence the defaults. */
static float learning_rate(const train_options *opts, uint64_t step, uint64_t total_steps)
{
    if (!opts->cosine)
        return opts->lr;
    return (float)(0.5 * opts->lr * (1.0 + cos(M_PI * (double)step / (double)total_steps)));
}

static long count_shapes(const uint8_t *labels, int n)
{
    long shapes = 0;
    for (int i = 0; i < n; i++)
        shapes += labels[i] == MN_LABEL_NONE;
    return shapes;
}

/* The share of the digits seen this epoch that were read right (shapes have no right
 * answer to count). */
static double train_accuracy(const train_state *s)
{
    const long digits = s->seen - s->shapes;
    return digits ? 100.0 * (double)s->correct / (double)digits : 0.0;
}

static int train_epochs(trainer *t, volatile sig_atomic_t *stop_signal)
{
    const int bs = t->opts->batch_size, epochs = t->opts->epochs;
    const long samples = t->ntrain + t->ncopies + t->nshapes;
    const int nbatches = (int)((samples + bs - 1) / bs);
    train_state *s = &t->state;

    for (; s->epoch < epochs; s->epoch++) {
        /* the permutation comes from the generator's state at the epoch's start, so a
         * resumed epoch replays it exactly */
        mn_rng rng = s->epoch_rng;
        for (long i = 0; i < samples; i++)
            t->order[i] = (uint32_t)i;
        mn_rng_shuffle_u32(&rng, t->order, (size_t)samples);
        LOG("Epoch [%d/%d]\n", s->epoch + 1, epochs);
        double start = mn_clock_seconds();
        long seen_before = s->seen;

        for (; s->batch < nbatches; s->batch++) {
            long first = (long)s->batch * bs;
            int n = (int)(samples - first < bs ? samples - first : bs);
            gather_augmented(t, &t->opts->augment, t->opts->seed, (uint64_t)s->epoch,
                             t->order, first, n);
            uint64_t dropout_seed = mn_mix64(t->opts->seed ^ mn_mix64(t->adam.step));
            mn_net_forward(&t->params, t->ws, t->x, n, true, dropout_seed);
            int correct;
            float loss = mn_net_loss(t->ws, t->y, n, &correct);
            (void)mn_net_backward(&t->params, &t->grads, t->ws, t->y, n, NULL); /* kept above */
            t->adam.lr = learning_rate(t->opts, t->adam.step, (uint64_t)nbatches * epochs);
            mn_adam_update(&t->adam, t->params.memory, t->grads.memory);
            s->loss_sum += (double)loss * n;
            s->correct += correct;
            s->seen += n;
            s->shapes += count_shapes(t->y, n);
            if ((s->batch + 1) % 100 == 0)
                LOG("  Batch [%d/%d], Loss: %.4f, Acc: %.2f%%\n", s->batch + 1, nbatches, loss,
                    train_accuracy(s));
            if (*stop_signal) {
                s->batch++;
                s->seconds += mn_clock_seconds() - start;
                LOG("Signal %d: saving a checkpoint at epoch %d, batch %d\n", (int)*stop_signal,
                    s->epoch + 1, s->batch);
                if (save_checkpoint(t, true))
                    return EXIT_WRITE;
                LOG("Checkpoint saved to %s; rerun to resume\n", t->ckpt_path);
                return 128 + (int)*stop_signal;
            }
        }
        double train_seconds = mn_clock_seconds() - start;
        evaluation ev;
        evaluate(t, &ev);
        double epoch_seconds = mn_clock_seconds() - start;
        epoch_record *r = &s->history[s->history_len++];
        r->train_loss = (float)(s->loss_sum / (double)s->seen);
        r->train_accuracy = (float)train_accuracy(s);
        r->test_loss = (float)ev.loss;
        r->test_accuracy = (float)ev.accuracy;
        r->seconds = (float)train_seconds;
        r->images_per_second = (float)((double)(s->seen - seen_before) / train_seconds);
        LOG("Train - Loss: %.4f, Acc: %.2f%%\n", r->train_loss, r->train_accuracy);
        LOG("Test - Loss: %.4f, Acc: %.2f%%\n", r->test_loss, r->test_accuracy);
        LOG("Epoch time: %.2f s training (%.0f images/s), %.2f s with evaluation\n",
            train_seconds, r->images_per_second, epoch_seconds);

        s->seconds += epoch_seconds;
        s->batch = 0;
        s->loss_sum = 0.0;
        s->correct = s->seen = s->shapes = 0;
        s->epoch_rng = rng;
        s->epoch++;
        save_checkpoint(t, false); /* best effort: the run can still finish without it */
        s->epoch--;
    }
    return 0;
}

static void utc_now(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The model's metadata: what /health, the web UI and mnist-model list show. */
static mn_status model_metadata(const trainer *t, const evaluation *ev, mn_metadata *meta,
                                mn_error *err)
{
    char created[32];
    utc_now(created, sizeof created);
    mn_metadata_init(meta);
    mn_status st = MN_OK;
    if (!st) st = mn_metadata_set(meta, "format", "pt", err);
    if (!st) st = mn_metadata_set(meta, "architecture", "MNISTNet", err);
    if (!st) st = mn_metadata_setf(meta, err, "epochs", "%d", t->opts->epochs);
    if (!st) st = mn_metadata_setf(meta, err, "test_accuracy", "%.2f", ev->accuracy);
    if (!st) st = mn_metadata_setf(meta, err, "test_loss", "%.4f", ev->loss);
    if (!st) st = mn_metadata_setf(meta, err, "test_images", "%ld", ev->count);
    if (!st) st = mn_metadata_setf(meta, err, "train_images", "%ld", t->ntrain);
    if (!st) st = mn_metadata_setf(meta, err, "training_seconds", "%.1f", t->state.seconds);
    if (!st) st = mn_metadata_set(meta, "created", created, err);
    if (!st) st = mn_metadata_setf(meta, err, "trainer_version", "%s %s", PACKAGE_NAME, PACKAGE_VERSION);
    if (!st) st = mn_metadata_set(meta, "dataset_sha256", t->train.images_sha256, err);
    if (!st) st = mn_metadata_setf(meta, err, "seed", "%" PRIu64, t->opts->seed);
    if (!st) st = mn_metadata_setf(meta, err, "batch_size", "%d", t->opts->batch_size);
    if (!st) st = mn_metadata_setf(meta, err, "lr", "%g", (double)t->opts->lr);
    if (!st) st = mn_metadata_set(meta, "schedule", t->opts->cosine ? "cosine" : "constant", err);
    if (!st) st = mn_metadata_setf(meta, err, "dropout", "%g", (double)t->opts->dropout);
    if (!st) st = mn_metadata_set(meta, "augment", t->settings.augment, err);
    if (!st && t->opts->deskew)
        st = mn_metadata_set(meta, "deskew", MN_DESKEW_METHOD, err);
    if (!st && t->cal.images)
        st = mn_metadata_setf(meta, err, "temperature", "%.4f", t->cal.temperature);
    if (!st && t->cal.low_res_images)
        st = mn_metadata_setf(meta, err, "temperature_low_res", "%.4f",
                              t->cal.temperature_low_res);
    return st;
}

/* The recipe a checkpoint must share to be resumed, and the model records: the
 * distortions, whether they pass through the service's preprocessing, the copies. */
static void describe_augmentation(const trainer *t, char *out, size_t size)
{
    char augment[MN_AUGMENT_TEXT];
    mn_augment_format(&t->opts->augment, augment, sizeof augment);
    const bool served = t->opts->as_served && mn_augment_enabled(&t->opts->augment);
    char copies[32] = "", shapes[32] = "";
    if (t->ncopies)
        snprintf(copies, sizeof copies, ",scan-copies=%d%%", t->opts->scan_copies);
    if (t->nshapes)
        snprintf(shapes, sizeof shapes, ",shapes=%d%%", t->opts->shapes);
    snprintf(out, size, "%s%s%s%s", augment, served ? ",as-served" : "", copies, shapes);
}

/* Keeps the newest --keep-versions earlier versions. A failure only costs disk space
 * (the new model is published already), so it is a warning. */
static void prune_versions(const trainer *t, const mn_version_layout *l)
{
    mn_error err;
    size_t removed = 0;
    if (mn_versions_prune(l, (size_t)t->opts->keep_versions, &removed, &err))
        LOG("mnist-train: warning: could not remove an old version: %s\n", err.msg);
    if (removed)
        LOG("Removed %zu old version%s (keeping %d besides the current one)\n", removed,
            removed == 1 ? "" : "s", t->opts->keep_versions);
}

/* Removes a version file this run wrote but could not publish, unless the stable path
 * names it after all (a switch whose final directory fsync failed). */
static void discard_unpublished(const mn_version_layout *l, const char *version,
                                const char *model, const char *report)
{
    mn_versions v;
    if (mn_versions_list(l, &v, NULL))
        return;
    if (strcmp(v.current_version, version) != 0 && unlink(model) == 0)
        unlink(report);
    mn_versions_free(&v);
}

/* Writes the model and its report as a version, then points the stable names at it
 * (mn_versions.h). Holds the versions lock throughout so that no other writer's
 * switch or prune interleaves. A version file written by this run but not published
 * is removed again: only published models are listed for rollback. */
static int publish_version(trainer *t, const mn_version_layout *l, const uint8_t *bytes,
                           size_t len, const mn_metadata *meta, const evaluation *ev)
{
    mn_error err;
    char version[MN_VERSION_CHARS + 1], model[MN_VERSIONS_PATH_MAX], report[MN_VERSIONS_PATH_MAX];
    const char *what = "model not saved";
    model[0] = report[0] = '\0';
    mn_versions_of_buffer(bytes, len, version);
    int lock = mn_versions_lock(l, &err);
    bool existed = lock >= 0 &&
                   !mn_versions_file(l, version, MN_VERSION_MODEL, model, sizeof model, &err) &&
                   access(model, F_OK) == 0;
    bool ok = lock >= 0 && !mn_versions_file(l, version, MN_VERSION_REPORT, report, sizeof report, &err) &&
              !mn_versions_write(l, bytes, len, version, &err);
    if (ok && report_write(report, meta, &t->state, ev, &t->cal, &err)) {
        what = "report not saved";
        ok = false;
    } else if (ok && mn_versions_switch(l, version, &err)) {
        what = "model not published";
        ok = false;
    }
    if (!ok) {
        LOG("mnist-train: %s: %s: %s\n", what, t->opts->out_path, err.msg);
        if (lock >= 0 && !existed)
            discard_unpublished(l, version, model, report);
    } else {
        LOG("Model saved successfully!\n");
        LOG("Version %s: %s/%s.%s.safetensors\n", version, l->versions, l->stem, version);
        LOG("Training report: %s\n", l->stable_report);
        prune_versions(t, l);
    }
    mn_versions_unlock(lock);
    return ok ? 0 : EXIT_WRITE;
}

static int publish(trainer *t, const evaluation *ev)
{
    mn_error err;
    mn_metadata meta;
    mn_version_layout l;
    if (model_metadata(t, ev, &meta, &err)) {
        LOG("mnist-train: %s\n", err.msg);
        return EXIT_INTERNAL;
    }
    LOG("Saving model to: %s\n", t->opts->out_path);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (mn_versions_layout(t->opts->out_path, &l, &err) ||
        mn_model_serialize(&t->params, &meta, &bytes, &len, &err)) {
        LOG("mnist-train: model not saved: %s\n", err.msg);
        return EXIT_WRITE;
    }
    int status = publish_version(t, &l, bytes, len, &meta, ev);
    free(bytes);
    if (!status && unlink(t->ckpt_path) != 0 && errno != ENOENT)
        LOG("mnist-train: warning: could not remove %s: %s\n", t->ckpt_path, strerror(errno));
    return status;
}

int train_run(const train_options *opts, volatile sig_atomic_t *stop_signal)
{
    trainer t = {.opts = opts};
    snprintf(t.ckpt_path, sizeof t.ckpt_path, "%s.ckpt", opts->out_path);
#ifdef _OPENMP
    if (opts->threads)
        omp_set_num_threads(opts->threads);
#endif
    mn_gemm_single_threaded(); /* the network splits GEMMs over our threads itself */
    LOG("mnist-train %s: %d thread%s, GEMM %s\n", PACKAGE_VERSION, threads_in_use(),
        threads_in_use() == 1 ? "" : "s", mn_gemm_backend());

    int status = load_data(&t);
    if (!status)
        status = allocate(&t);
    if (!status) {
        t.settings = (run_settings){.seed = opts->seed, .batch_size = opts->batch_size,
                                    .lr = opts->lr, .dropout = opts->dropout,
                                    .deskew = opts->deskew,
                                    .train_count = t.ntrain,
                                    .epochs = opts->epochs, .cosine = opts->cosine};
        snprintf(t.settings.data_sha256, sizeof t.settings.data_sha256, "%s",
                 t.train.images_sha256);
        describe_augmentation(&t, t.settings.augment, sizeof t.settings.augment);
        resume_or_init(&t);
        status = train_epochs(&t, stop_signal);
    }
    if (!status) {
        evaluation ev;
        double start = mn_clock_seconds();
        evaluate(&t, &ev);
        LOG("Final evaluation on %ld test images:\n", ev.count);
        LOG("Test - Loss: %.4f, Acc: %.2f%% (%ld/%ld correct, %.2f s)\n", ev.loss, ev.accuracy,
            (long)(ev.accuracy * (double)ev.count / 100.0 + 0.5), ev.count, mn_clock_seconds() - start);
        LOG("Total training time: %.1f s\n", t.state.seconds);
        calibrate(&t);
        status = publish(&t, &ev);
    }
    free(t.x);
    free(t.y);
    free(t.order);
    free(t.probs);
    free(t.labels);
    free(t.scratch);
    mn_workspace_destroy(t.ws);
    mn_adam_free(&t.adam);
    mn_params_free(&t.params);
    mn_params_free(&t.grads);
    mn_dataset_free(&t.train);
    mn_dataset_free(&t.test);
    return status;
}
