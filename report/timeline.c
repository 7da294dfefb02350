/* timeline: an SVG of RSS (MB) over time (s), one panel per report.
 *
 * The curve joins the RSS samples (merged two by two, keeping the higher,
 * when a long run fills the buffer).  Under it, the biggest calls kept for
 * each of the `top` functions of largest memory (0: 5), at most 8 each,
 * are drawn as translucent spans from entry to return, one colour and one
 * horizontal lane per function, named in a legend under the panel; each
 * span's <title> gives its function, delta and times.  Panels share the time axis; with pids, each is headed
 * "PID n: cmdline". */
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>

#define TL_WIDTH	1200
#define TL_LEFT		80
#define TL_RIGHT	30
#define TL_HEAD		30	/* panel title, above the plot */
#define TL_PLOT		240
#define TL_AXIS		50	/* tick labels and axis name, below */
#define TL_LEGEND	18
#define TL_GAP		20
#define TL_TOP		5	/* functions marked when top is 0 */

static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

struct panel {
	const struct report_entry *e;
	struct row *rows;	/* the marked functions, ascending */
	size_t nrows;
	int y;			/* top of the plot */
	double ymax;		/* MB at the top of the plot */
};

struct axes {
	FILE *out;
	double tmax;		/* s at the right of the plot */
};

/* A round step (1, 2 or 5 times a power of ten) giving about n ticks;
 * no libm, which the program does not link. */
static double nice_step(double range, int n)
{
	double raw = range / n, p = 1;

	while (p * 10 <= raw)
		p *= 10;
	while (p > raw)
		p /= 10;
	raw /= p;
	return (raw < 1.5 ? 1 : raw < 3.5 ? 2 : raw < 7.5 ? 5 : 10) * p;
}

static double x_of(const struct axes *a, double s)
{
	return TL_LEFT + s / a->tmax * (TL_WIDTH - TL_LEFT - TL_RIGHT);
}

static double y_of(const struct panel *p, double mb)
{
	return p->y + TL_PLOT - mb / p->ymax * TL_PLOT;
}

static void draw_axes(const struct axes *a, const struct panel *p)
{
	FILE *out = a->out;
	int bottom = p->y + TL_PLOT, right = TL_WIDTH - TL_RIGHT;
	double step = nice_step(a->tmax, 8);

	fprintf(out, "<path d=\"M%d %d V%d H%d\" fill=\"none\" "
		"stroke=\"#000000\"/>\n", TL_LEFT, p->y, bottom, right);
	for (int i = 0; i <= 20 && i * step <= a->tmax * (1 + 1e-9); i++) {
		double x = x_of(a, i * step);

		fprintf(out, "<path d=\"M%.1f %d v5\" stroke=\"#000000\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g"
			"</text>\n", x, bottom, x, bottom + 18, i * step);
	}
	step = nice_step(p->ymax, 5);
	for (int i = 0; i <= 20 && i * step <= p->ymax; i++) {
		double y = y_of(p, i * step);

		fprintf(out, "<path d=\"M%d %.1f h-5\" stroke=\"#000000\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g"
			"</text>\n", TL_LEFT, y, TL_LEFT - 8, y + 4, i * step);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		"time (s)</text>\n", (TL_LEFT + right) / 2, bottom + 36);
	fprintf(out, "<text x=\"20\" y=\"%d\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 20 %d)\">RSS (MB)</text>\n",
		p->y + TL_PLOT / 2, p->y + TL_PLOT / 2);
}

/* Each function has a lane, a horizontal slice of the plot, biggest at
 * the top: a caller's span would otherwise hide its callees' under it. */
static void draw_spans(const struct axes *a, const struct panel *p)
{
	FILE *out = a->out;
	double lane = p->nrows ? (double)TL_PLOT / p->nrows : 0;

	for (size_t i = 0; i < p->nrows; i++) {
		const struct row *w = &p->rows[p->nrows - 1 - i];

		for (int j = 0; j < w->f->nkept; j++) {
			const struct kept_call *k = &w->f->kept[j];
			double x0 = x_of(a, k->t_entry / 1e9);
			double x1 = x_of(a, k->t_return / 1e9);

			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" "
				"width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				"fill-opacity=\"0.3\"><title>", x0,
				p->y + i * lane, x1 - x0 > 1 ? x1 - x0 : 1,
				lane, palette[i % NPALETTE]);
			xml_text(out, w->f->name, 0);
			fprintf(out, ": memory +%.4g MB, %.6g s to %.6g s</title>"
				"</rect>\n", k->delta / MB, k->t_entry / 1e9,
				k->t_return / 1e9);
		}
	}
}

