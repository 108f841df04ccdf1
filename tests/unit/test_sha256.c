/* SHA-256 against the FIPS 180-2 / NIST example vectors, fed whole and in pieces. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_sha256.h"

static const char abc_hex[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char msg448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char msg448_hex[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
static const char msg896[] =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
static const char msg896_hex[] = "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
static const char million_a_hex[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
static const char empty_hex[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void hash_in_pieces(const void *data, size_t len, size_t piece, char hex[MN_SHA256_HEX_SIZE])
{
    mn_sha256 ctx;
    uint8_t digest[MN_SHA256_DIGEST_SIZE];
    const uint8_t *p = data;
    mn_sha256_init(&ctx);
    for (size_t off = 0; off < len; off += piece)
        mn_sha256_update(&ctx, p + off, len - off < piece ? len - off : piece);
    mn_sha256_final(&ctx, digest);
    mn_sha256_hex(digest, hex);
}

static void test_empty(void **state)
{
    (void)state;
    char hex[MN_SHA256_HEX_SIZE];
    mn_sha256_buffer_hex("", 0, hex);
    assert_string_equal(hex, empty_hex);
    mn_sha256_buffer_hex(NULL, 0, hex); /* NULL with no bytes is allowed */
    assert_string_equal(hex, empty_hex);
}

/* The FIPS 180-2 example messages with their lengths in bits and their digests (the
 * million 'a's are made at run time: million_a). */
static const struct {
    const char *msg;
    size_t bits;
    const char *hex;
} examples[] = {
    {"abc", 24, abc_hex},
    {msg448, 448, msg448_hex},
    {msg896, 896, msg896_hex},
};

#define EXAMPLES (sizeof examples / sizeof examples[0])

/* One million 'a's (malloc'ed); *n gets their count. */
static char *million_a(size_t *n)
{
    *n = 1000000;
    char *a = malloc(*n);
    assert_non_null(a);
    memset(a, 'a', *n);
    return a;
}

static void test_examples(void **state)
{
    (void)state;
    char hex[MN_SHA256_HEX_SIZE];
    for (size_t i = 0; i < EXAMPLES; i++) {
        assert_int_equal(strlen(examples[i].msg) * 8, examples[i].bits);
        mn_sha256_buffer_hex(examples[i].msg, strlen(examples[i].msg), hex);
        assert_string_equal(hex, examples[i].hex);
        assert_int_equal(strlen(hex), 64);
    }
}

static void test_million_a(void **state)
{
    (void)state;
    char hex[MN_SHA256_HEX_SIZE];
    size_t n;
    char *a = million_a(&n);
    mn_sha256_buffer_hex(a, n, hex);
    assert_string_equal(hex, million_a_hex);
    free(a);
}

/* The block buffering must not depend on how the caller slices the input: piece
 * sizes around the 64-byte block and the 56-byte padding boundary. */
static void test_pieces(void **state)
{
    (void)state;
    static const size_t pieces[] = {1, 3, 55, 56, 57, 63, 64, 65, 127, 1000, 4096};
    char hex[MN_SHA256_HEX_SIZE];
    size_t n;
    char *a = million_a(&n);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        hash_in_pieces(a, n, pieces[i], hex);
        assert_string_equal(hex, million_a_hex);
        for (size_t k = 0; k < EXAMPLES; k++) {
            hash_in_pieces(examples[k].msg, strlen(examples[k].msg), pieces[i], hex);
            assert_string_equal(hex, examples[k].hex);
        }
    }
    free(a);
}

/* Messages whose padding lands on each side of a block boundary (length field fits
 * after 55 bytes, not after 56): known answers from Python's hashlib, then one-shot
 * against byte-at-a-time hashing for every length 0..200. */
static void test_padding_lengths(void **state)
{
    (void)state;
    static const struct { size_t len; const char *hex; } known[] = {
        {55, "16fa57a0a3423a715d594516339f36189d6b5f93754a9714fef202616a9fabfe"},
        {56, "c37b44e5f1b18554b36966f4f8e08bfbf3164c4b6c10374d12d89850892073c5"},
        {57, "12b234922502022f755ab8550a3d4e202ad39c81d961a4f59ec39d5fd83d15a7"},
        {63, "bbba992d2c85af960fb2987a1fd05e0aa82a3db3c740dd8982a9e273b75e36a3"},
        {64, "66bd4633ed6f71c4ecfa4763bf7ba1c8ec7612de9aa6c0578a7b675207c71e0b"},
        {65, "9f7dc47107b750a1f3d35db5d9547f24ef40da5b731b9540d4f43710a154f6c9"},
        {119, "a3ed307b730fa77c07531300c6e4a282330011d4d4caf6bb7b63ae05950f4b66"},
        {120, "8e3b15d9fea7472655aa069620b7f8c2e55ee1499f763200a7515fe826e99d20"},
        {128, "e462c130fef8c97e34f7dc3ff3ad2f8b3533ab849af21c10531552a2852387a4"},
    };
    uint8_t buf[200];
    char whole[MN_SHA256_HEX_SIZE], bytewise[MN_SHA256_HEX_SIZE];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        mn_sha256_buffer_hex(buf, known[i].len, whole);
        assert_string_equal(whole, known[i].hex);
    }
    /* Known answer for 64 bytes 0x00..0x3f (an independent check on a full block). */
    uint8_t block[64];
    for (int i = 0; i < 64; i++)
        block[i] = (uint8_t)i;
    mn_sha256_buffer_hex(block, sizeof block, whole);
    assert_string_equal(whole, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108");
    for (size_t len = 0; len <= sizeof buf; len++) {
        mn_sha256_buffer_hex(buf, len, whole);
        hash_in_pieces(buf, len, 1, bytewise);
        assert_string_equal(whole, bytewise);
    }
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t digest[MN_SHA256_DIGEST_SIZE];
    char hex[MN_SHA256_HEX_SIZE];
    for (int i = 0; i < MN_SHA256_DIGEST_SIZE; i++)
        digest[i] = (uint8_t)(i * 8 + 0x0f);
    memset(hex, 'x', sizeof hex);
    mn_sha256_hex(digest, hex);
    assert_string_equal(hex, "0f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff07");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_padding_lengths),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
