/* Shared by the report unit tests: one binary, a cmocka group per file. */
#ifndef IPROFMEM_TEST_REPORT_H
#define IPROFMEM_TEST_REPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report/report.h"

#define MIB	1048576

/* An in-memory stream; mem_close returns its text (free it). */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
};
FILE *mem_open(struct mem *m);
char *mem_close(struct mem *m);

int add(struct report *r, const char *file, int line, const char *name);
/* A completed call of fn under parent; returns its node. */
int call(struct report *r, int parent, int fn, int64_t delta, int64_t self,
	 int64_t peak);

/* report_print of n entries into a string (free it). */
char *print_entries(const struct report_entry *e, size_t n,
		    const struct report_view *v);
/* The single report (pid 0) in view v. */
char *print_view(const struct report *r, const struct report_view *v);

/* The hand-built tree most view tests use:
 *   main 12 MB          (/src/main.c:10)
 *     setup 9 MB        (/src/setup.c:20)
 *       alloc 9 MB, 3 calls   (/src/buf.c:5)
 *     run 3 MB, 2 calls (1 adding), self 2 MB   (/src/run.c:7)
 *       alloc 1 MB
 *       free_all -2 MB  (/src/buf.c:30)
 *   atexit_hook 4096 bytes   (/src/exit.c:3)
 * with kept calls at known times and a few RSS samples. */
struct report *fixture(void);

/* Minimal checkers: valid UTF-8; a well-formed XML document (balanced
 * tags, quoted attributes, only known entities, one root); JSON syntax. */
bool utf8_ok(const char *s);
void assert_xml_ok(const char *s);
bool json_ok(const char *s);
size_t count_substr(const char *s, const char *sub);

int run_view_tests(void);
int run_svg_tests(void);
int run_record_tests(void);
int run_diff_tests(void);

#endif
