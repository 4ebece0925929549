/*
 * Allocation that never fails: running out of memory is fatal (OpenSSH
 * xmalloc.c). Zero sizes and multiplication overflow are rejected as bugs.
 */
#ifndef CR_XMALLOC_H
#define CR_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Returns a newly allocated formatted string; free it with free(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/*
 * Overwrites len bytes at p so the compiler cannot elide it, then frees p.
 * For buffers that held key material. Passing NULL is a no-op.
 */
void freezero(void *p, size_t len);

/* Like freezero() for a NUL-terminated string. Passing NULL is a no-op. */
void freezero_str(char *s);

#endif /* CR_XMALLOC_H */
