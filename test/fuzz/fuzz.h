/* Shared by the fuzz harnesses: the libFuzzer entry point, and a file
 * holding the input for parsers that take a path. */
#ifndef IPROFMEM_FUZZ_H
#define IPROFMEM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The path of a file (a memfd, made once) that now holds data[0..size).
 * Aborts when it cannot be written: the harness would test nothing. */
const char *fuzz_input_file(const uint8_t *data, size_t size);

#endif
