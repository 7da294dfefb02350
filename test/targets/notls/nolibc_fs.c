/*
 * nolibc_fs: nolibc.c with a thread pointer that does not point to itself
 * (see FOREIGN_FS there), for test/e2e/test_notls.sh.
 */
#define FOREIGN_FS 1
#include "nolibc.c"
