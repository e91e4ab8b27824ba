// libFuzzer used as a library (llvm.org/docs/LibFuzzer.html, "Using
// libFuzzer as a library"): the fuzz targets have their own `main`, because
// SwiftPM renames an executable's entry point and links it as `main`, which
// collides with the `main` that `-sanitize=fuzzer` links in. The symbol
// comes from libclang_rt.fuzzer_no_main, linked by `make fuzz`.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
