/* The M3U reader of the streamed playlist merge, for the usual entry, in C; and the number scan's marker search.
 *
 * feed(data, state, config) reads one block of whole lines of UTF-8 bytes (as m3u.byte_blocks cuts them) and
 * returns the views (iptv/playlist_views.py) of the entries it completes. It does what formats/m3u.py's reader
 * does line by line, but only the common #EXTINF shape (`#EXTINF:-1 k="v" k="v",Name` with lower-case ASCII
 * keys and one group) is parsed and turned into a view here. Every other "#" line goes to config.directive
 * (m3u.read_directive) and every other entry to config.odd (playlist_views.view_of), so the rules live in one
 * place; tests check that both paths give the same views and the same merged playlist.
 *
 * Bytes are decoded field by field with errors="replace". Every field starts and ends next to an ASCII byte
 * (quote, comma, space, newline), which ends any broken sequence, so this gives the characters decoding the
 * whole block would; pieces joined into one string are always separated by ASCII text for the same reason.
 *
 * state is a list carried from block to block: [line number, seen content, pending #EXTINF or None,
 * #EXTGRP values, #KODIPROP pairs, #EXTVLCOPT pairs]. A pending #EXTINF read here is kept as (line, bytes);
 * one read by config.directive as m3u.Pending (line, duration, attributes, name).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_ATTRS 64 /* more attributes than this: the entry takes the Python path */
#define MAX_EXTRAS 32

/* read_directive's kinds (formats/m3u.py) */
enum { K_SKIP, K_EXTINF, K_HEADER, K_EXTGRP, K_KODIPROP, K_VLCOPT };

typedef const unsigned char *Bytes;

typedef struct {
    Py_ssize_t ks, ke, vs, ve; /* key and value spans */
} Attr;

typedef struct {
    Bytes d;                   /* the block (or kept line) the spans point into */
    Py_ssize_t start, end;     /* the stripped line */
    Py_ssize_t dur_s, dur_e;   /* duration */
    Py_ssize_t name_s, name_e; /* the name, stripped */
    int count;
    int odd; /* keys not lower-case ASCII, or too many attributes */
    Attr attrs[MAX_ATTRS];
} Extinf;

typedef struct {
    PyObject *source_name, *icon;
    const char *source_name_esc, *icon_esc; /* UTF-8, as format_value writes them */
    Py_ssize_t source_name_esc_len, icon_esc_len;
    int check_scheme;
    int n_extras; /* PLAYLIST_ATTRS */
    const char *extras[MAX_EXTRAS];
    Py_ssize_t extra_len[MAX_EXTRAS];
    PyObject *directive, *odd, *warn;
    PyObject *overridden; /* keys with a user override (a set), or None */
} Config;

static PyObject *S_EMPTY, *S_MINUS1, *S_NO_HEADER, *S_NO_URL, *S_BARE_URL, *S_IGNORED;

static PyObject *decode(Bytes d, Py_ssize_t s, Py_ssize_t e) {
    if (s >= e) {
        Py_INCREF(S_EMPTY);
        return S_EMPTY;
    }
    return PyUnicode_DecodeUTF8((const char *)d + s, e - s, "replace");
}

static int span_is(Bytes d, Py_ssize_t s, Py_ssize_t e, const char *lit, Py_ssize_t n) {
    return e - s == n && memcmp(d + s, lit, (size_t)n) == 0;
}

#define SPAN_IS(d, s, e, lit) span_is(d, s, e, lit, (Py_ssize_t)(sizeof(lit) - 1))

/* Length of the whitespace character (as str.isspace says) starting at d[i], or 0. */
static int space_at(Bytes d, Py_ssize_t i, Py_ssize_t e) {
    unsigned char c = d[i];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
        return 1;
    if (c == 0xc2 && i + 1 < e && (d[i + 1] == 0x85 || d[i + 1] == 0xa0))
        return 2;
    if (i + 2 < e) {
        unsigned char c1 = d[i + 1], c2 = d[i + 2];
        if (c == 0xe1 && c1 == 0x9a && c2 == 0x80)
            return 3; /* U+1680 */
        if (c == 0xe2 && c1 == 0x80 && (c2 <= 0x8a && c2 >= 0x80))
            return 3; /* U+2000..U+200A */
        if (c == 0xe2 && c1 == 0x80 && (c2 == 0xa8 || c2 == 0xa9 || c2 == 0xaf))
            return 3; /* U+2028, U+2029, U+202F */
        if (c == 0xe2 && c1 == 0x81 && c2 == 0x9f)
            return 3; /* U+205F */
        if (c == 0xe3 && c1 == 0x80 && c2 == 0x80)
            return 3; /* U+3000 */
    }
    return 0;
}

/* Length of the whitespace character ending just before d[e], or 0 (a lead byte is never a continuation,
 * so a whole sequence at the end decodes as itself whatever comes before it). */
static int space_before(Bytes d, Py_ssize_t s, Py_ssize_t e) {
    if (e - 1 >= s && space_at(d, e - 1, e) == 1)
        return 1;
    if (e - 2 >= s && space_at(d, e - 2, e) == 2)
        return 2;
    if (e - 3 >= s && space_at(d, e - 3, e) == 3)
        return 3;
    return 0;
}

static void strip(Bytes d, Py_ssize_t *s, Py_ssize_t *e) {
    int n;
    while (*s < *e && (n = space_at(d, *s, *e)) > 0)
        *s += n;
    while (*e > *s && (n = space_before(d, *s, *e)) > 0)
        *e -= n;
}

static int ascii(Bytes d, Py_ssize_t s, Py_ssize_t e) {
    for (Py_ssize_t i = s; i < e; i++)
        if (d[i] >= 0x80)
            return 0;
    return 1;
}

