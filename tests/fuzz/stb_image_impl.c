/* stb_image's implementation, compiled into the image fuzz target with
 * AddressSanitizer and coverage instead of linking Debian's libstb: the same source
 * (Debian's /usr/include/stb/stb_image.h) with the same (default) options, so that
 * memory errors inside the decoders are caught and their branches guide the fuzzer. */
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
