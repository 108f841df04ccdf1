/* MNISTNet model files: safetensors holding exactly the tensors of mn_net_tensors[]
 * (PyTorch names and shapes, F32) plus string metadata. A file saved by PyTorch
 * (safetensors.torch.save_file(model.state_dict(), ...)) loads unchanged, and ours
 * loads into PyTorch.
 *
 * Loading refuses, with a message naming the tensor: anything mn_safetensors refuses
 * (see mn_safetensors.h), a missing or unexpected tensor, a shape other than MNISTNet's,
 * and files above MN_MODEL_MAX_FILE_BYTES. */
#ifndef MN_MODEL_H
#define MN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mn_error.h"
#include "mn_metadata.h"
#include "mn_net.h"
#include "mn_safetensors.h"

/* A model file is about 1.7 MB; anything far larger is not one of ours. */
#define MN_MODEL_MAX_FILE_BYTES ((size_t)64 << 20)

/* Writes P (borrowed) and META (may be NULL) to PATH atomically (see mn_atomic.h): a
 * reader sees the old file or the complete new one. Refuses NaN/infinite parameters. */
mn_status mn_model_save(const char *path, const mn_params *p, const mn_metadata *meta,
                        mn_error *err);

/* The bytes mn_model_save would write, in a malloc'ed *OUT of *OUT_LEN bytes that the
 * caller frees with free(). */
mn_status mn_model_serialize(const mn_params *p, const mn_metadata *meta, uint8_t **out,
                             size_t *out_len, mn_error *err);

/* Loads PATH into P, which the caller has allocated with mn_params_alloc, and its
 * metadata into META (may be NULL; empty when the file has none). All checks happen
 * before anything is copied: on failure P and META are unchanged, so a running
 * service can keep its current model. Messages start with PATH. */
mn_status mn_model_load(const char *path, mn_params *p, mn_metadata *meta, mn_error *err);

/* Same from LEN bytes at BUF (not retained), e.g. for fuzzing. */
mn_status mn_model_load_memory(const void *buf, size_t len, mn_params *p, mn_metadata *meta,
                               mn_error *err);

/* The softmax temperature the trainer fitted (metadata "temperature", a decimal in
 * [MN_CALIBRATE_T_MIN, MN_CALIBRATE_T_MAX]; absent: 1, the plain softmax). Loading
 * refuses a model whose temperature is anything else, so this only reads. */
double mn_model_temperature(const mn_metadata *meta);

/* The temperature for digits read at low resolution (mn_preprocess_info.low_res):
 * metadata "temperature_low_res", checked alike; absent: mn_model_temperature. */
double mn_model_temperature_low_res(const mn_metadata *meta);

/* Whether the model reads deskewed input (metadata "deskew": MN_DESKEW_METHOD, see
 * mn_deskew.h; absent: it reads the input as it is). Loading refuses any other
 * value, since such a model would be read wrong. */
bool mn_model_deskews(const mn_metadata *meta);

/* Same from an already parsed file (borrowed). */
mn_status mn_model_from_st(const mn_st_file *f, mn_params *p, mn_metadata *meta,
                           mn_error *err);

#endif
