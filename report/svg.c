/* svg: what the flame graph and the timeline share.  Both are
 * self-contained: no script, no stylesheet or font to fetch, no link (the
 * xmlns is a name, not an address that is read). */
#include "report/internal.h"

void svg_open(FILE *out, int width, int height)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
		"standalone=\"yes\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"monospace\" font-size=\"12\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		"fill=\"#ffffff\"/>\n",
		width, height, width, height, width, height);
}

int svg_close(FILE *out)
{
	fputs("</svg>\n", out);
	if (fflush(out) == EOF)
		return -1;
	return out_status(out);
}
