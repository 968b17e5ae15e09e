// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf.h"
#include "util.h"

enum conf_type { CT_U32, CT_BOOL, CT_ENUM, CT_STR };

struct conf_key {
	const char *section, *name;
	enum conf_type type;
	size_t off, size;		/* where in struct pvd_conf */
	uint32_t min, max;		/* CT_U32 */
	const char *const *names;	/* CT_ENUM, NULL-terminated */
};

static const char *const oc_names[] = { "auto", "module", "proc", NULL };
static const char *const bpf_names[] = { "auto", "yes", "no", NULL };
static const char *const level_names[] = { "error", "warning", "info", "debug", NULL };

#define K_U32(s, n, f, lo, hi) \
	{ s, n, CT_U32, offsetof(struct pvd_conf, f), sizeof(uint32_t), lo, hi, NULL }
#define K_ENUM(s, n, f, tab) \
	{ s, n, CT_ENUM, offsetof(struct pvd_conf, f), sizeof(uint32_t), 0, 0, tab }
#define K_STR(s, n, f) \
	{ s, n, CT_STR, offsetof(struct pvd_conf, f), sizeof(((struct pvd_conf *)0)->f), 0, 0, NULL }

static const struct conf_key conf_keys[] = {
	{ "tune", "enable", CT_BOOL, offsetof(struct pvd_conf, tune), sizeof(bool), 0, 1, NULL },
	K_U32("tune", "period_ms", period_ms, 100, 60000),
	K_U32("tune", "min", cfg.min, PVLOCK_SPIN_LIMIT_MIN, PVLOCK_SPIN_LIMIT_MAX),
	K_U32("tune", "max", cfg.max, PVLOCK_SPIN_LIMIT_MIN, PVLOCK_SPIN_LIMIT_MAX),
	K_U32("tune", "budget_base", cfg.budget_base, 0, PVLOCK_BUDGET_MAX),
	K_U32("tune", "budget_max", cfg.budget_max, 0, PVLOCK_BUDGET_MAX),
	K_U32("tune", "lhp_low", cfg.lhp_low, 0, 1000000),
	K_U32("tune", "lhp_high", cfg.lhp_high, 1, 1000000),
	K_U32("tune", "calm_periods", cfg.calm_periods, 1, 1000),
	K_ENUM("tune", "overcommit", oc_source, oc_names),
	K_STR("metrics", "listen", listen),
	K_STR("metrics", "textfile", textfile),
	K_ENUM("bpf", "observer", bpf, bpf_names),
	K_ENUM("log", "level", log_level, level_names),
};

#define CONF_NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

struct conf_parse {
	const char *name;
	struct pvd_conf *c;
	struct pvd_conf_errors *errs;
	unsigned int line;		/* current line, counted by the reader */
	unsigned int key_line[CONF_NKEYS];	/* where each key was set, 0 = default */
	unsigned int handler_lines[PVD_CONF_MAX_ERRORS];
	unsigned int nr_handler_lines;
	/* reading from memory */
	const char *p;
	/* reading from a file */
	FILE *f;
};

static void conf_err(struct conf_parse *cp, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void conf_err(struct conf_parse *cp, unsigned int line, const char *fmt, ...)
{
	struct pvd_conf_errors *e = cp->errs;
	va_list ap;
	int n;

	if (e->n >= PVD_CONF_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	n = snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s:%u: ", cp->name, line);
	va_start(ap, fmt);
	vsnprintf(e->msg[e->n] + n, sizeof(e->msg[0]) - n, fmt, ap);
	va_end(ap);
	e->n++;
}

void pvd_conf_default(struct pvd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->tune = true;
	c->period_ms = 1000;
	pvlock_tune_cfg_default(&c->cfg);
	c->oc_source = PVD_OC_AUTO;
	snprintf(c->listen, sizeof(c->listen), "%s", PVD_LISTEN_DEFAULT);
	c->bpf = PVD_BPF_AUTO;
	c->log_level = PVD_LOG_INFO;
}

int pvd_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hlen;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;	/* IPv6 needs its brackets */
		hlen = (size_t)(colon - s);
	}
	if (!hlen || hlen >= hostlen)
		return -EINVAL;
	if (util_long(colon + 1, 1, 65535, &p))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int pvd_resolve_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		       size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char host[256], port[8];
	uint16_t p;
	int rc;

	if (pvd_parse_listen(s, host, sizeof(host), &p)) {
		snprintf(err, errlen, "'%s' is not HOST:PORT ([IPv6]:PORT; port 1..65535)", s);
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%u", p);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "'%s': cannot resolve '%s': %s", s, host, gai_strerror(rc));
		return -EINVAL;
	}
	/* the first address, as getaddrinfo orders them (RFC 6724) */
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void conf_names(const char *const *tab, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *tab; tab++)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", *tab);
}

