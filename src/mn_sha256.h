/* SHA-256 (FIPS 180-4), small and dependency-free.
 *
 * Used to fingerprint the training data (the checksum recorded in model metadata and
 * checkpoints) and to name model versions (mn_versions: the first 12 hex digits of a
 * model file's digest), so it only has to be correct, not fast. The context is a plain value owned by the
 * caller; nothing here allocates or fails. */
#ifndef MN_SHA256_H
#define MN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define MN_SHA256_DIGEST_SIZE 32
#define MN_SHA256_HEX_SIZE 65 /* 64 lowercase hex digits and a NUL */

typedef struct mn_sha256 {
    uint32_t state[8];
    uint64_t length;  /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;      /* bytes waiting in block */
} mn_sha256;

void mn_sha256_init(mn_sha256 *ctx);
void mn_sha256_update(mn_sha256 *ctx, const void *data, size_t len);
/* Writes the digest; ctx must be re-initialised before it is used again. */
void mn_sha256_final(mn_sha256 *ctx, uint8_t digest[MN_SHA256_DIGEST_SIZE]);

/* Lowercase hex of a digest, NUL-terminated, as sha256sum prints it. */
void mn_sha256_hex(const uint8_t digest[MN_SHA256_DIGEST_SIZE], char hex[MN_SHA256_HEX_SIZE]);
/* One call: hex SHA-256 of a buffer. */
void mn_sha256_buffer_hex(const void *data, size_t len, char hex[MN_SHA256_HEX_SIZE]);

#endif
