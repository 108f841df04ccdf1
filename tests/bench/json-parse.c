/* Micro-benchmark of the v2 infer body parser: the same body parsed N times by the
 * current fcgi/v2_request.c and by an older one (compiled in with its symbol renamed
 * to old_v2_parse_infer by tests/bench/json-parse.sh), alternating in rounds so that
 * both see the same machine load; and the safetensors header parse of a model file.
 *
 *   json-parse BODY... [-- MODEL]    prints one line per body: ns per parse, old and new */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mn_net.h"
#include "mn_safetensors.h"
#include "v2_request.h"

bool old_v2_parse_infer(const char *body, size_t len, long long header_len, int max_batch,
                        float *data, v2_request *req, char *msg, size_t msg_size);

typedef bool (*parse_fn)(const char *, size_t, long long, int, float *, v2_request *, char *,
                         size_t);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* not the time others run */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return NULL;
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        return NULL;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Seconds per parse over reps parses; exits if the parser refuses the body. */
static double time_parse(parse_fn parse, const char *body, size_t len, float *data, int reps)
{
    v2_request req;
    char msg[256];
    double t0 = now();
    for (int i = 0; i < reps; i++)
        if (!parse(body, len, -1, 256, data, &req, msg, sizeof msg)) {
            fprintf(stderr, "refused: %s\n", msg);
            exit(1);
        }
    return (now() - t0) / reps;
}

static void bench_body(const char *path, float *data, int rounds)
{
    size_t len;
    char *body = slurp(path, &len);
    if (!body) {
        perror(path);
        exit(1);
    }
    int reps = (int)(200000000 / (len + 1000)) + 1; /* about 0.1-0.3 s a run */
    double best_old = 1e9, best_new = 1e9, sum_old = 0, sum_new = 0;
    for (int r = 0; r < rounds; r++) { /* which goes first alternates too */
        double o = 0, n = 0;
        if (r % 2)
            n = time_parse(v2_parse_infer, body, len, data, reps);
        o = time_parse(old_v2_parse_infer, body, len, data, reps);
        if (!(r % 2))
            n = time_parse(v2_parse_infer, body, len, data, reps);
        best_old = o < best_old ? o : best_old;
        best_new = n < best_new ? n : best_new;
        sum_old += o;
        sum_new += n;
    }
    printf("%-28s %8zu bytes: old best %9.1f us mean %9.1f us | new best %9.1f us mean %9.1f us"
           " | new/old (best) %.3f\n", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, len,
           best_old * 1e6, sum_old / rounds * 1e6, best_new * 1e6, sum_new / rounds * 1e6,
           best_new / best_old);
    free(body);
}

static void bench_model(const char *path, int rounds)
{
    size_t len;
    char *buf = slurp(path, &len);
    if (!buf) {
        perror(path);
        exit(1);
    }
    double best = 1e9;
    for (int r = 0; r < rounds * 20; r++) {
        mn_st_file *f = NULL;
        mn_error err;
        double t0 = now();
        if (mn_st_parse((const uint8_t *)buf, len, &f, &err) != MN_OK) {
            fprintf(stderr, "%s: %s\n", path, err.msg);
            exit(1);
        }
        double t = now() - t0;
        best = t < best ? t : best;
        mn_st_free(f);
    }
    printf("mn_st_parse %s: %zu bytes, best %.1f us (header and data copy)\n", path, len,
           best * 1e6);
    free(buf);
}

int main(int argc, char **argv)
{
    static float data[256 * MN_IMAGE_PIXELS];
    const int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 7;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++)
        bench_body(argv[i], data, rounds);
    for (i++; i < argc; i++)
        bench_model(argv[i], rounds);
    return 0;
}