/* One key = value; returns 1 (inih: go on) after recording any error itself. */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *cp = user;
	const struct conf_key *k = NULL;
	char *field;
	size_t i;
	unsigned int before = cp->errs->n + cp->errs->dropped;

	for (i = 0; i < CONF_NKEYS; i++)
		if (!strcmp(conf_keys[i].section, section) && !strcmp(conf_keys[i].name, name))
			k = &conf_keys[i];
	if (!k) {
		bool known_section = false;

		for (i = 0; i < CONF_NKEYS; i++)
			known_section |= !strcmp(conf_keys[i].section, section);
		if (!section[0])
			conf_err(cp, cp->line, "'%s' outside any section ([tune], [metrics], [bpf], "
				 "[log])", name);
		else if (!known_section)
			conf_err(cp, cp->line, "unknown section [%s] (known: tune, metrics, bpf, log)",
				 section);
		else
			conf_err(cp, cp->line, "unknown key '%s' in [%s]", name, section);
		goto out;
	}
	i = k - conf_keys;
	if (cp->key_line[i])
		conf_err(cp, cp->line, "%s.%s set again (first on line %u)", section, name,
			 cp->key_line[i]);
	cp->key_line[i] = cp->line;
	field = (char *)cp->c + k->off;
	switch (k->type) {
	case CT_U32: {
		long v;
		int rc = util_long(value, k->min, k->max, &v);

		if (rc)
			conf_err(cp, cp->line, "%s.%s = '%s': %s: allowed %u..%u", section, name, value,
				 rc == -ERANGE ? "out of range" : "not a whole number", k->min, k->max);
		else
			*(uint32_t *)field = (uint32_t)v;
		break;
	}
	case CT_BOOL:
		if (util_bool(value, (bool *)field))
			conf_err(cp, cp->line, "%s.%s = '%s': allowed %s", section, name, value,
				 UTIL_BOOL_WORDS);
		break;
	case CT_ENUM: {
		char names[96];
		uint32_t v;

		for (v = 0; k->names[v]; v++)
			if (!strcmp(k->names[v], value))
				break;
		if (k->names[v]) {
			*(uint32_t *)field = v;
		} else {
			conf_names(k->names, names, sizeof(names));
			conf_err(cp, cp->line, "%s.%s = '%s': allowed %s", section, name, value, names);
		}
		break;
	}
	case CT_STR:
		if (strlen(value) >= k->size)
			conf_err(cp, cp->line, "%s.%s is too long (at most %zu bytes)", section, name,
				 k->size - 1);
		else
			memcpy(field, value, strlen(value) + 1);
		break;
	}
out:
	if (cp->errs->n + cp->errs->dropped != before &&
	    cp->nr_handler_lines < PVD_CONF_MAX_ERRORS)
		cp->handler_lines[cp->nr_handler_lines++] = cp->line;
	return 1;
}

/* The later of the lines that set keys @a and @b (names are unique across sections). */
static unsigned int conf_last_line(const struct conf_parse *cp, const char *a, const char *b)
{
	unsigned int i, line = 0;

	for (i = 0; i < CONF_NKEYS; i++)
		if ((!strcmp(conf_keys[i].name, a) || !strcmp(conf_keys[i].name, b)) &&
		    cp->key_line[i] > line)
			line = cp->key_line[i];
	return line;
}