/* plan.number_or_empty on ASCII: 1 with the span stripped when it is \d{1,6}(\.\d{1,3})?, else 0. */
static int number_span(Bytes d, Py_ssize_t *s, Py_ssize_t *e) {
    strip(d, s, e);
    Py_ssize_t i = *s, digits = 0, fraction = 0;
    while (i < *e && d[i] >= '0' && d[i] <= '9') {
        i++;
        digits++;
    }
    if (digits < 1 || digits > 6)
        return 0;
    if (i == *e)
        return 1;
    if (d[i++] != '.')
        return 0;
    while (i < *e && d[i] >= '0' && d[i] <= '9') {
        i++;
        fraction++;
    }
    return i == *e && fraction >= 1 && fraction <= 3;
}

/* A string assembled from byte pieces, decoded once. */
#define MAX_DIRECTIVES 16 /* more #KODIPROP/#EXTVLCOPT lines than this: the Python path */
#define MAX_PIECES (32 + 5 * MAX_ATTRS + 5 * MAX_DIRECTIVES)
typedef struct {
    int n;
    int overflow;
    Py_ssize_t length;
    const char *ptr[MAX_PIECES];
    Py_ssize_t len[MAX_PIECES];
} Builder;

static void b_init(Builder *b) {
    b->n = 0;
    b->overflow = 0;
    b->length = 0;
}

static void b_add(Builder *b, const char *p, Py_ssize_t n) {
    if (n <= 0)
        return;
    if (b->n == MAX_PIECES) {
        b->overflow = 1;
        return;
    }
    b->ptr[b->n] = p;
    b->len[b->n] = n;
    b->length += n;
    b->n++;
}

#define B_LIT(b, lit) b_add(b, lit, (Py_ssize_t)(sizeof(lit) - 1))

static void b_span(Builder *b, Bytes d, Py_ssize_t s, Py_ssize_t e) { b_add(b, (const char *)d + s, e - s); }

/* A str's UTF-8 (NULL with an error set when it has none: lone surrogates). */
static int b_str(Builder *b, PyObject *str) {
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(str, &n);
    if (p == NULL)
        return -1;
    b_add(b, p, n);
    return 0;
}

static PyObject *b_finish(Builder *b) {
    if (b->overflow) {
        PyErr_SetString(PyExc_OverflowError, "too many pieces");
        return NULL;
    }
    char small[2048];
    char *buf = b->length <= (Py_ssize_t)sizeof(small) ? small : PyMem_Malloc((size_t)b->length);
    if (buf == NULL)
        return PyErr_NoMemory();
    Py_ssize_t at = 0;
    for (int i = 0; i < b->n; i++) {
        memcpy(buf + at, b->ptr[i], (size_t)b->len[i]);
        at += b->len[i];
    }
    PyObject *out = PyUnicode_DecodeUTF8(buf, b->length, "replace");
    if (buf != small)
        PyMem_Free(buf);
    return out;
}

/* True when s is strict UTF-8 as Python's decoder reads it (no overlongs, surrogates or code points past
 * U+10FFFF), so the bytes are what decoding with errors="replace" and encoding again would give. */
