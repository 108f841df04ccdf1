/* Portable 8-lane float vectors (GCC/Clang vector extensions) and the attribute that
 * compiles a hot kernel twice, for x86-64-v3 (AVX2+FMA) and the baseline, choosing
 * at load time. The same source thus runs everywhere and fast where it can, without
 * -march=native in a binary that ships in a container. */
#ifndef MN_SIMD_H
#define MN_SIMD_H

#include <string.h>

typedef float mn_v8 __attribute__((vector_size(32)));
typedef int mn_vi8 __attribute__((vector_size(32)));

/* Always inlined, even at -O0: a hot kernel's x86-64-v3 clone passes these vectors in
 * AVX registers, a baseline-compiled out-of-line copy in memory; calling one from the
 * other would read garbage (a -O0 build crashed so). */
#define MN_VEC_INLINE static inline __attribute__((always_inline))

MN_VEC_INLINE mn_v8 mn_v8_load(const float *p)
{
    mn_v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

MN_VEC_INLINE void mn_v8_store(float *p, mn_v8 v)
{
    memcpy(p, &v, sizeof v);
}

MN_VEC_INLINE mn_v8 mn_v8_set1(float x)
{
    /* one vbroadcastss; GCC 12 builds a literal {x, x, ...} lane by lane, and adds
     * 0.0f + x in scalar first when written as a vector-scalar sum */
    mn_v8 v = {x};
    return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0);
}

/* v where v > best, else best: the first of equal values wins, as in PyTorch's
 * max-pooling (C has no ?: on vectors; this compiles to a compare and a blend) */
MN_VEC_INLINE mn_v8 mn_v8_max(mn_v8 best, mn_v8 v)
{
    const mn_vi8 gt = v > best; /* all ones where v wins */
    return (mn_v8)(((mn_vi8)v & gt) | ((mn_vi8)best & ~gt));
}

MN_VEC_INLINE mn_v8 mn_v8_relu(mn_v8 v)
{
    return (mn_v8)((mn_vi8)v & (v > (mn_v8){0}));
}

#if defined(HAVE_TARGET_CLONES) && defined(__x86_64__)
#define MN_HOT_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MN_HOT_KERNEL
#endif

#endif
