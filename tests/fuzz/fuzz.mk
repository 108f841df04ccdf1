# Builds the libFuzzer targets with clang, ASan and UBSan, out of the source tree:
#
#   make -f $(top)/tests/fuzz/fuzz.mk top=/path/to/source CONFIG_DIR=/dir/with/config.h
#
# run from the output directory (tests/hardening.sh fuzz does this, in build/fuzz).
# The core library (src/) and the fcgi modules under test are compiled here with
# coverage instrumentation; nothing from the autotools build is reused but config.h.
top ?= ../..
CONFIG_DIR ?= $(top)
CC = clang
PKGS = json-c zlib openblas stb

SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
COMMON = -MMD -MP -g -O1 -std=c11 -Wall -Wno-unknown-pragmas -I$(CONFIG_DIR) -I$(top)/src -I$(top)/fcgi \
	-I$(top)/tests/fuzz $(shell pkg-config --cflags $(PKGS))
CFLAGS_LIB = $(COMMON) $(SAN) -fsanitize=fuzzer-no-link
# src/mn_simd.h clones the hot kernels for AVX2 unless __SANITIZE_ADDRESS__ (GCC's
# macro; clang 14 does not define it) is set; clang refuses the clones' calls of its
# non-always_inline vector helpers, so say what GCC would say
CFLAGS_CORE = $(CFLAGS_LIB) -D__SANITIZE_ADDRESS__=1 -Wno-psabi
# stb's own undefined behaviour (shifts of negative values in its JPEG decoder) is not
# ours to fix; AddressSanitizer still checks every access it makes
CFLAGS_STB = $(COMMON) -fsanitize=address -fsanitize=fuzzer-no-link -fno-omit-frame-pointer
LIBS = $(shell pkg-config --libs json-c zlib openblas) -lpthread -lm

CORE_SRCS = $(wildcard $(top)/src/*.c)
CORE_OBJS = $(patsubst $(top)/src/%.c,obj/src/%.o,$(CORE_SRCS))

TARGETS = fuzz_multipart fuzz_v2_infer fuzz_predict_json fuzz_base64 fuzz_image \
	fuzz_safetensors fuzz_idx

all: $(TARGETS) seed_model

# preprocessing is pixel loops whose comparisons are thresholds on image data: tracing
# them (trace-cmp) costs most of the image target's time and guides nothing
obj/src/mn_preprocess.o: $(top)/src/mn_preprocess.c $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_CORE) -fno-sanitize-coverage=trace-cmp -c $< -o $@
obj/src/%.o: $(top)/src/%.c $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_CORE) -c $< -o $@
obj/fcgi/%.o: $(top)/fcgi/%.c $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_LIB) -c $< -o $@
obj/fuzz/stb_image_impl.o: $(top)/tests/fuzz/stb_image_impl.c $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_STB) -c $< -o $@
obj/fuzz/%.o: $(top)/tests/fuzz/%.c $(top)/tests/fuzz/common.h $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_LIB) -c $< -o $@

libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

LINK = $(CC) $(SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz_multipart: obj/fuzz/fuzz_multipart.o obj/fcgi/multipart.o
	$(LINK)
fuzz_v2_infer: obj/fuzz/fuzz_v2_infer.o obj/fcgi/v2_request.o obj/src/mn_json.o obj/src/mn_json_number.o
	$(LINK)
fuzz_predict_json: obj/fuzz/fuzz_predict_json.o obj/fcgi/predict_json.o obj/fcgi/base64.o obj/src/mn_image.o \
		obj/src/mn_json.o obj/src/mn_json_number.o \
		obj/src/mn_error.o obj/fuzz/stb_image_impl.o
	$(LINK)
fuzz_base64: obj/fuzz/fuzz_base64.o obj/fcgi/base64.o
	$(LINK)
fuzz_image: obj/fuzz/fuzz_image.o obj/src/mn_image.o obj/src/mn_preprocess.o obj/src/mn_error.o \
		obj/fuzz/stb_image_impl.o
	$(LINK)
fuzz_safetensors: obj/fuzz/fuzz_safetensors.o libcore.a
	$(LINK)
fuzz_idx: obj/fuzz/fuzz_idx.o libcore.a
	$(LINK)
# the seed writer: no fuzzer main, the same instrumented library
seed_model: obj/fuzz/seed_model.o libcore.a
	$(CC) $(SAN) -fsanitize=fuzzer-no-link -o $@ $^ $(LIBS)

.PHONY: all
-include $(wildcard obj/*/*.d)
