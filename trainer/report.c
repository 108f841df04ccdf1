#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "mn_atomic.h"
#include "report.h"

void report_path_for(const char *model_path, char *out, size_t size)
{
    static const char ext[] = ".safetensors";
    size_t n = strlen(model_path), e = sizeof ext - 1;
    if (n > e && strcmp(model_path + n - e, ext) == 0)
        n -= e;
    snprintf(out, size, "%.*s.report.json", (int)n, model_path);
}

/* json-c prints doubles with 17 significant digits; four decimals are the truth here. */
static json_object *number(double v)
{
    char text[32];
    snprintf(text, sizeof text, "%.4f", v);
    return json_object_new_double_s(v, text);
}

/* "calibration": the temperature and what it changed; absent when none was fitted. */
static void add_calibration(json_object *root, const calibration *cal)
{
    if (!cal || !cal->images)
        return;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "temperature", number(cal->temperature));
    json_object_object_add(o, "images", json_object_new_int64(cal->images));
    json_object_object_add(o, "nll_before", number(cal->nll_before));
    json_object_object_add(o, "nll_after", number(cal->nll_after));
    json_object_object_add(o, "test_ece_before", number(cal->ece_before));
    json_object_object_add(o, "test_ece_after", number(cal->ece_after));
    if (cal->low_res_images) {
        json_object_object_add(o, "temperature_low_res", number(cal->temperature_low_res));
        json_object_object_add(o, "low_res_images", json_object_new_int64(cal->low_res_images));
    }
    json_object_object_add(root, "calibration", o);
}

mn_status report_write(const char *path, const mn_metadata *model_meta,
                       const train_state *state, const evaluation *final_eval,
                       const calibration *cal, mn_error *err)
{
    json_object *root = json_object_new_object();
    json_object *model = json_object_new_object();
    for (size_t i = 0; i < mn_metadata_count(model_meta); i++)
        json_object_object_add(model, mn_metadata_key(model_meta, i),
                               json_object_new_string(mn_metadata_value(model_meta, i)));
    json_object_object_add(root, "model", model);

    json_object *epochs = json_object_new_array();
    for (int e = 0; e < state->history_len; e++) {
        const epoch_record *r = &state->history[e];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "epoch", json_object_new_int(e + 1));
        json_object_object_add(o, "train_loss", number(r->train_loss));
        json_object_object_add(o, "train_accuracy", number(r->train_accuracy));
        json_object_object_add(o, "test_loss", number(r->test_loss));
        json_object_object_add(o, "test_accuracy", number(r->test_accuracy));
        json_object_object_add(o, "seconds", number(r->seconds));
        json_object_object_add(o, "images_per_second", number(r->images_per_second));
        json_object_array_add(epochs, o);
    }
    json_object_object_add(root, "epochs", epochs);

    json_object *test = json_object_new_object();
    json_object_object_add(test, "images", json_object_new_int64(final_eval->count));
    json_object_object_add(test, "loss", number(final_eval->loss));
    json_object_object_add(test, "accuracy", number(final_eval->accuracy));
    json_object *matrix = json_object_new_array(), *per_class = json_object_new_array();
    for (int t = 0; t < 10; t++) {
        json_object *row = json_object_new_array();
        long total = 0;
        for (int p = 0; p < 10; p++) {
            json_object_array_add(row, json_object_new_int64(final_eval->confusion[t][p]));
            total += final_eval->confusion[t][p];
        }
        json_object_array_add(matrix, row);
        json_object_array_add(per_class,
                              number(total ? 100.0 * final_eval->confusion[t][t] / total : 0.0));
    }
    json_object_object_add(test, "confusion_matrix", matrix);
    json_object_object_add(test, "per_class_accuracy", per_class);
    json_object_object_add(root, "test", test);
    json_object_object_add(root, "training_seconds", number(state->seconds));
    add_calibration(root, cal);

    const char *text = json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    mn_status st = mn_atomic_write(path, text, strlen(text), err);
    json_object_put(root);
    return st;
}