static int valid_utf8(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t word;
            memcpy(&word, s + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0xc2 && c <= 0xdf) {
            if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            if (i + 2 >= n || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 ||
                (c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0))
                return 0;
            i += 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            if (i + 3 >= n || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 ||
                (s[i + 3] & 0xc0) != 0x80 || (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* The pieces as UTF-8 bytes: copied as they are when valid, else decoded with replacement and encoded. */
static PyObject *b_bytes(Builder *b) {
    if (b->overflow) {
        PyErr_SetString(PyExc_OverflowError, "too many pieces");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, b->length);
    if (out == NULL)
        return NULL;
    char *buf = PyBytes_AS_STRING(out);
    Py_ssize_t at = 0;
    for (int i = 0; i < b->n; i++) {
        memcpy(buf + at, b->ptr[i], (size_t)b->len[i]);
        at += b->len[i];
    }
    if (valid_utf8((const unsigned char *)buf, b->length))
        return out;
    PyObject *text = PyUnicode_DecodeUTF8(buf, b->length, "replace");
    Py_DECREF(out);
    if (text == NULL)
        return NULL;
    out = PyUnicode_AsUTF8String(text);
    Py_DECREF(text);
    return out;
}

static int key_byte(unsigned char c) {
    /* [^\s=,"'] for an ASCII byte */
    return !(c == '=' || c == ',' || c == '"' || c == '\'' || c == ' ' || (c >= '\t' && c <= '\r') ||
             (c >= 0x1c && c <= 0x1f));
}

/* Parse `#EXTINF:(-?\d+)((?: [^\s=,"']+="[^"]*")*),(.*)` (m3u._FAST) with ASCII digits and keys; 0 when it
 * does not match (the line then goes to config.directive, which reads it with the regex). */
static int parse_fast(Extinf *x) {
    Bytes d = x->d;
    Py_ssize_t p = x->start, e = x->end;
    if (e - p < 8 || memcmp(d + p, "#EXTINF:", 8) != 0)
        return 0;
    p += 8;
    x->dur_s = p;
    if (p < e && d[p] == '-')
        p++;
    Py_ssize_t digits = p;
    while (p < e && d[p] >= '0' && d[p] <= '9')
        p++;
    if (p == digits)
        return 0;
    x->dur_e = p;
    x->count = 0;
    x->odd = 0;
    while (p < e && d[p] == ' ') {
        Py_ssize_t ks = ++p;
        while (p < e && d[p] < 0x80 && key_byte(d[p])) {
            if (d[p] >= 'A' && d[p] <= 'Z')
                x->odd = 1;
            p++;
        }
        Py_ssize_t ke = p;
        /* a non-ASCII byte in a key may be whitespace that ends it: the regex decides */
        if (ke == ks || p + 1 >= e || d[p] != '=' || d[p + 1] != '"')
            return 0;
        p += 2;
        Py_ssize_t vs = p;
        const unsigned char *q = memchr(d + p, '"', (size_t)(e - p));
        if (q == NULL)
            return 0;
        p = q - d;
        if (x->count < MAX_ATTRS) {
            Attr *a = &x->attrs[x->count];
            a->ks = ks;
            a->ke = ke;
            a->vs = vs;
            a->ve = p;
        } else {
            x->odd = 1;
        }
        x->count++;
        p++;
    }
    if (p >= e || d[p] != ',')
        return 0;
    p++;
    int n;
    while (p < e && (n = space_at(d, p, e)) > 0)
        p += n;
    x->name_s = p;
    x->name_e = e; /* the line is stripped already */
    return 1;
}

/* m3u.Pending for an #EXTINF read here, for config.odd; NULL without an error when it had too many
 * attributes to keep (the caller then has the directive read the line again). */
static PyObject *pending_of(const Extinf *x, long line) {
    if (x->count > MAX_ATTRS)
        return NULL;
    PyObject *attrs = PyList_New(x->count);
    if (attrs == NULL)
        return NULL;
    for (int i = 0; i < x->count; i++) {
        const Attr *a = &x->attrs[i];
        PyObject *pair = Py_BuildValue("(NN)", decode(x->d, a->ks, a->ke), decode(x->d, a->vs, a->ve));
        if (pair == NULL) {
            Py_DECREF(attrs);
            return NULL;
        }
        PyList_SET_ITEM(attrs, i, pair);
    }
    return Py_BuildValue("(lNNN)", line, decode(x->d, x->dur_s, x->dur_e), attrs,
                         decode(x->d, x->name_s, x->name_e));
}

static int warn(const Config *c, long line, PyObject *message) {
    PyObject *r = PyObject_CallFunction(c->warn, "lO", line, message);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int scheme_byte(unsigned char c) {
    return alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

/* plan._SCHEME (^[a-z][a-z0-9+.-]*: ignoring case) for ASCII; anything else is left to Python */
static int has_scheme(const char *p, Py_ssize_t n) {
    if (n == 0 || !alpha((unsigned char)p[0]))
        return 0;
    for (Py_ssize_t i = 1; i < n; i++) {
        if (p[i] == ':')
            return 1;
        if (!scheme_byte((unsigned char)p[i]))
            return 0;
    }
    return 0;
}

/* m3u._URL: [A-Za-z][A-Za-z0-9+.-]*:// at the start */
static int is_url(Bytes d, Py_ssize_t s, Py_ssize_t e) {
    if (s >= e || !alpha(d[s]))
        return 0;
    for (Py_ssize_t i = s + 1; i < e; i++) {
        if (d[i] == ':')
            return i + 2 < e && d[i + 1] == '/' && d[i + 2] == '/';
        if (!scheme_byte(d[i]))
            return 0;
    }
    return 0;
}

/* radio.strip().lower() in {"true", "1", "yes"}; a non-ASCII letter never lowers into one of them */
static int radio_true(Bytes d, Py_ssize_t s, Py_ssize_t e) {
    strip(d, &s, &e);
    char buf[4];
    Py_ssize_t n = e - s;
    if (n < 1 || n > 4)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = d[s + i];
        if (c > 127)
            return 0;
        buf[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    return (n == 4 && memcmp(buf, "true", 4) == 0) || (n == 1 && buf[0] == '1') ||
           (n == 3 && memcmp(buf, "yes", 3) == 0);
}

static int is_extra(const Config *c, Bytes d, const Attr *a) {
    for (int i = 0; i < c->n_extras; i++)
        if (span_is(d, a->ks, a->ke, c->extras[i], c->extra_len[i]))
            return 1;
    return 0;
}

/* Directives, then the URL, after the name; each line ends in "\n" (lines hold no breaks). */
static int add_tail(Builder *b, Bytes url, Py_ssize_t url_s, Py_ssize_t url_e, PyObject *kodiprops,
                    PyObject *vlcopts) {
    B_LIT(b, "\n");
    PyObject *lists[2] = {kodiprops, vlcopts};
    for (int l = 0; l < 2; l++) {
        Py_ssize_t n = PyList_GET_SIZE(lists[l]);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *pair = PyList_GET_ITEM(lists[l], i);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
                !PyUnicode_Check(PyTuple_GET_ITEM(pair, 0)) || !PyUnicode_Check(PyTuple_GET_ITEM(pair, 1))) {
                PyErr_SetString(PyExc_TypeError, "directive pairs must be (str, str)");
                return -1;
            }
            if (l == 0)
                B_LIT(b, "#KODIPROP:");
            else
                B_LIT(b, "#EXTVLCOPT:");
            if (b_str(b, PyTuple_GET_ITEM(pair, 0)) < 0)
                return -1;
            B_LIT(b, "=");
            if (b_str(b, PyTuple_GET_ITEM(pair, 1)) < 0)
                return -1;
            B_LIT(b, "\n");
        }
    }
    b_span(b, url, url_s, url_e);
    B_LIT(b, "\n");
    return 0;
}

/* The view of an entry whose #EXTINF was read here; NULL with *odd set when Python must make it. */
static PyObject *fast_view(const Config *c, const Extinf *x, long line, Bytes url, Py_ssize_t url_s,
                           Py_ssize_t url_e, PyObject *kodiprops, PyObject *vlcopts, int *odd) {
    Bytes d = x->d;
    int id = -1, tname = -1, chno = -1, chnum = -1, logo = -1, radio = -1, group = -1;
    *odd = 1;
    if (x->odd || x->name_s >= x->name_e ||
        PyList_GET_SIZE(kodiprops) + PyList_GET_SIZE(vlcopts) > MAX_DIRECTIVES)
        return NULL;
    unsigned char extra[MAX_ATTRS]; /* a PLAYLIST_ATTRS key, written among mid's attributes */
    for (int i = 0; i < x->count; i++) {
        const Attr *a = &x->attrs[i];
        int known = 1;
        if (SPAN_IS(d, a->ks, a->ke, "tvg-id"))
            id = id < 0 ? i : id;
        else if (SPAN_IS(d, a->ks, a->ke, "tvg-name"))
            tname = tname < 0 ? i : tname;
        else if (SPAN_IS(d, a->ks, a->ke, "tvg-logo"))
            logo = logo < 0 ? i : logo;
        else if (SPAN_IS(d, a->ks, a->ke, "group-title"))
            group = group < 0 ? i : group;
        else if (SPAN_IS(d, a->ks, a->ke, "tvg-chno"))
            chno = chno < 0 ? i : chno;
        else if (SPAN_IS(d, a->ks, a->ke, "radio"))
            radio = radio < 0 ? i : radio;
        else if (SPAN_IS(d, a->ks, a->ke, "ch-number"))
            chnum = chnum < 0 ? i : chnum;
        else
            known = 0;
        extra[i] = !known && is_extra(c, d, a);
    }
    if (chno < 0 && chnum >= 0 && !ascii(d, x->attrs[chnum].vs, x->attrs[chnum].ve))
        return NULL;
    if (chno >= 0 && !ascii(d, x->attrs[chno].vs, x->attrs[chno].ve))
        return NULL; /* Unicode digits: plan.number_or_empty decides */
    Py_ssize_t gs = 0, ge = 0;
    if (group >= 0) {
        gs = x->attrs[group].vs;
        ge = x->attrs[group].ve;
        if (memchr(d + gs, ';', (size_t)(ge - gs)) != NULL)
            return NULL; /* several groups: m3u._groups splits them */
        strip(d, &gs, &ge);
    }
    *odd = 0;
    int has_logo = logo >= 0 && x->attrs[logo].ve > x->attrs[logo].vs;
    int has_name = tname >= 0 && x->attrs[tname].ve > x->attrs[tname].vs;

    PyObject *name = NULL, *tvg_id = NULL, *tvg_name = NULL, *number = NULL, *title = NULL, *groups = NULL,
             *logo_s = NULL, *mid = NULL, *tail = NULL, *rest = NULL, *view = NULL, *line_obj = NULL;
    name = decode(d, x->name_s, x->name_e);
    tvg_id = id >= 0 ? decode(d, x->attrs[id].vs, x->attrs[id].ve) : (Py_INCREF(S_EMPTY), S_EMPTY);
    tvg_name = has_name ? decode(d, x->attrs[tname].vs, x->attrs[tname].ve) : (Py_INCREF(S_EMPTY), S_EMPTY);
    int which = chno >= 0 ? chno : chnum;
    Py_ssize_t ns = 0, ne = 0;
    if (which >= 0) {
        ns = x->attrs[which].vs;
        ne = x->attrs[which].ve;
    }
    number = number_span(d, &ns, &ne) ? decode(d, ns, ne) : (Py_INCREF(S_EMPTY), S_EMPTY);
    line_obj = PyLong_FromLong(line);
    if (name == NULL || tvg_id == NULL || tvg_name == NULL || number == NULL || line_obj == NULL)
        goto done;
    if (ge > gs) {
        title = decode(d, gs, ge);
        if (title == NULL)
            goto done;
        groups = PyTuple_Pack(1, title);
    } else {
        groups = PyTuple_Pack(1, c->source_name);
    }
    if (groups == NULL)
        goto done;

    Builder b;
    b_init(&b);
    if (radio >= 0 && radio_true(d, x->attrs[radio].vs, x->attrs[radio].ve))
        B_LIT(&b, " radio=\"true\"");
    for (int i = 0; i < x->count; i++) {
        const Attr *a = &x->attrs[i];
        if (extra[i]) {
            B_LIT(&b, " ");
            b_span(&b, d, a->ks, a->ke);
            B_LIT(&b, "=\"");
            b_span(&b, d, a->vs, a->ve);
            B_LIT(&b, "\"");
        }
    }
    int mid_pieces = b.n;
    Builder t;
    b_init(&t);
    if (add_tail(&t, url, url_s, url_e, kodiprops, vlcopts) < 0)
        goto done;

    /* rest as the merge writes it when no override applies: logo (or the source icon), group, mid, name */
    int icon = !has_logo && c->icon_esc_len > 0;
    int relative = c->check_scheme && ((has_logo && !has_scheme((const char *)d + x->attrs[logo].vs,
                                                                 x->attrs[logo].ve - x->attrs[logo].vs)) ||
                                       (icon && !has_scheme(c->icon_esc, c->icon_esc_len)));
    if (relative) {
        Py_INCREF(Py_None);
        rest = Py_None; /* absolute() joins it to the source URL: Python composes it */
    } else {
        Builder r;
        b_init(&r);
        if (has_logo) {
            B_LIT(&r, " tvg-logo=\"");
            b_span(&r, d, x->attrs[logo].vs, x->attrs[logo].ve);
            B_LIT(&r, "\"");
        } else if (icon) {
            B_LIT(&r, " tvg-logo=\"");
            b_add(&r, c->icon_esc, c->icon_esc_len);
            B_LIT(&r, "\"");
        }
        B_LIT(&r, " group-title=\"");
        if (ge > gs)
            b_span(&r, d, gs, ge);
        else
            b_add(&r, c->source_name_esc, c->source_name_esc_len);
        B_LIT(&r, "\"");
        for (int i = 0; i < mid_pieces; i++)
            b_add(&r, b.ptr[i], b.len[i]);
        B_LIT(&r, ",");
        if (has_name)
            b_span(&r, d, x->attrs[tname].vs, x->attrs[tname].ve);
        else
            b_span(&r, d, x->name_s, x->name_e);
        for (int i = 0; i < t.n; i++)
            b_add(&r, t.ptr[i], t.len[i]);
        rest = b_bytes(&r);
        if (rest == NULL)
            goto done;
    }
    PyObject *key = PyUnicode_GET_LENGTH(tvg_id) ? tvg_id : has_name ? tvg_name : name;
    /* logo, mid and tail only serve to compose rest again, for an overridden channel or a relative logo */
    int parts = rest == Py_None;
    if (!parts && c->overridden != Py_None) {
        parts = PySet_Contains(c->overridden, key);
        if (parts < 0)
            goto done;
    }
    if (parts) {
        logo_s = has_logo ? decode(d, x->attrs[logo].vs, x->attrs[logo].ve) : (Py_INCREF(S_EMPTY), S_EMPTY);
        mid = b_finish(&b);
        tail = b_finish(&t);
        if (logo_s == NULL || mid == NULL || tail == NULL)
            goto done;
    } else {
        Py_INCREF(S_EMPTY);
        logo_s = S_EMPTY;
        Py_INCREF(S_EMPTY);
        mid = S_EMPTY;
        Py_INCREF(S_EMPTY);
        tail = S_EMPTY;
    }
    view = PyTuple_New(10);
    if (view != NULL) {
        PyObject *items[10] = {key, name, has_name ? tvg_name : name, number, groups, logo_s, mid, tail, rest,
                               line_obj};
        for (int i = 0; i < 10; i++) {
            Py_INCREF(items[i]);
            PyTuple_SET_ITEM(view, i, items[i]);
        }
    }
done:
    Py_XDECREF(name);
    Py_XDECREF(tvg_id);
    Py_XDECREF(tvg_name);
    Py_XDECREF(number);
    Py_XDECREF(title);
    Py_XDECREF(groups);
    Py_XDECREF(logo_s);
    Py_XDECREF(mid);
    Py_XDECREF(tail);
    Py_XDECREF(rest);
    Py_XDECREF(line_obj);
    return view;
}

static int config_read(PyObject *tuple, Config *c) {
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != 10) {
        PyErr_SetString(PyExc_TypeError, "config must be a 10-tuple");
        return -1;
    }
    c->source_name = PyTuple_GET_ITEM(tuple, 0);
    PyObject *source_name_esc = PyTuple_GET_ITEM(tuple, 1);
    c->icon = PyTuple_GET_ITEM(tuple, 2);
    PyObject *icon_esc = PyTuple_GET_ITEM(tuple, 3);
    c->check_scheme = PyObject_IsTrue(PyTuple_GET_ITEM(tuple, 4));
    PyObject *extras = PyTuple_GET_ITEM(tuple, 5);
    c->directive = PyTuple_GET_ITEM(tuple, 6);
    c->odd = PyTuple_GET_ITEM(tuple, 7);
    c->warn = PyTuple_GET_ITEM(tuple, 8);
    c->overridden = PyTuple_GET_ITEM(tuple, 9);
    if (c->overridden != Py_None && !PyAnySet_Check(c->overridden)) {
        PyErr_SetString(PyExc_TypeError, "overridden must be a set or None");
        return -1;
    }
    if (!PyUnicode_Check(c->source_name) || !PyUnicode_Check(source_name_esc) || !PyUnicode_Check(c->icon) ||
        !PyUnicode_Check(icon_esc) || !PyTuple_Check(extras) || PyTuple_GET_SIZE(extras) > MAX_EXTRAS ||
        c->check_scheme < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "bad config");
        return -1;
    }
    /* lone surrogates (no UTF-8) raise here: the caller reads the source in Python instead */
    c->source_name_esc = PyUnicode_AsUTF8AndSize(source_name_esc, &c->source_name_esc_len);
    c->icon_esc = PyUnicode_AsUTF8AndSize(icon_esc, &c->icon_esc_len);
    if (c->source_name_esc == NULL || c->icon_esc == NULL)
        return -1;
    c->n_extras = (int)PyTuple_GET_SIZE(extras);
    for (int i = 0; i < c->n_extras; i++) {
        PyObject *name = PyTuple_GET_ITEM(extras, i);
        if (!PyUnicode_Check(name) || !PyUnicode_IS_ASCII(name)) {
            PyErr_SetString(PyExc_TypeError, "extras must be ASCII str");
            return -1;
        }
        c->extras[i] = PyUnicode_AsUTF8(name); /* lives as long as the config tuple */
        c->extra_len[i] = PyUnicode_GET_LENGTH(name);
    }
    return 0;
}

/* Give a state list's list item a new empty list when it holds anything. */
static int reset_list(PyObject *state, Py_ssize_t index, PyObject **list) {
    if (PyList_GET_SIZE(*list) == 0)
        return 0;
    PyObject *fresh = PyList_New(0);
    if (fresh == NULL)
        return -1;
    *list = fresh;
    PyList_SetItem(state, index, fresh); /* steals fresh and drops the old list */
    return 0;
}

/* Hand a "#" line that is not the usual #EXTINF to config.directive; return its kind (-1: error). */
static long directive(const Config *c, Bytes d, Py_ssize_t s, Py_ssize_t e, long lineno, PyObject **value) {
    PyObject *line = decode(d, s, e);
    if (line == NULL)
        return -1;
    PyObject *r = PyObject_CallFunction(c->directive, "Nl", line, lineno);
    if (r == NULL)
        return -1;
    long kind = -1;
    if (PyTuple_Check(r) && PyTuple_GET_SIZE(r) == 2)
        kind = PyLong_AsLong(PyTuple_GET_ITEM(r, 0));
    if (kind < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "directive must return (kind, value)");
        Py_DECREF(r);
        return -1;
    }
    *value = PyTuple_GET_ITEM(r, 1);
    Py_INCREF(*value);
    Py_DECREF(r);
    return kind;
}

static PyObject *feed(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer block;
    PyObject *state, *config_obj;
    if (!PyArg_ParseTuple(args, "y*O!O", &block, &PyList_Type, &state, &config_obj))
        return NULL;
    Config c;
    PyObject *out = NULL, *pending = NULL;
    Extinf *buffers = NULL;
    if (config_read(config_obj, &c) < 0)
        goto error;
    if (PyList_GET_SIZE(state) != 6) {
        PyErr_SetString(PyExc_ValueError, "state must have 6 items");
        goto error;
    }
    long lineno = PyLong_AsLong(PyList_GET_ITEM(state, 0));
    if (lineno == -1 && PyErr_Occurred())
        goto error;
    int seen = PyObject_IsTrue(PyList_GET_ITEM(state, 1));
    PyObject *extgrp = PyList_GET_ITEM(state, 3), *kodiprops = PyList_GET_ITEM(state, 4),
             *vlcopts = PyList_GET_ITEM(state, 5);
    if (seen < 0 || !PyList_Check(extgrp) || !PyList_Check(kodiprops) || !PyList_Check(vlcopts)) {
        PyErr_SetString(PyExc_TypeError, "bad state");
        goto error;
    }
    out = PyList_New(0);
    buffers = PyMem_Malloc(2 * sizeof(Extinf));
    if (out == NULL || buffers == NULL) {
        if (buffers == NULL)
            PyErr_NoMemory();
        goto error;
    }
    /* The pending #EXTINF: read here (x, valid while its bytes live: the block, or the kept line that
     * `pending` holds), or a Python m3u.Pending in `pending`. */
    Extinf *x = buffers, *probe = buffers + 1;
    int have_x = 0;
    long x_line = 0;
    pending = PyList_GET_ITEM(state, 2);
    Py_INCREF(pending);
    if (PyTuple_Check(pending) && PyTuple_GET_SIZE(pending) == 2) {
        x_line = PyLong_AsLong(PyTuple_GET_ITEM(pending, 0));
        PyObject *kept = PyTuple_GET_ITEM(pending, 1);
        if (!PyBytes_Check(kept)) {
            PyErr_SetString(PyExc_TypeError, "bad pending line");
            goto error;
        }
        x->d = (Bytes)PyBytes_AS_STRING(kept);
        x->start = 0;
        x->end = PyBytes_GET_SIZE(kept);
        if (!parse_fast(x)) {
            PyErr_SetString(PyExc_ValueError, "pending line no longer parses");
            goto error;
        }
        have_x = 1;
    }

    Bytes d = block.buf;
    Py_ssize_t n = block.len, pos = 0;
    while (pos <= n) {
        const unsigned char *nl = memchr(d + pos, '\n', (size_t)(n - pos));
        Py_ssize_t s = pos, e = nl == NULL ? n : nl - d;
        pos = e + 1;
        lineno++;
        strip(d, &s, &e);
        if (s == e)
            continue;
        if (d[s] == '#') {
            probe->d = d;
            probe->start = s;
            probe->end = e;
            PyObject *value = NULL;
            int fast = parse_fast(probe);
            if (!fast) {
                long kind = directive(&c, d, s, e, lineno, &value);
                if (kind < 0)
                    goto error;
                if (kind != K_EXTINF) {
                    int bad = 0;
                    if (kind == K_EXTGRP)
                        bad = PyList_Append(extgrp, value);
                    else if (kind == K_KODIPROP)
                        bad = PyList_Append(kodiprops, value);
                    else if (kind == K_VLCOPT)
                        bad = PyList_Append(vlcopts, value);
                    else if (kind == K_HEADER)
                        seen = 1;
                    Py_DECREF(value);
                    if (bad < 0)
                        goto error;
                    continue;
                }
            }
            int bad = 0;
            if (!seen) {
                seen = 1;
                bad = warn(&c, lineno, S_NO_HEADER);
            }
            if (!bad && (have_x || pending != Py_None))
                bad = warn(&c, have_x ? x_line : PyLong_AsLong(PyTuple_GET_ITEM(pending, 0)), S_NO_URL);
            if (bad) {
                Py_XDECREF(value);
                goto error;
            }
            Py_DECREF(pending);
            if (fast) {
                Extinf *swap = x;
                x = probe;
                probe = swap;
                have_x = 1;
                x_line = lineno;
                Py_INCREF(Py_None);
                pending = Py_None;
            } else {
                have_x = 0;
                pending = value;
            }
            continue;
        }
        /* a URL line */
        if (!seen) {
            seen = 1;
            if (warn(&c, lineno, S_NO_HEADER) < 0)
                goto error;
        }
        if (!have_x && pending == Py_None) {
            PyObject *url = decode(d, s, e), *p = NULL;
            if (url == NULL)
                goto error;
            if (!is_url(d, s, e)) {
                PyObject *head = PyUnicode_Substring(url, 0, 80);
                PyObject *msg = head == NULL ? NULL : PyUnicode_Concat(S_IGNORED, head);
                Py_XDECREF(head);
                int bad = msg == NULL || warn(&c, lineno, msg) < 0;
                Py_XDECREF(msg);
                Py_DECREF(url);
                if (bad)
                    goto error;
                continue;
            }
            if (warn(&c, lineno, S_BARE_URL) == 0)
                p = Py_BuildValue("(lO[]N)", lineno, S_MINUS1, url);
            else
                Py_DECREF(url);
            if (p == NULL)
                goto error;
            Py_DECREF(pending);
            pending = p;
        }
        PyObject *view = NULL;
        int odd = 1;
        if (have_x && PyList_GET_SIZE(extgrp) == 0) {
            view = fast_view(&c, x, x_line, d, s, e, kodiprops, vlcopts, &odd);
            if (view == NULL && !odd)
                goto error;
        }
        if (odd) {
            PyObject *p = pending;
            Py_INCREF(p);
            if (have_x) {
                Py_DECREF(p);
                p = pending_of(x, x_line);
                if (p == NULL && !PyErr_Occurred()) {
                    /* too many attributes to have kept: the directive reads the line again */
                    PyObject *value = NULL;
                    if (directive(&c, x->d, x->start, x->end, x_line, &value) == K_EXTINF)
                        p = value;
                    else
                        Py_XDECREF(value);
                }
                if (p == NULL) {
                    if (!PyErr_Occurred())
                        PyErr_SetString(PyExc_ValueError, "an #EXTINF line no longer parses");
                    goto error;
                }
            }
            PyObject *url = decode(d, s, e);
            if (url != NULL)
                view = PyObject_CallFunction(c.odd, "ONOOO", p, url, extgrp, kodiprops, vlcopts);
            Py_DECREF(p);
            if (view == NULL)
                goto error;
        }
        int bad = PyList_Append(out, view);
        Py_DECREF(view);
        if (bad < 0)
            goto error;
        have_x = 0;
        Py_DECREF(pending);
        Py_INCREF(Py_None);
        pending = Py_None;
        if (reset_list(state, 3, &extgrp) < 0 || reset_list(state, 4, &kodiprops) < 0 ||
            reset_list(state, 5, &vlcopts) < 0)
            goto error;
    }
    if (have_x && x->d == d) {
        /* keep the pending line's bytes: the block goes away */
        PyObject *kept = Py_BuildValue("(ly#)", x_line, (const char *)d + x->start, x->end - x->start);
        if (kept == NULL)
            goto error;
        Py_DECREF(pending);
        pending = kept;
    }
    PyObject *number = PyLong_FromLong(lineno);
    if (number == NULL)
        goto error;
    PyList_SetItem(state, 0, number);
    Py_INCREF(seen ? Py_True : Py_False);
    PyList_SetItem(state, 1, seen ? Py_True : Py_False);
    PyList_SetItem(state, 2, pending); /* steals our reference */
    PyMem_Free(buffers);
    PyBuffer_Release(&block);
    return out;
error:
    Py_XDECREF(pending);
    PyMem_Free(buffers);
    Py_XDECREF(out);
    PyBuffer_Release(&block);
    return NULL;
}

/* markers(data) -> (marks, newlines): where "tvg-chno" (its "chno") and "ch-number" start in bytes, in any
 * ASCII case, as a flat list [newlines before, start, ...], and the number of newlines in data. What
 * number_scan's lower-cased regex and line counting find, in one pass. */
static PyObject *markers(PyObject *Py_UNUSED(self), PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Bytes d = view.buf;
    Py_ssize_t n = view.len, lines = 0;
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
#ifdef __SSE2__
        /* 16 bytes at a time while none is a newline or a "c" of either case */
        while (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(d + i));
            __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                                       _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('c')));
            int mask = _mm_movemask_epi8(hit);
            if (mask != 0) {
                i += __builtin_ctz((unsigned)mask);
                break;
            }
            i += 16;
        }
        if (i >= n)
            break;