static void draw_curve(const struct axes *a, const struct panel *p)
{
	const struct report *r = p->e->rep;
	FILE *out = a->out;

	if (!r->nsamples) {
		fprintf(out, "<text x=\"%d\" y=\"%d\">No RSS samples.</text>\n",
			TL_LEFT + 10, p->y + 20);
		return;
	}
	fputs("<polyline fill=\"none\" stroke=\"#000000\" "
	      "stroke-width=\"1.5\" points=\"", out);
	for (size_t i = 0; i < r->nsamples; i++)
		fprintf(out, "%s%.1f,%.1f", i ? " " : "",
			x_of(a, r->samples[i].t / 1e9), y_of(p, r->samples[i].rss / MB));
	fputs("\"/>\n", out);
}

static void draw_legend(const struct axes *a, const struct panel *p)
{
	FILE *out = a->out;
	int y = p->y + TL_PLOT + TL_AXIS;

	for (size_t i = 0; i < p->nrows; i++, y += TL_LEGEND) {
		const struct row *w = &p->rows[p->nrows - 1 - i];

		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" "
			"height=\"12\" fill=\"%s\" fill-opacity=\"0.6\"/>"
			"<text x=\"%d\" y=\"%d\">", TL_LEFT, y,
			palette[i % NPALETTE], TL_LEFT + 18, y + 10);
		xml_text(out, w->f->name, 0);
		fputs(" (", out);
		xml_text(out, w->f->file, 0);
		fprintf(out, ":%d): memory %.4g MB in %" PRIu64 " call%s</text>\n",
			w->f->line, w->bytes / MB, w->calls,
			w->calls == 1 ? "" : "s");
	}
}

static void draw_panel(const struct axes *a, const struct panel *p)
{
	FILE *out = a->out;

	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"14\">", TL_LEFT,
		p->y - 10);
	if (p->e->pid) {
		fprintf(out, "PID %d: ", p->e->pid);
		xml_text(out, p->e->cmdline ? p->e->cmdline : "", 0);
	} else {
		fputs("RSS over time", out);
	}
	fputs("</text>\n", out);
	draw_spans(a, p);
	draw_axes(a, p);
	draw_curve(a, p);
	draw_legend(a, p);
}

/* The panel's functions and scale; the latest time it shows in *tmax. */
static int panel_prepare(struct panel *p, const struct report_entry *e,
			 size_t top, uint64_t *tmax)
{
	const struct report *r = e->rep;
	int64_t rss = 0;

	p->e = e;
	if (rows_select(r, 0, top, &p->rows, &p->nrows) < 0)
		return -1;
	for (size_t i = 0; i < r->nsamples; i++) {
		if (r->samples[i].rss > rss)
			rss = r->samples[i].rss;
		if (r->samples[i].t > *tmax)
			*tmax = r->samples[i].t;
	}
	for (size_t i = 0; i < p->nrows; i++)
		for (int j = 0; j < p->rows[i].f->nkept; j++)
			if (p->rows[i].f->kept[j].t_return > *tmax)
				*tmax = p->rows[i].f->kept[j].t_return;
	p->ymax = rss > 0 ? rss / MB * 1.1 : 1;
	return 0;
}

int report_write_timeline(const struct report_entry *e, size_t n, FILE *out,
			  size_t top)
{
	struct panel *p = calloc(n ? n : 1, sizeof(*p));
	struct axes a = { out, 0 };
	uint64_t tmax = 0;
	int y = TL_GAP + TL_HEAD, ret = -1;

	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (panel_prepare(&p[i], &e[i], top ? top : TL_TOP, &tmax) < 0)
			goto out;
		p[i].y = y;
		y += TL_PLOT + TL_AXIS + (int)p[i].nrows * TL_LEGEND + TL_GAP +
		     TL_HEAD;
	}
	a.tmax = tmax ? tmax / 1e9 : 1;
	svg_open(out, TL_WIDTH, y - TL_HEAD);
	for (size_t i = 0; i < n && !ferror(out); i++)
		draw_panel(&a, &p[i]);
	ret = svg_close(out);
out:
	for (size_t i = 0; i < n; i++)
		free(p[i].rows);
	free(p);
	return ret;
}
