/*
 * A growable byte buffer (the idea of OpenSSH's sshbuf and curl's dynbuf).
 *
 * Invariants: data is NULL exactly when cap is 0; otherwise data[len] is
 * always '\0', so buf_cstr() is valid for text. len never exceeds cap - 1.
 * The struct is public so callers can keep one on the stack:
 *
 *	struct buf b = BUF_INIT;
 *	buf_printf(&b, "%d", 42);
 *	...
 *	buf_clear(&b);
 */
#ifndef CR_BUF_H
#define CR_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* Releases the memory and resets b to BUF_INIT. */
void buf_clear(struct buf *b);

/* Like buf_clear(), but wipes the contents first (key material). */
void buf_clear_secret(struct buf *b);

/* Makes room for at least extra more bytes (plus the terminating NUL). */
void buf_reserve(struct buf *b, size_t extra);

void buf_put(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Empties b, keeping its memory. */
void buf_reset(struct buf *b);

/* Removes the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

/*
 * Returns the contents as a NUL-terminated string, valid until the next
 * buf_* call on b; do not free. Never NULL: an empty buffer gives "".
 */
const char *buf_cstr(const struct buf *b);

/*
 * Hands the contents to the caller as a NUL-terminated string and resets b.
 * The result must be released with free(); an empty buffer gives "".
 */
char *buf_detach(struct buf *b, size_t *lenp);

#endif /* CR_BUF_H */