#endif
        unsigned char c = d[i];
        if (c > 'c' || (c != '\n' && c != 'c' && c != 'C'))
            continue; /* most bytes: one or two compares */
        if (c == '\n') {
            lines++;
            continue;
        }
        if (i + 4 > n || (d[i + 1] | 0x20) != 'h')
            continue;
        int hit = 0;
        if ((d[i + 2] | 0x20) == 'n' && (d[i + 3] | 0x20) == 'o')
            hit = i >= 4 && (d[i - 4] | 0x20) == 't' && (d[i - 3] | 0x20) == 'v' && (d[i - 2] | 0x20) == 'g' &&
                  d[i - 1] == '-';
        else if (i + 9 <= n && d[i + 2] == '-' && (d[i + 3] | 0x20) == 'n' && (d[i + 4] | 0x20) == 'u' &&
                 (d[i + 5] | 0x20) == 'm' && (d[i + 6] | 0x20) == 'b' && (d[i + 7] | 0x20) == 'e' &&
                 (d[i + 8] | 0x20) == 'r')
            hit = 1;
        if (hit) {
            PyObject *before = PyLong_FromSsize_t(lines), *at = PyLong_FromSsize_t(i);
            int bad = before == NULL || at == NULL || PyList_Append(out, before) < 0 || PyList_Append(out, at) < 0;
            Py_XDECREF(before);
            Py_XDECREF(at);
            if (bad) {
                Py_DECREF(out);
                PyBuffer_Release(&view);
                return NULL;
            }
            i += 3; /* no marker starts inside one */
        }
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(Nn)", out, lines);
}

