/* escape: strings into JSON, CSV and XML.  Function names and paths come
 * from the traced program's debug info and may hold any byte but NUL; the
 * output must stay valid whatever they hold. */
#include "report/internal.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when the bytes
 * there are not one: a stray byte, an overlong form, a surrogate, beyond
 * U+10FFFF, or cut short (a NUL is never a continuation byte, so the
 * checks stop there). */
int utf8_len(const unsigned char *s)
{
	unsigned c = s[0];

#define CONT(b) (((b) & 0xc0) == 0x80)
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return CONT(s[1]) ? 2 : 0;
	if (c < 0xf0) {
		if (!CONT(s[1]) || !CONT(s[2]))
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c < 0xf5) {
		if (!CONT(s[1]) || !CONT(s[2]) || !CONT(s[3]))
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
#undef CONT
}

/* Characters as the escapers count them: a byte that is not valid UTF-8
 * counts as one. */
size_t utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		int len = utf8_len(p);

		p += len ? len : 1;
		n++;
	}
	return n;
}

/* A quoted JSON string: valid UTF-8 as is, a byte that is not as \u00XX
 * (its Latin-1 reading), control characters escaped. */
void json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		int len = utf8_len(p);

		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f || !len)
			fprintf(out, "\\u%04x", *p);
		else
			fwrite(p, 1, (size_t)len, out);
		p += len ? len : 1;
	}
	fputc('"', out);
}

/* RFC 4180: a field with a comma, quote or line break is quoted, its
 * quotes doubled. */
void csv_field(FILE *out, const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void xml_char(FILE *out, const unsigned char *p, int len)
{
	switch (len ? *p : 0) {
	case '&': fputs("&amp;", out); return;
	case '<': fputs("&lt;", out); return;
	case '>': fputs("&gt;", out); return;
	case '"': fputs("&quot;", out); return;
	case '\'': fputs("&apos;", out); return;
	}
	/* XML 1.0 forbids control characters even as references, and the
	 * non-characters U+FFFE and U+FFFF; bad UTF-8 would make the whole
	 * document unreadable: the replacement character stands for each. */
	if (!len || *p < 0x20 ||
	    (len == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe))
		fputs("&#xfffd;", out);
	else
		fwrite(p, 1, (size_t)len, out);
}

void xml_text(FILE *out, const char *s, size_t maxchars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t keep = SIZE_MAX;

	if (maxchars && utf8_chars(s) > maxchars)
		keep = maxchars > 2 ? maxchars - 2 : 0;
	for (size_t n = 0; *p && n < keep; n++) {
		int len = utf8_len(p);

		xml_char(out, p, len);
		p += len ? len : 1;
	}
	if (keep != SIZE_MAX)
		fputs("..", out);
}