/* Rules between keys, reported on the line that set the later key. */
static void conf_check(struct conf_parse *cp)
{
	struct pvd_conf *c = cp->c;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[384];

#define LINE_OF(a, b)	conf_last_line(cp, a, b)

	if (c->cfg.min > c->cfg.max)
		conf_err(cp, LINE_OF("min", "max"), "tune.min (%u) must not exceed tune.max (%u)",
			 c->cfg.min, c->cfg.max);
	if (c->cfg.budget_base > c->cfg.budget_max)
		conf_err(cp, LINE_OF("budget_base", "budget_max"),
			 "tune.budget_base (%u) must not exceed tune.budget_max (%u)",
			 c->cfg.budget_base, c->cfg.budget_max);
	if (c->cfg.lhp_low >= c->cfg.lhp_high)
		conf_err(cp, LINE_OF("lhp_low", "lhp_high"),
			 "tune.lhp_low (%u) must be below tune.lhp_high (%u)", c->cfg.lhp_low,
			 c->cfg.lhp_high);
	if (c->listen[0] && pvd_resolve_listen(c->listen, &ss, &sslen, why, sizeof(why)))
		conf_err(cp, LINE_OF("listen", "listen"), "metrics.listen = %s (HOST:PORT, "
			 "[IPv6]:PORT; empty: no endpoint)", why);
	if (c->textfile[0] && (c->textfile[0] != '/' || strlen(c->textfile) < 6 ||
			       strcmp(c->textfile + strlen(c->textfile) - 5, ".prom")))
		conf_err(cp, LINE_OF("textfile", "textfile"), "metrics.textfile = '%s': expected an "
			 "absolute path ending in .prom (node_exporter reads only those)",
			 c->textfile);
#undef LINE_OF
}

/*
 * The reader counts lines for the messages (Debian's libinih is built
 * without INI_HANDLER_LINENO) and refuses lines longer than inih's buffer
 * instead of letting it cut them in two.
 */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *cp = stream;
	size_t len;
	bool whole;

	if (cp->f) {
		if (!fgets(str, num, cp->f))
			return NULL;
		len = strlen(str);
		whole = (len && str[len - 1] == '\n') || feof(cp->f);
		if (!whole) {
			int ch;

			while ((ch = fgetc(cp->f)) != EOF && ch != '\n')
				;
		}
	} else {
		const char *nl;

		if (!*cp->p)
			return NULL;
		nl = strchr(cp->p, '\n');
		len = nl ? (size_t)(nl - cp->p + 1) : strlen(cp->p);
		whole = len < (size_t)num;
		if (whole) {
			memcpy(str, cp->p, len);
			str[len] = '\0';
		}
		cp->p += len;
	}
	cp->line++;
	if (!whole) {
		conf_err(cp, cp->line, "line longer than %d characters", num - 2);
		strcpy(str, ";\n");	/* a comment: inih moves on */
	} else if (str[0] == ' ' || str[0] == '\t') {
		/*
		 * inih takes an indented line as the continuation of the value
		 * before it ("max = 1024" would become part of min): refuse it
		 */
		const char *p = str + strspn(str, " \t\r\n");

		if (*p && *p != '#' && *p != ';') {
			conf_err(cp, cp->line, "indented line '%.*s': keys and [sections] start at "
				 "the beginning of the line", (int)strcspn(p, "\r\n"), p);
			strcpy(str, ";\n");
		}
	}
	return str;
}

static int conf_run(struct conf_parse *cp)
{
	int rc = ini_parse_stream(conf_reader, cp, conf_handler, cp);
	unsigned int i;

	if (rc < 0)
		return rc == -2 ? -ENOMEM : -EIO;
	if (rc > 0) {
		/* inih names the first bad line; ours were reported already */
		bool ours = false;

		for (i = 0; i < cp->nr_handler_lines; i++)
			ours |= cp->handler_lines[i] == (unsigned int)rc;
		if (!ours)
			conf_err(cp, rc, "syntax error: expected [section], key = value, or a comment "
				 "(# or ; at the start of the line)");
	}
	conf_check(cp);
	return cp->errs->n || cp->errs->dropped ? -EINVAL : 0;
}

int pvd_conf_parse(const char *name, const char *text, struct pvd_conf *out,
		   struct pvd_conf_errors *errs)
{
	struct conf_parse cp = { .name = name, .c = out, .errs = errs, .p = text };

	memset(errs, 0, sizeof(*errs));
	pvd_conf_default(out);
	return conf_run(&cp);
}

int pvd_conf_load(const char *path, struct pvd_conf *out, struct pvd_conf_errors *errs)
{
	struct conf_parse cp = { .name = path, .c = out, .errs = errs };
	int rc;

	memset(errs, 0, sizeof(*errs));
	pvd_conf_default(out);
	cp.f = fopen(path, "re");
	if (!cp.f)
		return -errno;
	rc = conf_run(&cp);
	fclose(cp.f);
	return rc;
}