/* run(views, i, seen, presets, claimed, next_free, limit, heap_top, out, duplicates, prefix, next_line):
 * playlist_stream's inline path for the usual channel, over views[i:] while each is usual: not a repeat
 * (repeats are listed in duplicates as prefix + key), asks for no number, has its rest, the next free
 * number is neither a preset nor claimed by an unread line and sorts before limit and the heap's top.
 * Each is written to out with that number. Stops at the first other entry, or at the line next_line, and
 * returns (index reached, next free number, channels written); the caller goes on from there. */
static PyObject *run(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *views, *seen, *presets, *claimed, *heap_top, *out, *duplicates, *prefix;
    Py_ssize_t i, next_free, limit;
    long next_line;
    if (!PyArg_ParseTuple(args, "O!nO!O!O!nnOO!O!Ul", &PyList_Type, &views, &i, &PySet_Type, &seen, &PySet_Type,
                          &presets, &PyDict_Type, &claimed, &next_free, &limit, &heap_top, &PyList_Type, &out,
                          &PyList_Type, &duplicates, &prefix, &next_line))
        return NULL;
    Py_ssize_t top_a = PY_SSIZE_T_MAX, top_b = 0;
    if (heap_top != Py_None && !PyArg_ParseTuple(heap_top, "nn", &top_a, &top_b))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(views), written = 0;
    for (; i < n; i++) {
        PyObject *view = PyList_GET_ITEM(views, i);
        if (!PyTuple_Check(view) || PyTuple_GET_SIZE(view) != 10) {
            PyErr_SetString(PyExc_TypeError, "views must be 10-tuples");
            return NULL;
        }
        PyObject *key = PyTuple_GET_ITEM(view, 0), *out_name = PyTuple_GET_ITEM(view, 2),
                 *wanted = PyTuple_GET_ITEM(view, 3), *rest = PyTuple_GET_ITEM(view, 8);
        long line = PyLong_AsLong(PyTuple_GET_ITEM(view, 9));
        if (line == -1 && PyErr_Occurred())
            return NULL;
        if (line >= next_line)
            break;
        int repeat = PySet_Contains(seen, key);
        if (repeat < 0)
            return NULL;
        if (repeat) {
            PyObject *message = PyUnicode_Concat(prefix, key);
            if (message == NULL || PyList_Append(duplicates, message) < 0) {
                Py_XDECREF(message);
                return NULL;
            }
            Py_DECREF(message);
            continue;
        }
        if (!PyUnicode_Check(wanted) || PyUnicode_GET_LENGTH(wanted) != 0 || !PyBytes_Check(rest) ||
            !PyUnicode_Check(out_name))
            break;
        if (next_free >= limit || next_free >= 100000000 || next_free < 0 ||
            !(next_free < top_a || (next_free == top_a && 0 < top_b)))
            break;
        /* a name with quotes or line breaks: format_value changes it, which Python does */
        if (PyUnicode_FindChar(out_name, '"', 0, PY_SSIZE_T_MAX, 1) != -1 ||
            PyUnicode_FindChar(out_name, '\n', 0, PY_SSIZE_T_MAX, 1) != -1 ||
            PyUnicode_FindChar(out_name, '\r', 0, PY_SSIZE_T_MAX, 1) != -1)
            break;
        char digits[24];
        int len = 0;
        for (Py_ssize_t v = next_free; len == 0 || v > 0; v /= 10)
            digits[len++] = (char)('0' + v % 10);
        for (int a = 0, z = len - 1; a < z; a++, z--) {
            char swap = digits[a];
            digits[a] = digits[z];
            digits[z] = swap;
        }
        digits[len] = '\0';
        PyObject *number = PyUnicode_FromStringAndSize(digits, len);
        if (number == NULL)
            return NULL;
        int taken = PySet_Contains(presets, number);
        if (taken == 0)
            taken = PyDict_Contains(claimed, number);
        Py_DECREF(number);
        if (taken < 0)
            return NULL;
        if (taken)
            break;
        Py_ssize_t name_len;
        const char *name = PyUnicode_AsUTF8AndSize(out_name, &name_len);
        if (name == NULL)
            return NULL;
        int check = 0;
        for (Py_ssize_t v = next_free; v > 0; v /= 10)
            check += (int)(v % 10);
        /* #EXTINF:-1 tvg-id="C{n}.{check}.antenna" tvg-name="{name}" tvg-chno="{n}"{rest} */
        Py_ssize_t rest_len = PyBytes_GET_SIZE(rest);
        static const char id_head[] = "#EXTINF:-1 tvg-id=\"C", id_tail[] = ".antenna\" tvg-name=\"",
                          chno_head[] = "\" tvg-chno=\"";
        Py_ssize_t size = (Py_ssize_t)(sizeof(id_head) - 1) + len + 2 + (Py_ssize_t)(sizeof(id_tail) - 1) +
                          name_len + (Py_ssize_t)(sizeof(chno_head) - 1) + len + 1 + rest_len;
        PyObject *text = PyBytes_FromStringAndSize(NULL, size);
        if (text == NULL)
            return NULL;
        char *w = PyBytes_AS_STRING(text);
        memcpy(w, id_head, sizeof(id_head) - 1);
        w += sizeof(id_head) - 1;
        memcpy(w, digits, (size_t)len);
        w += len;
        *w++ = '.';
        *w++ = (char)('0' + check % 10);
        memcpy(w, id_tail, sizeof(id_tail) - 1);
        w += sizeof(id_tail) - 1;
        memcpy(w, name, (size_t)name_len);
        w += name_len;
        memcpy(w, chno_head, sizeof(chno_head) - 1);
        w += sizeof(chno_head) - 1;
        memcpy(w, digits, (size_t)len);
        w += len;
        *w++ = '"';
        memcpy(w, PyBytes_AS_STRING(rest), (size_t)rest_len);
        w += rest_len;
        if (w - PyBytes_AS_STRING(text) != PyBytes_GET_SIZE(text)) {
            Py_DECREF(text);
            PyErr_SetString(PyExc_AssertionError, "line length");
            return NULL;
        }
        if (PySet_Add(seen, key) < 0 || PyList_Append(out, text) < 0) {
            Py_DECREF(text);
            return NULL;
        }
        Py_DECREF(text);
        next_free++;
        written++;
    }
    return Py_BuildValue("(nnn)", i, next_free, written);
}

static PyMethodDef methods[] = {
    {"run", run, METH_VARARGS, "Write the usual channels of views[i:] as playlist_stream's inline path does."},
    {"feed", feed, METH_VARARGS, "Read a block of M3U lines; return the views of the entries it completes."},
    {"markers", markers, METH_O, "Return where tvg-chno and ch-number start in bytes, and the newlines."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_playlist_views", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

#define CONST(var, text)                                                                                   \
    if ((var = PyUnicode_InternFromString(text)) == NULL)                                                  \
        return NULL;

PyMODINIT_FUNC PyInit__playlist_views(void) {
    CONST(S_EMPTY, "");
    CONST(S_MINUS1, "-1");
    CONST(S_NO_HEADER, "no #EXTM3U header");
    CONST(S_NO_URL, "#EXTINF without a URL ignored");
    CONST(S_BARE_URL, "URL without #EXTINF; named after its URL");
    CONST(S_IGNORED, "ignored line: ");
    return PyModule_Create(&module);
}
