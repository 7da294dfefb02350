/* select: which functions to trace -- the entries of --funcs files and -e
 * options, matched against (module, function, source file).  Pure: no
 * libdw, no ptrace. */
#ifndef IPROFMEM_SELECT_H
#define IPROFMEM_SELECT_H

#include <stdbool.h>
#include <stddef.h>

struct selection;

struct selection *selection_new(void);
void selection_free(struct selection *s);

/* Read a funcs file: one entry per line, "!ENTRY" for an exclusion; '#'
 * starts a comment (to the end of the line), blank lines and surrounding
 * white space are ignored.
 * Returns 0, or -1 with a one-line message in err (file missing or
 * unreadable, not text (a NUL byte), a malformed entry with its line:
 * "FILE:LINE: ..."). */
int selection_add_file(struct selection *s, const char *path, char *err,
		       size_t errlen);
/* Add one entry (from -e PATTERN); origin names it in messages.  Returns
 * 0, or -1 with a message in err (empty or malformed pattern). */
int selection_add_entry(struct selection *s, const char *text,
			const char *origin, int line, char *err, size_t errlen);

/* Add one exclusion (from -x PATTERN; origin "-x" when NULL): the
 * functions it matches are left out of what the other entries select, or
 * of the default set when there is no other entry.  Same forms and
 * returns as selection_add_entry. */
int selection_add_exclusion(struct selection *s, const char *text,
			    const char *origin, int line, char *err,
			    size_t errlen);

/* --all-modules: unqualified entries (and, with no entry at all, the
 * default set) apply to every module, not only the main executable. */
void selection_set_all_modules(struct selection *s, bool all);

bool selection_all_modules(const struct selection *s);

/* No entry but exclusions: the default set (every function with line
 * info in the main executable, or in every module with --all-modules),
 * less what the exclusions match (see selection_excludes). */
bool selection_is_default(const struct selection *s);

/* Could any entry select functions in this module?  (To skip reading the
 * debug info of modules nothing asks for.)  module: the object's path;
 * is_main: it is the main executable. */
bool selection_wants_module(const struct selection *s, const char *module,
			    bool is_main);

/* Is the function selected?  name: its (qualified, for C++) name; file: its
 * absolute declaring source file, or NULL without line info.  Marks the
 * entries that matched: an exclusion only when it left out a function the
 * others selected. */
bool selection_match(struct selection *s, const char *module, bool is_main,
		     const char *name, const char *file);
/* Does an exclusion match the function?  For the callers that take the
 * default set without selection_match.  Marks those that matched. */
bool selection_excludes(struct selection *s, const char *module, bool is_main,
			const char *name, const char *file);

/* Calls fn(origin, line, text, pending, arg) for each entry that has
 * matched nothing so far, where pending is true for an entry qualified by
 * a module that has not been loaded (yet: a dlopen may still bring it).
 * Returns how many entries have matched nothing. */
size_t selection_unmatched(const struct selection *s,
			   void (*fn)(const char *origin, int line,
				      const char *text, bool pending, void *arg),
			   void *arg);
/* Each unmatched entry once over a run.  At start-up (final false): the
 * entries that can match nothing any more, passed with pending false.  At
 * the end (final true): every unmatched entry not passed yet, with
 * pending true when its module qualifier never matched a loaded object.
 * Returns how many were passed. */
size_t selection_report_unmatched(struct selection *s, bool final,
				  void (*fn)(const char *origin, int line,
					     const char *text, bool pending,
					     void *arg),
				  void *arg);
/* Entries unmatched so far that an object loaded later may still match (a
 * module-qualified entry whose module is not loaded; with all_modules,
 * any other unmatched entry). */
size_t selection_pending(const struct selection *s);

/* Record that a module was loaded (for the pending flag above). */
void selection_module_loaded(struct selection *s, const char *module);

#endif
