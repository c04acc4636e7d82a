/* Compiled kernels of the dense event-study engine: the Corrado rank sums (transforms/dense_ranks.py has the
 * why and the algorithm; this file is its inner loops). Built by setuptools when the project is installed
 * (`uv sync`); no numpy headers: arrays arrive through the buffer protocol, C-contiguous, with their shapes
 * passed alongside, and the Python wrapper (transforms.dense_ranks) checks dtypes and shapes first.
 *
 * Keys: an abnormal return's bits mapped to an unsigned integer that orders as the float does (negative: all
 * bits flipped; positive: sign bit set), its low `bits` bits replaced by the day's index in its part, or
 * ABSENT (all ones) for a day without a return. Both kernels release the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Loops that gain from AVX2 (64-bit integer selects and compares) get an AVX2 clone besides the baseline one,
 * picked at load time by the CPU it runs on (GCC and clang function multiversioning); elsewhere, plain code. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AVX2_CLONES
#endif

#define ABSENT UINT64_MAX
#define SIGN ((uint64_t)1 << 63)

static inline uint64_t ordered_bits(double value) {
    uint64_t u;
    value += 0.0; /* -0.0 as +0.0 (IEEE: -0 + +0 = +0): equal values get one key */
    memcpy(&u, &value, sizeof u);
    return u ^ ((uint64_t)((int64_t)u >> 63) | SIGN); /* negative: flip every bit; positive: set the sign */
}

/* keys[t, m, e, j] for day pos[j] of the rel-day axis: y (T, E, R), x (E, R), alpha/beta (T, M, E), fitted
 * (T, E) as bytes, pos (W,), keys (T, M, E, W). */
AVX2_CLONES static void fill_keys(const double *y, const double *x, const double *alpha, const double *beta,
                      const uint8_t *fitted, const int64_t *pos, int bits, uint64_t *keys, Py_ssize_t n_t,
                      Py_ssize_t n_m, Py_ssize_t n_e, Py_ssize_t n_r, Py_ssize_t width) {
    const uint64_t high = ~(((uint64_t)1 << bits) - 1);
    const int contiguous = width > 0 && pos[width - 1] - pos[0] == width - 1;
    for (Py_ssize_t t = 0; t < n_t; t++) {
        for (Py_ssize_t m = 0; m < n_m; m++) {
            for (Py_ssize_t e = 0; e < n_e; e++) {
                uint64_t *row = keys + ((t * n_m + m) * n_e + e) * width;
                if (!fitted[t * n_e + e]) {
                    for (Py_ssize_t j = 0; j < width; j++) row[j] = ABSENT;
                    continue;
                }
                const double a = alpha[(t * n_m + m) * n_e + e], b = beta[(t * n_m + m) * n_e + e];
                const double *yr = y + (t * n_e + e) * n_r, *xr = x + e * n_r;
                if (contiguous) { /* days pos[0], pos[0] + 1, ...: a loop the compiler vectorises */
                    const double *ys = yr + pos[0], *xs = xr + pos[0];
                    for (Py_ssize_t j = 0; j < width; j++) {
                        const double v = ys[j];
                        const uint64_t key = (ordered_bits(v - (a + b * xs[j])) & high) | (uint64_t)j;
                        row[j] = isnan(v) ? ABSENT : key;
                    }
                    continue;
                }
                for (Py_ssize_t j = 0; j < width; j++) {
                    const double v = yr[pos[j]];
                    row[j] = isnan(v) ? ABSENT : ((ordered_bits(v - (a + b * xr[pos[j]])) & high) | (uint64_t)j);
                }
            }
        }
    }
}

static Py_ssize_t present(const uint64_t *keys, Py_ssize_t width) {
    while (width > 0 && keys[width - 1] == ABSENT) width--;
    return width;
}

/* Writes each present day's centred rank U = K / (M + 1) - 1/2 into u_day[day] from the keys alone and returns
 * how many part-A returns are positive, or -1 when the keys cannot decide: two keys equal above the index bits
 * (near-equal or tied values), or a part-A key at +0.0's. One pass over part A in order, the part-B days
 * inserted as their keys come up: part-A day i with j part-B days below it has rank K = i + j + 1, and U is
 * u_of[K - 1]. Two equal keys are neighbours in the merged order, so comparing each key with the one before
 * finds them all. */
static Py_ssize_t fast_ranks(const uint64_t *ka, const uint64_t *kb, Py_ssize_t na, Py_ssize_t nb, uint64_t high,
                             uint64_t low_a, uint64_t low_b, const int64_t *pos_a, const int64_t *pos_b,
                             const double *u_of, double *u_day) {
    Py_ssize_t j = 0, positive = 0;
    uint64_t previous = 1; /* no top has its lowest bit set: equal to none */
    uint64_t next_b = nb ? kb[0] & high : UINT64_MAX;
    for (Py_ssize_t i = 0; i < na; i++) {
        const uint64_t top = ka[i] & high;
        while (next_b <= top) { /* B day j comes first (or ties: the exact path decides) */
            if (next_b == previous) return -1;
            u_day[pos_b[kb[j] & low_b]] = u_of[i + j];
            previous = next_b;
            j++;
            next_b = j < nb ? kb[j] & high : UINT64_MAX;
        }
        if ((top == previous) | (top == SIGN)) return -1;
        positive += top > SIGN;
        u_day[pos_a[ka[i] & low_a]] = u_of[i + j];
        previous = top;
    }
    for (; j < nb; j++) {
        const uint64_t top = kb[j] & high;
        if (top == previous) return -1;
        u_day[pos_b[kb[j] & low_b]] = u_of[na + j];
        previous = top;
    }
    return positive;
}

/* The present days of one sorted key row in exact order of their abnormal return (recomputed as
 * y - (alpha + beta x)): one insertion pass over the nearly sorted keys. Returns how many. */
static Py_ssize_t exact_order(const uint64_t *keys, Py_ssize_t width, uint64_t low, const double *yr,
                              const double *xr, double a, double b, const int64_t *pos, double *values,
                              int64_t *days) {
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; k < width && keys[k] != ABSENT; k++) {
        const int64_t r = pos[keys[k] & low];
        const double v = yr[r] - (a + b * xr[r]);
        Py_ssize_t i = n;
        while (i > 0 && values[i - 1] > v) {
            values[i] = values[i - 1];
            days[i] = days[i - 1];
            i--;
        }
        values[i] = v;
        days[i] = r;
        n++;
    }
    return n;
}

typedef struct {
    const uint64_t *keys_a, *keys_b;
    int bits_a, bits_b;
    const double *y, *x, *alpha, *beta;
    const int64_t *pos_a, *pos_b, *group_of;
    double *u_sum, *u_count, *share_pos;
    Py_ssize_t n_t, n_m, n_e, n_r, width_a, width_b;
} RankArgs;

/* u_sum[g, m, e, day] += the centred rank U = K / (M + 1) - 1/2 of each present day (K its average rank among
 * the row's M present days), u_count[g, e, day] += 1 (once per ticker), share_pos[t, m, e] = the share of
 * positive part-A returns. Returns 0, or -1 when out of memory. */
static int rank_sums(const RankArgs *s) {
    const uint64_t low_a = ((uint64_t)1 << s->bits_a) - 1, low_b = ((uint64_t)1 << s->bits_b) - 1;
    const uint64_t high = ~(low_a | low_b);
    const Py_ssize_t width = s->width_a + s->width_b;
    double *values = malloc(sizeof(double) * (width + 1) * 2);
    int64_t *days = malloc(sizeof(int64_t) * (width + 1) * 3);
    if (!values || !days) {
        free(values);
        free(days);
        return -1;
    }
    double *va = values, *merged = values + width + 1;
    int64_t *da = days, *order = days + width + 1, *db = days + 2 * (width + 1);
    double *vb = malloc(sizeof(double) * (s->width_b + 1));
    double *u_day = calloc(s->n_r + 1, sizeof(double)); /* days never ranked stay 0 */
    double *u_of = malloc(sizeof(double) * (width + 1));
    Py_ssize_t u_of_n = -1;
    if (!vb || !u_day || !u_of) {
        free(values);
        free(days);
        free(vb);
        free(u_day);
        free(u_of);
        return -1;
    }
    for (Py_ssize_t t = 0; t < s->n_t; t++) {
        const int64_t g = s->group_of[t];
        for (Py_ssize_t e = 0; e < s->n_e; e++) {
            const double *yr = s->y + (t * s->n_e + e) * s->n_r, *xr = s->x + e * s->n_r;
            int counted = 0;
            for (Py_ssize_t m = 0; m < s->n_m; m++) {
                const Py_ssize_t row = (t * s->n_m + m) * s->n_e + e;
                const uint64_t *ka = s->keys_a + row * s->width_a, *kb = s->keys_b + row * s->width_b;
                const Py_ssize_t na = present(ka, s->width_a), nb = present(kb, s->width_b), n = na + nb;
                if (n == 0) continue;
                double *u_row = s->u_sum + ((g * s->n_m + m) * s->n_e + e) * s->n_r;
                const double scale = n + 1.0;
                if (n != u_of_n) { /* U of each rank among n days: (k + 1) / (n + 1) - 1/2 */
                    const double inverse = 1.0 / scale;
                    for (Py_ssize_t k = 0; k < n; k++) u_of[k] = (k + 1.0) * inverse - 0.5;
                    u_of_n = n;
                }
                if (n < width) memset(u_day, 0, sizeof(double) * s->n_r); /* absent days: no rank */
                Py_ssize_t positive = fast_ranks(ka, kb, na, nb, high, low_a, low_b, s->pos_a, s->pos_b, u_of, u_day);
                if (positive < 0) {
                    const double a = s->alpha[row], b = s->beta[row];
                    exact_order(ka, s->width_a, low_a, yr, xr, a, b, s->pos_a, va, da);
                    exact_order(kb, s->width_b, low_b, yr, xr, a, b, s->pos_b, vb, db);
                    positive = 0;
                    for (Py_ssize_t i = 0; i < na; i++) positive += va[i] > 0;
                    Py_ssize_t i = 0, j = 0;
                    for (Py_ssize_t k = 0; k < n; k++) {
                        if (j >= nb || (i < na && va[i] <= vb[j])) {
                            merged[k] = va[i];
                            order[k] = da[i++];
                        } else {
                            merged[k] = vb[j];
                            order[k] = db[j++];
                        }
                    }
                    for (Py_ssize_t start = 0, stop; start < n; start = stop) {
                        for (stop = start + 1; stop < n && merged[stop] == merged[start]; stop++) {
                        }
                        const double u = (start + stop + 1) * 0.5 / scale - 0.5; /* mean rank of start+1..stop */
                        for (Py_ssize_t k = start; k < stop; k++) u_day[order[k]] = u;
                    }
                }
                for (Py_ssize_t r = 0; r < s->n_r; r++) u_row[r] += u_day[r];
                s->share_pos[row] = na ? (double)positive / na : NAN;
                counted |= 1;
            }
            if (counted) { /* the days ranked for this pair, the same for every model */
                double *count_row = s->u_count + (g * s->n_e + e) * s->n_r;
                const uint64_t *ka = s->keys_a + (t * s->n_m * s->n_e + e) * s->width_a;
                const uint64_t *kb = s->keys_b + (t * s->n_m * s->n_e + e) * s->width_b;
                for (Py_ssize_t k = 0; k < s->width_a && ka[k] != ABSENT; k++) count_row[s->pos_a[ka[k] & low_a]] += 1.0;
                for (Py_ssize_t k = 0; k < s->width_b && kb[k] != ABSENT; k++) count_row[s->pos_b[kb[k] & low_b]] += 1.0;
            }
        }
    }
    free(values);
    free(days);
    free(vb);
    free(u_day);
    free(u_of);
    return 0;
}

/* A buffer of `count` items of `itemsize` bytes, C-contiguous; sets a TypeError naming `what` otherwise. */
static int check(const Py_buffer *view, Py_ssize_t count, Py_ssize_t itemsize, const char *what) {
    if (view->len != count * itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: expected %zd items of %zd bytes, got %zd bytes", what, count, itemsize,
                     view->len);
        return -1;
    }
    return 0;
}

/* Releases every buffer a kernel took (its arguments, in any order). */
static void release(Py_buffer *const *views, size_t n) {
    for (size_t k = 0; k < n; k++) PyBuffer_Release(views[k]);
}
#define RELEASE(...)                                   \
    release((Py_buffer *const[]){__VA_ARGS__},         \
            sizeof((Py_buffer *const[]){__VA_ARGS__}) / sizeof(Py_buffer *))

/* Every position in [0, n_r) and `bits` wide enough for `width` indices (at most 16 bits): sets an IndexError
 * naming `what` otherwise. */
static int check_positions(const Py_buffer *pos, Py_ssize_t width, Py_ssize_t n_r, int bits, const char *what) {
    const int64_t *p = pos->buf;
    int bad = bits < 1 || bits > 16 || ((Py_ssize_t)1 << bits) < width;
    for (Py_ssize_t j = 0; j < width && !bad; j++) bad = p[j] < 0 || p[j] >= n_r;
    if (bad) PyErr_Format(PyExc_IndexError, "%s: a day position out of range, or %d index bits too few", what, bits);
    return bad ? -1 : 0;
}

/* pos padded to 1 << bits entries (the rest 0), so that any index a key's low bits can hold stays in bounds. */
static int64_t *padded_positions(const Py_buffer *pos, Py_ssize_t width, int bits) {
    int64_t *out = calloc((size_t)1 << bits, sizeof(int64_t));
    if (out) memcpy(out, pos->buf, sizeof(int64_t) * width);
    return out;
}

static PyObject *py_fill_keys(PyObject *self, PyObject *args) {
    Py_buffer y, x, alpha, beta, fitted, pos, keys;
    int bits;
    Py_ssize_t n_t, n_m, n_e, n_r, width;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*iw*nnnnn", &y, &x, &alpha, &beta, &fitted, &pos, &bits, &keys, &n_t,
                          &n_m, &n_e, &n_r, &width))
        return NULL;
    int bad = check(&y, n_t * n_e * n_r, 8, "y") || check(&x, n_e * n_r, 8, "x") ||
              check(&alpha, n_t * n_m * n_e, 8, "alpha") || check(&beta, n_t * n_m * n_e, 8, "beta") ||
              check(&fitted, n_t * n_e, 1, "fitted") || check(&pos, width, 8, "pos") ||
              check(&keys, n_t * n_m * n_e * width, 8, "keys") || check_positions(&pos, width, n_r, bits, "fill_keys");
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS;
        fill_keys(y.buf, x.buf, alpha.buf, beta.buf, fitted.buf, pos.buf, bits, keys.buf, n_t, n_m, n_e, n_r, width);
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&y, &x, &alpha, &beta, &fitted, &pos, &keys);
    if (bad) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_rank_sums(PyObject *self, PyObject *args) {
    Py_buffer keys_a, keys_b, y, x, alpha, beta, pos_a, pos_b, group_of, u_sum, u_count, share_pos;
    RankArgs s;
    Py_ssize_t n_groups;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*iiy*y*y*y*y*y*y*w*w*w*nnnnnnn", &keys_a, &keys_b, &s.bits_a, &s.bits_b, &y, &x,
                          &alpha, &beta, &pos_a, &pos_b, &group_of, &u_sum, &u_count, &share_pos, &s.n_t, &s.n_m,
                          &s.n_e, &s.n_r, &s.width_a, &s.width_b, &n_groups))
        return NULL;
    int bad = check(&keys_a, s.n_t * s.n_m * s.n_e * s.width_a, 8, "keys_a") ||
              check(&keys_b, s.n_t * s.n_m * s.n_e * s.width_b, 8, "keys_b") ||
              check(&y, s.n_t * s.n_e * s.n_r, 8, "y") || check(&x, s.n_e * s.n_r, 8, "x") ||
              check(&alpha, s.n_t * s.n_m * s.n_e, 8, "alpha") || check(&beta, s.n_t * s.n_m * s.n_e, 8, "beta") ||
              check(&pos_a, s.width_a, 8, "pos_a") || check(&pos_b, s.width_b, 8, "pos_b") ||
              check(&group_of, s.n_t, 8, "group_of") ||
              check(&u_sum, n_groups * s.n_m * s.n_e * s.n_r, 8, "u_sum") ||
              check(&u_count, n_groups * s.n_e * s.n_r, 8, "u_count") ||
              check(&share_pos, s.n_t * s.n_m * s.n_e, 8, "share_pos") ||
              check_positions(&pos_a, s.width_a, s.n_r, s.bits_a, "rank_sums part A") ||
              check_positions(&pos_b, s.width_b, s.n_r, s.bits_b, "rank_sums part B");
    const int64_t *groups = group_of.buf;
    for (Py_ssize_t t = 0; t < s.n_t && !bad; t++) bad = groups[t] < 0 || groups[t] >= n_groups;
    if (bad && !PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "rank_sums: a group out of range");
    int64_t *padded_a = NULL, *padded_b = NULL;
    if (!bad) {
        padded_a = padded_positions(&pos_a, s.width_a, s.bits_a);
        padded_b = padded_positions(&pos_b, s.width_b, s.bits_b);
        if (!padded_a || !padded_b) {
            PyErr_NoMemory();
            bad = 1;
        }
    }
    int failed = 0;
    if (!bad) {
        s.keys_a = keys_a.buf;
        s.keys_b = keys_b.buf;
        s.y = y.buf;
        s.x = x.buf;
        s.alpha = alpha.buf;
        s.beta = beta.buf;
        s.pos_a = padded_a;
        s.pos_b = padded_b;
        s.group_of = group_of.buf;
        s.u_sum = u_sum.buf;
        s.u_count = u_count.buf;
        s.share_pos = share_pos.buf;
        Py_BEGIN_ALLOW_THREADS;
        failed = rank_sums(&s);
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&keys_a, &keys_b, &y, &x, &alpha, &beta, &pos_a, &pos_b, &group_of, &u_sum, &u_count, &share_pos);
    free(padded_a);
    free(padded_b);
    if (bad) return NULL;
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
}


/* Writes an unsigned code of `itemsize` bytes (1, 2 or 4) at row k of `column`. */
static inline void put_code(void *column, Py_ssize_t itemsize, Py_ssize_t k, Py_ssize_t code) {
    if (itemsize == 1)
        ((uint8_t *)column)[k] = (uint8_t)code;
    else if (itemsize == 2)
        ((uint16_t *)column)[k] = (uint16_t)code;
    else
        ((uint32_t *)column)[k] = (uint32_t)code;
}

typedef struct {
    const double *ret, *bench_x, *alpha, *beta;
    const uint8_t *fitted, *bench_exists;
    const int32_t *bench_date;
    const int64_t *bench_code;
    void *event, *ticker, *model;
    Py_ssize_t event_size, ticker_size, model_size;
    int32_t *rel_day, *date;
    double *ret_out, *bench_out, *expected, *abnormal, *car;
    Py_ssize_t first_event, n_chunk, n_c, n_m, n_e, n_a, ar_lo, capacity;
} RowArgs;

/* marts.abnormal_returns rows of events first_event .. first_event + n_chunk - 1, in (event, ticker, model,
 * rel_day) order: one row per fitted (ticker, event), model and AR day with a return. expected = alpha + beta x;
 * the cumulative AR adds the ARs of the days with a return and is NaN from the first benchmark trading day
 * without one. ret: (n_chunk, C, A); fitted: (C, E); bench_*: (B, E, A) by each ticker's bench_code;
 * alpha/beta: (C, M, E). Returns the rows written, or -1 past `capacity`. */
static Py_ssize_t abnormal_rows(const RowArgs *s) {
    Py_ssize_t k = 0;
    for (Py_ssize_t q = 0; q < s->n_chunk; q++) {
        const Py_ssize_t e = s->first_event + q;
        for (Py_ssize_t c = 0; c < s->n_c; c++) {
            if (!s->fitted[c * s->n_e + e]) continue;
            const double *ret = s->ret + (q * s->n_c + c) * s->n_a;
            const Py_ssize_t bench = (s->bench_code[c] * s->n_e + e) * s->n_a;
            const double *x = s->bench_x + bench;
            const uint8_t *exists = s->bench_exists + bench;
            const int32_t *date = s->bench_date + bench;
            for (Py_ssize_t m = 0; m < s->n_m; m++) {
                const double a = s->alpha[(c * s->n_m + m) * s->n_e + e], b = s->beta[(c * s->n_m + m) * s->n_e + e];
                double car = 0.0;
                int gap = 0;
                for (Py_ssize_t d = 0; d < s->n_a; d++) {
                    if (isnan(ret[d])) {
                        gap |= exists[d] != 0;
                        continue;
                    }
                    if (k >= s->capacity) return -1;
                    const double expected = b * x[d] + a;
                    const double abnormal = ret[d] - expected;
                    car += abnormal;
                    put_code(s->event, s->event_size, k, e);
                    put_code(s->ticker, s->ticker_size, k, c);
                    put_code(s->model, s->model_size, k, m);
                    s->rel_day[k] = (int32_t)(s->ar_lo + d);
                    s->date[k] = date[d];
                    s->ret_out[k] = ret[d];
                    s->bench_out[k] = x[d];
                    s->expected[k] = expected;
                    s->abnormal[k] = abnormal;
                    s->car[k] = gap ? NAN : car;
                    k++;
                }
            }
        }
    }
    return k;
}

static PyObject *py_abnormal_rows(PyObject *self, PyObject *args) {
    Py_buffer in[8], out[10];
    RowArgs s;
    Py_ssize_t n_b;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*w*w*w*w*w*w*w*w*w*w*nnnnnnnn", &in[0], &in[1], &in[2], &in[3],
                          &in[4], &in[5], &in[6], &in[7], &out[0], &out[1], &out[2], &out[3], &out[4],
                          &out[5], &out[6], &out[7], &out[8], &out[9], &s.first_event, &s.n_chunk, &s.n_c, &s.n_m,
                          &s.n_e, &s.n_a, &n_b, &s.ar_lo))
        return NULL;
    const Py_ssize_t rows = out[3].len / 4;
    s.capacity = rows;
    s.event_size = rows ? out[0].len / rows : 1;
    s.ticker_size = rows ? out[1].len / rows : 1;
    s.model_size = rows ? out[2].len / rows : 1;
    int bad = check(&in[0], s.n_chunk * s.n_c * s.n_a, 8, "ret") || check(&in[1], s.n_c * s.n_e, 1, "fitted") ||
              check(&in[2], s.n_c, 8, "bench_code") || check(&in[3], n_b * s.n_e * s.n_a, 8, "bench_x") ||
              check(&in[4], n_b * s.n_e * s.n_a, 1, "bench_exists") ||
              check(&in[5], n_b * s.n_e * s.n_a, 4, "bench_date") || check(&in[6], s.n_c * s.n_m * s.n_e, 8, "alpha") ||
              check(&in[7], s.n_c * s.n_m * s.n_e, 8, "beta") || check(&out[3], rows, 4, "rel_day") ||
              check(&out[4], rows, 4, "date");
    for (int k = 5; k < 10 && !bad; k++) bad = check(&out[k], rows, 8, "a float column");
    for (int k = 0; k < 3 && !bad; k++) {
        const Py_ssize_t size = k == 0 ? s.event_size : k == 1 ? s.ticker_size : s.model_size;
        if ((size != 1 && size != 2 && size != 4) || out[k].len != rows * size) {
            PyErr_SetString(PyExc_TypeError, "code columns must hold 1, 2 or 4 bytes a row");
            bad = 1;
        }
    }
    Py_ssize_t written = 0;
    if (!bad) {
        s.ret = in[0].buf;
        s.fitted = in[1].buf;
        s.bench_code = in[2].buf;
        s.bench_x = in[3].buf;
        s.bench_exists = in[4].buf;
        s.bench_date = in[5].buf;
        s.alpha = in[6].buf;
        s.beta = in[7].buf;
        s.event = out[0].buf;
        s.ticker = out[1].buf;
        s.model = out[2].buf;
        s.rel_day = out[3].buf;
        s.date = out[4].buf;
        s.ret_out = out[5].buf;
        s.bench_out = out[6].buf;
        s.expected = out[7].buf;
        s.abnormal = out[8].buf;
        s.car = out[9].buf;
        Py_BEGIN_ALLOW_THREADS;
        written = abnormal_rows(&s);
        Py_END_ALLOW_THREADS;
    }
    for (int k = 0; k < 8; k++) PyBuffer_Release(&in[k]);
    for (int k = 0; k < 10; k++) PyBuffer_Release(&out[k]);
    if (bad) return NULL;
    if (written < 0) {
        PyErr_SetString(PyExc_ValueError, "abnormal_rows: more rows than the columns hold");
        return NULL;
    }
    return PyLong_FromSsize_t(written);
}


/* y[t, e, r] = matrix[tk[t], columns[e, r]] where exists[e, r], else NaN: each (ticker, event) window's returns
 * gathered from the (ticker x trading day) matrix. */
static PyObject *py_gather_windows(PyObject *self, PyObject *args) {
    Py_buffer matrix, tk, columns, exists, y;
    Py_ssize_t n_codes, n_days, n_t, n_e, n_r;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*nnnnn", &matrix, &tk, &columns, &exists, &y, &n_codes, &n_days, &n_t, &n_e,
                          &n_r))
        return NULL;
    int bad = check(&matrix, n_codes * n_days, 8, "matrix") || check(&tk, n_t, 8, "tickers") ||
              check(&columns, n_e * n_r, 8, "columns") || check(&exists, n_e * n_r, 1, "exists") ||
              check(&y, n_t * n_e * n_r, 8, "y");
    if (!bad) {
        const double *m = matrix.buf;
        const int64_t *codes = tk.buf, *cols = columns.buf;
        const uint8_t *ex = exists.buf;
        double *out = y.buf;
        for (Py_ssize_t t = 0; t < n_t && !bad; t++)
            bad = codes[t] < 0 || codes[t] >= n_codes;
        for (Py_ssize_t k = 0; k < n_e * n_r && !bad; k++)
            bad = ex[k] && (cols[k] < 0 || cols[k] >= n_days);
        if (bad) PyErr_SetString(PyExc_IndexError, "gather_windows: a ticker code or day column out of range");
        else {
            Py_BEGIN_ALLOW_THREADS;
            for (Py_ssize_t t = 0; t < n_t; t++) {
                const double *row = m + codes[t] * n_days;
                double *o = out + t * n_e * n_r;
                for (Py_ssize_t k = 0; k < n_e * n_r; k++) o[k] = ex[k] ? row[cols[k]] : NAN;
            }
            Py_END_ALLOW_THREADS;
        }
    }
    RELEASE(&matrix, &tk, &columns, &exists, &y);
    if (bad) return NULL;
    Py_RETURN_NONE;
}

/* The estimation-window sums of every (ticker, event) over its days with a return (y not NaN) in rel-day
 * positions [lo, hi): sums[k, t, e] for k = n, sum_x, sum_y, sum_xx, sum_xy, sum_yy, x_mean, y_mean, s_xx, s_xy,
 * s_yy (the s_ are centred: two passes, as transforms.event_study.market_model_fits). x: (E, R), finite on
 * every day a ticker has a return. */
static PyObject *py_estimation_sums(PyObject *self, PyObject *args) {
    Py_buffer y, x, sums;
    Py_ssize_t n_t, n_e, n_r, lo, hi;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*w*nnnnn", &y, &x, &sums, &n_t, &n_e, &n_r, &lo, &hi)) return NULL;
    int bad = check(&y, n_t * n_e * n_r, 8, "y") || check(&x, n_e * n_r, 8, "x") ||
              check(&sums, 11 * n_t * n_e, 8, "sums");
    if (!bad && (lo < 0 || hi > n_r || lo > hi)) {
        PyErr_SetString(PyExc_IndexError, "estimation_sums: window out of range");
        bad = 1;
    }
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS;
        double *out = sums.buf;
        const Py_ssize_t plane = n_t * n_e;
        for (Py_ssize_t t = 0; t < n_t; t++) {
            for (Py_ssize_t e = 0; e < n_e; e++) {
                const double *yr = (const double *)y.buf + (t * n_e + e) * n_r, *xr = (const double *)x.buf + e * n_r;
                double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
                for (Py_ssize_t r = lo; r < hi; r++) { /* branch-free: days without a return add zeros */
                    const int has = yr[r] == yr[r];
                    const double v = has ? yr[r] : 0.0, u = has ? xr[r] : 0.0;
                    n += has;
                    sx += u;
                    sy += v;
                    sxx += u * u;
                    sxy += u * v;
                    syy += v * v;
                }
                const double xm = sx / n, ym = sy / n; /* NaN without a day */
                double cxx = 0, cxy = 0, cyy = 0;
                for (Py_ssize_t r = lo; r < hi; r++) {
                    const int has = yr[r] == yr[r];
                    const double dx = has ? xr[r] - xm : 0.0, dy = has ? yr[r] - ym : 0.0;
                    cxx += dx * dx;
                    cxy += dx * dy;
                    cyy += dy * dy;
                }
                const double values[11] = {n, sx, sy, sxx, sxy, syy, xm, ym, cxx, cxy, cyy};
                for (int k = 0; k < 11; k++) out[k * plane + t * n_e + e] = values[k];
            }
        }
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&y, &x, &sums);
    if (bad) return NULL;
    Py_RETURN_NONE;
}

enum { MARKET = 0, MARKET_ADJUSTED = 1, CONSTANT_MEAN = 2 };

/* The CAR windows of a chunk, written into the (code x model x event x window) result arrays at the chunk's
 * ticker codes tk and event codes ev: per window [start, start + length) of rel-day positions, the days with a
 * return, the raw compounded return and, per model, CAR = the sum of ARs (NaN unless every day has a return),
 * CAR t = CAR / (sigma sqrt(L)), the CAR's standard error sigma sqrt(factor) with the model's prediction-error
 * factor (market: L + L^2 / n + (sum x - L xbar)^2 / s_xx; constant mean: L + L^2 / n; market-adjusted: L)
 * and SCAR = CAR / se (t and SCAR NaN unless sigma > 0). */
static PyObject *py_window_stats(PyObject *self, PyObject *args) {
    Py_buffer in[12], out[6];
    Py_ssize_t n_t, n_m, n_e, n_r, n_w, n_codes, n_events;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*y*y*w*w*w*w*w*w*nnnnnnn", &in[0], &in[1], &in[2], &in[3], &in[4],
                          &in[5], &in[6], &in[7], &in[8], &in[9], &in[10], &in[11], &out[0], &out[1], &out[2],
                          &out[3], &out[4], &out[5], &n_t, &n_m, &n_e, &n_r, &n_w, &n_codes, &n_events))
        return NULL;
    const Py_ssize_t tme = n_t * n_m * n_e, big = n_codes * n_m * n_events * n_w, pair = n_codes * n_events * n_w;
    int bad = check(&in[0], n_t * n_e * n_r, 8, "y") || check(&in[1], n_e * n_r, 8, "x") ||
              check(&in[2], tme, 8, "alpha") || check(&in[3], tme, 8, "beta") || check(&in[4], tme, 8, "sigma") ||
              check(&in[5], n_t * n_e, 8, "nf") || check(&in[6], n_t * n_e, 8, "x_mean") ||
              check(&in[7], n_t * n_e, 8, "s_xx") || check(&in[8], n_m, 8, "kinds") ||
              check(&in[9], n_w, 8, "starts") || check(&in[10], n_w, 8, "lengths") ||
              check(&in[11], n_t + n_e, 8, "codes") || check(&out[0], big, 8, "car") ||
              check(&out[1], big, 8, "car_t") || check(&out[2], big, 8, "car_se") || check(&out[3], big, 8, "scar") ||
              check(&out[4], pair, 8, "days") || check(&out[5], pair, 8, "raw");
    const int64_t *starts = in[9].buf, *lengths = in[10].buf, *codes = in[11].buf;
    for (Py_ssize_t w = 0; w < n_w && !bad; w++) bad = starts[w] < 0 || lengths[w] < 1 || starts[w] + lengths[w] > n_r;
    for (Py_ssize_t k = 0; k < n_t + n_e && !bad; k++) bad = codes[k] < 0 || codes[k] >= (k < n_t ? n_codes : n_events);
    if (bad && !PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "window_stats: a window or code out of range");
    if (!bad) {
        const double *y = in[0].buf, *x = in[1].buf, *alpha = in[2].buf, *beta = in[3].buf, *sigma = in[4].buf;
        const double *nf = in[5].buf, *x_mean = in[6].buf, *s_xx = in[7].buf;
        const int64_t *kinds = in[8].buf, *tk = codes, *ev = codes + n_t;
        double *car_out = out[0].buf, *t_out = out[1].buf, *se_out = out[2].buf, *scar_out = out[3].buf;
        int64_t *days_out = out[4].buf;
        double *raw_out = out[5].buf;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t t = 0; t < n_t; t++) {
            for (Py_ssize_t e = 0; e < n_e; e++) {
                const double *yr = y + (t * n_e + e) * n_r, *xr = x + e * n_r;
                const Py_ssize_t te = t * n_e + e;
                for (Py_ssize_t w = 0; w < n_w; w++) {
                    const Py_ssize_t a = starts[w], length = lengths[w];
                    int64_t days = 0;
                    double growth = 1.0, x_sum = 0.0;
                    for (Py_ssize_t r = a; r < a + length; r++) {
                        x_sum += xr[r];
                        if (isnan(yr[r])) continue;
                        days++;
                        growth *= 1.0 + yr[r];
                    }
                    const int complete = days == length;
                    const Py_ssize_t cell = (tk[t] * n_events + ev[e]) * n_w + w;
                    days_out[cell] = days;
                    raw_out[cell] = complete ? growth - 1.0 : NAN;
                    const double centred = x_sum - length * x_mean[te], len = (double)length;
                    for (Py_ssize_t m = 0; m < n_m; m++) {
                        const Py_ssize_t tme_cell = (t * n_m + m) * n_e + e;
                        const double al = alpha[tme_cell], be = beta[tme_cell], sg = sigma[tme_cell];
                        double car = NAN;
                        if (complete) {
                            car = 0.0;
                            for (Py_ssize_t r = a; r < a + length; r++) car += yr[r] - (al + be * xr[r]);
                        }
                        double factor = len;
                        if (kinds[m] == MARKET) factor = len + len * len / nf[te] + centred * centred / s_xx[te];
                        else if (kinds[m] == CONSTANT_MEAN) factor = len + len * len / nf[te];
                        const double se = complete ? sg * sqrt(factor) : NAN;
                        const Py_ssize_t out_cell = ((tk[t] * n_m + m) * n_events + ev[e]) * n_w + w;
                        car_out[out_cell] = car;
                        se_out[out_cell] = se;
                        t_out[out_cell] = sg > 0 ? car / (sg * sqrt(len)) : NAN;
                        scar_out[out_cell] = sg > 0 ? car / se : NAN;
                    }
                }
            }
        }
        Py_END_ALLOW_THREADS;
    }
    for (int k = 0; k < 12; k++) PyBuffer_Release(&in[k]);
    for (int k = 0; k < 6; k++) PyBuffer_Release(&out[k]);
    if (bad) return NULL;
    Py_RETURN_NONE;
}


/* counts[d] += 1 for every whole degrees-of-freedom value d in [min_dof, n_counts) among dof (NaN and the rest
 * skipped): which degrees of freedom are common enough to be tabulated (transforms.dense_pvalues). */
static PyObject *py_dof_counts(PyObject *self, PyObject *args) {
    Py_buffer dof, counts;
    Py_ssize_t n, n_counts;
    double min_dof;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*w*nnd", &dof, &counts, &n, &n_counts, &min_dof)) return NULL;
    int bad = check(&dof, n, 8, "dof") || check(&counts, n_counts, 8, "counts");
    if (!bad) {
        const double *d = dof.buf;
        int64_t *c = counts.buf;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t i = 0; i < n; i++) {
            const double v = d[i];
            if (v >= min_dof && v < (double)n_counts && v == floor(v)) c[(Py_ssize_t)v]++;
        }
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&dof, &counts);
    if (bad) return NULL;
    Py_RETURN_NONE;
}

/* p[i] = 2 P(T_dof > |t|) by quintic Hermite interpolation in the table of dof[i] (coef: (D, intervals, 6)
 * coefficients in s = |t| / step - k on interval k; row_of[d]: d's table or -1), NaN when t or dof is NaN.
 * slow[i] = 1 where the tables cannot answer (no table for dof, or |t| >= t_max): the caller computes those. */
static PyObject *py_hermite_p(PyObject *self, PyObject *args) {
    Py_buffer t, dof, coef, row_of, p, slow;
    Py_ssize_t n, n_rows, intervals;
    double step, t_max;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*nnndd", &t, &dof, &coef, &row_of, &p, &slow, &n, &n_rows, &intervals,
                          &step, &t_max))
        return NULL;
    int bad = check(&t, n, 8, "t") || check(&dof, n, 8, "dof") || check(&row_of, n_rows, 8, "row_of") ||
              check(&p, n, 8, "p") || check(&slow, n, 1, "slow");
    if (!bad && (coef.len % (intervals * 6 * 8) != 0 || t_max > intervals * step)) {
        PyErr_SetString(PyExc_ValueError, "hermite_p: the tables do not cover the grid");
        bad = 1;
    }
    if (!bad) {
        const double *tv = t.buf, *dv = dof.buf, *c = coef.buf;
        const int64_t *rows = row_of.buf;
        const int64_t n_tables = coef.len / (intervals * 6 * 8);
        double *out = p.buf;
        uint8_t *later = slow.buf;
        const double inverse = 1.0 / step;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t i = 0; i < n; i++) {
            const double x = fabs(tv[i]), d = dv[i];
            out[i] = NAN;
            later[i] = 0;
            if (isnan(x) || isnan(d)) continue;
            const int64_t row = (d >= 0 && d < (double)n_rows && d == floor(d)) ? rows[(Py_ssize_t)d] : -1;
            if (row < 0 || row >= n_tables || !(x < t_max)) {
                later[i] = 1;
                continue;
            }
            const double scaled = x * inverse;
            const int64_t k = (int64_t)scaled;
            const double s = scaled - (double)k;
            const double *q = c + (row * intervals + k) * 6;
            out[i] = ((((q[5] * s + q[4]) * s + q[3]) * s + q[2]) * s + q[1]) * s + q[0];
        }
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&t, &dof, &coef, &row_of, &p, &slow);
    if (bad) return NULL;
    Py_RETURN_NONE;
}


/* z[r] += w (y[r] - shift - beta x[r]) on the days with a return (y not NaN); branch-free, so vectorised. */
AVX2_CLONES static void add_standardized(double *restrict z, const double *restrict y, const double *restrict x,
                                         double w, double shift, double beta, Py_ssize_t width) {
    for (Py_ssize_t r = 0; r < width; r++) {
        const double v = y[r], term = w * (v - shift - beta * x[r]);
        z[r] += v == v ? term : 0.0;
    }
}

/* Kolari-Pynnönen group sums: z_sum[group_of[t], m, e, r - lo] += weight[t, m, e] (y[t, e, r] - shift[t, m, e]
 * - beta[t, m, e] x[e, r]) over the fitted pairs' estimation days r in [lo, hi) with a return: the standardized
 * estimation ARs z summed per group and day, without an array of z. */
static PyObject *py_kp_sums(PyObject *self, PyObject *args) {
    Py_buffer y, x, weight, shift, beta, fitted, group_of, z_sum;
    Py_ssize_t n_t, n_m, n_e, n_r, lo, hi, n_groups;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*w*nnnnnnn", &y, &x, &weight, &shift, &beta, &fitted, &group_of, &z_sum,
                          &n_t, &n_m, &n_e, &n_r, &lo, &hi, &n_groups))
        return NULL;
    const Py_ssize_t width = hi - lo, tme = n_t * n_m * n_e;
    int bad = check(&y, n_t * n_e * n_r, 8, "y") || check(&x, n_e * n_r, 8, "x") ||
              check(&weight, tme, 8, "weight") || check(&shift, tme, 8, "shift") || check(&beta, tme, 8, "beta") ||
              check(&fitted, n_t * n_e, 1, "fitted") || check(&group_of, n_t, 8, "group_of") ||
              check(&z_sum, n_groups * n_m * n_e * width, 8, "z_sum");
    const int64_t *groups = group_of.buf;
    if (!bad && (lo < 0 || hi > n_r || lo > hi)) bad = 1;
    for (Py_ssize_t t = 0; t < n_t && !bad; t++) bad = groups[t] < 0 || groups[t] >= n_groups;
    if (bad && !PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "kp_sums: a window or group out of range");
    if (!bad) {
        const double *yv = y.buf, *xv = x.buf, *w = weight.buf, *sh = shift.buf, *b = beta.buf;
        const uint8_t *fit = fitted.buf;
        double *z = z_sum.buf;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t t = 0; t < n_t; t++) {
            for (Py_ssize_t e = 0; e < n_e; e++) {
                if (!fit[t * n_e + e]) continue;
                const double *yr = yv + (t * n_e + e) * n_r + lo, *xr = xv + e * n_r + lo;
                for (Py_ssize_t m = 0; m < n_m; m++) {
                    const Py_ssize_t cell = (t * n_m + m) * n_e + e;
                    const double wt = w[cell], s0 = sh[cell], b0 = b[cell];
                    double *zr = z + ((groups[t] * n_m + m) * n_e + e) * width;
                    add_standardized(zr, yr, xr, wt, s0, b0, width);
                }
            }
        }
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&y, &x, &weight, &shift, &beta, &fitted, &group_of, &z_sum);
    if (bad) return NULL;
    Py_RETURN_NONE;
}


/* The returns' first pass: present[day - first] += 1 and priced[code] += 1 for every row with a ticker of the
 * study (code < n_codes) and a return (not NaN). Rows whose day is outside [first, first + span) are an error
 * (returns -1). */
static PyObject *py_scatter_counts(PyObject *self, PyObject *args) {
    Py_buffer code, day, ret, present, priced;
    Py_ssize_t n, n_codes, first, span;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*nnnn", &code, &day, &ret, &present, &priced, &n, &n_codes, &first, &span))
        return NULL;
    int bad = check(&code, n, 4, "code") || check(&day, n, 4, "day") || check(&ret, n, 8, "ret") ||
              check(&present, span, 8, "present") || check(&priced, n_codes, 8, "priced");
    Py_ssize_t outside = 0;
    if (!bad) {
        const int32_t *c = code.buf, *d = day.buf;
        const double *r = ret.buf;
        int64_t *days = present.buf, *tickers = priced.buf;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (c[i] < 0 || c[i] >= n_codes || isnan(r[i])) continue;
            const Py_ssize_t k = (Py_ssize_t)d[i] - first;
            if (k < 0 || k >= span) {
                outside++;
                continue;
            }
            days[k]++;
            tickers[c[i]]++;
        }
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&code, &day, &ret, &present, &priced);
    if (bad) return NULL;
    return PyLong_FromSsize_t(outside);
}

/* The returns' second pass: matrix[code, column_of[day - first]] = ret for the rows the first pass counted.
 * Returns how many rows found their cell already filled (a repeated (ticker, date)). */
static PyObject *py_scatter_fill(PyObject *self, PyObject *args) {
    Py_buffer code, day, ret, column_of, matrix;
    Py_ssize_t n, n_codes, first, span, n_days;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*nnnnn", &code, &day, &ret, &column_of, &matrix, &n, &n_codes, &first,
                          &span, &n_days))
        return NULL;
    int bad = check(&code, n, 4, "code") || check(&day, n, 4, "day") || check(&ret, n, 8, "ret") ||
              check(&column_of, span, 8, "column_of") || check(&matrix, n_codes * n_days, 8, "matrix");
    Py_ssize_t repeated = 0;
    if (!bad) {
        const int32_t *c = code.buf, *d = day.buf;
        const double *r = ret.buf;
        const int64_t *columns = column_of.buf;
        double *m = matrix.buf;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (c[i] < 0 || c[i] >= n_codes || isnan(r[i])) continue;
            const Py_ssize_t k = (Py_ssize_t)d[i] - first;
            if (k < 0 || k >= span || columns[k] < 0 || columns[k] >= n_days) continue;
            double *cell = m + (Py_ssize_t)c[i] * n_days + columns[k];
            repeated += !isnan(*cell);
            *cell = r[i];
        }
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&code, &day, &ret, &column_of, &matrix);
    if (bad) return NULL;
    return PyLong_FromSsize_t(repeated);
}


/* The k-th smallest of values[0 .. n) (0-based; reorders values): Hoare's selection. */
static double select_kth(double *values, Py_ssize_t n, Py_ssize_t k) {
    Py_ssize_t lo = 0, hi = n - 1;
    while (lo < hi) {
        const double pivot = values[lo + (hi - lo) / 2];
        Py_ssize_t i = lo, j = hi;
        while (i <= j) {
            while (values[i] < pivot) i++;
            while (values[j] > pivot) j--;
            if (i <= j) {
                const double swap = values[i];
                values[i++] = values[j];
                values[j--] = swap;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return values[k];
    }
    return values[k];
}

enum { G_N, G_CAAR, G_MEDIAN, G_SHARE_NEGATIVE, G_SD_CAR, G_SUM_SCAR, G_MEAN_SCAR, G_SD_SCAR, G_PATELL_VAR,
       G_POSITIVES, G_P_HAT, G_STATS };

/* The cross-sectional statistics of marts.group_impact per (group, model, event, window) over the tickers tested
 * (fitted, with a CAR and a SCAR): stats[k, g, m, e, w] for k = n, CAAR, median CAR, share of negative CARs, sd of
 * the CARs (n - 1), sum and mean and sd of the SCARs, sum of dof / (dof - 2) (Patell's variance), positive CARs,
 * and the mean share of positive estimation ARs (the generalized sign test's p-hat). The inputs come ticker-last
 * (car, scar: (M, E, W, C); fitted: (E, C); dof, share_pos: (M, E, C)), so each cell's values are contiguous.
 * group_of[c]: the ticker's group (-1: not studied); the last group is every studied ticker. Means and sds in two
 * passes; medians by selection. NaN where no ticker is tested (and sd with one). */
static PyObject *py_group_stats(PyObject *self, PyObject *args) {
    Py_buffer car_b, scar_b, fitted_b, dof_b, share_b, group_b, stats_b;
    Py_ssize_t n_c, n_m, n_e, n_w, n_g;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*w*nnnnn", &car_b, &scar_b, &fitted_b, &dof_b, &share_b, &group_b,
                          &stats_b, &n_c, &n_m, &n_e, &n_w, &n_g))
        return NULL;
    const Py_ssize_t cells = n_g * n_m * n_e * n_w, per = n_m * n_e * n_w;
    int bad = check(&car_b, n_c * per, 8, "car") || check(&scar_b, n_c * per, 8, "scar") ||
              check(&fitted_b, n_c * n_e, 1, "fitted") || check(&dof_b, n_c * n_m * n_e, 8, "dof") ||
              check(&share_b, n_c * n_m * n_e, 8, "share_pos") || check(&group_b, n_c, 8, "group_of") ||
              check(&stats_b, G_STATS * cells, 8, "stats");
    const int64_t *group_of = group_b.buf;
    for (Py_ssize_t c = 0; c < n_c && !bad; c++) bad = group_of[c] < -1 || group_of[c] >= n_g - 1;
    if (bad && !PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "group_stats: a group out of range");
    double *pool = NULL, *acc = NULL;
    Py_ssize_t *start = NULL;
    if (!bad) {
        pool = malloc(sizeof(double) * (2 * n_c + 1));
        acc = malloc(sizeof(double) * n_g * G_STATS);
        start = malloc(sizeof(Py_ssize_t) * (n_g + 1));
        if (!pool || !acc || !start) {
            PyErr_NoMemory();
            bad = 1;
        }
    }
    if (!bad) {
        const double *car = car_b.buf, *scar = scar_b.buf, *dof = dof_b.buf, *share = share_b.buf;
        const uint8_t *fitted = fitted_b.buf;
        double *st = stats_b.buf;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t m = 0; m < n_m; m++)
            for (Py_ssize_t e = 0; e < n_e; e++)
                for (Py_ssize_t w = 0; w < n_w; w++) {
                    const Py_ssize_t q = (m * n_e + e) * n_w + w; /* the (model, event, window) cell */
                    const double *v = car + q * n_c, *z = scar + q * n_c;
                    const double *d = dof + (m * n_e + e) * n_c, *sh = share + (m * n_e + e) * n_c;
                    const uint8_t *fit = fitted + e * n_c;
                    memset(acc, 0, sizeof(double) * n_g * G_STATS);
                    /* Pass 1: counts and sums per group, and into the last group (every studied ticker). */
                    for (Py_ssize_t c = 0; c < n_c; c++) {
                        if (group_of[c] < 0 || !fit[c] || isnan(v[c]) || isnan(z[c])) continue;
                        for (int pass = 0; pass < 2; pass++) {
                            double *a = acc + (pass ? n_g - 1 : group_of[c]) * G_STATS;
                            a[G_N] += 1;
                            a[G_CAAR] += v[c];
                            a[G_SHARE_NEGATIVE] += v[c] < 0;
                            a[G_POSITIVES] += v[c] > 0;
                            a[G_SUM_SCAR] += z[c];
                            a[G_PATELL_VAR] += d[c] / (d[c] - 2);
                            a[G_P_HAT] += sh[c];
                        }
                    }
                    start[0] = 0;
                    for (Py_ssize_t g = 0; g < n_g; g++) {
                        double *a = acc + g * G_STATS;
                        a[G_CAAR] /= a[G_N]; /* NaN without a ticker */
                        a[G_MEAN_SCAR] = a[G_SUM_SCAR] / a[G_N];
                        a[G_SHARE_NEGATIVE] /= a[G_N];
                        a[G_P_HAT] /= a[G_N];
                        start[g + 1] = start[g] + (Py_ssize_t)a[G_N];
                        a[G_MEDIAN] = (double)start[g]; /* the next free slot of the group's values, for now */
                    }
                    /* Pass 2: squared deviations from the means, and the values for the medians. */
                    for (Py_ssize_t c = 0; c < n_c; c++) {
                        if (group_of[c] < 0 || !fit[c] || isnan(v[c]) || isnan(z[c])) continue;
                        for (int pass = 0; pass < 2; pass++) {
                            double *a = acc + (pass ? n_g - 1 : group_of[c]) * G_STATS;
                            a[G_SD_CAR] += (v[c] - a[G_CAAR]) * (v[c] - a[G_CAAR]);
                            a[G_SD_SCAR] += (z[c] - a[G_MEAN_SCAR]) * (z[c] - a[G_MEAN_SCAR]);
                            pool[(Py_ssize_t)a[G_MEDIAN]] = v[c];
                            a[G_MEDIAN] += 1;
                        }
                    }
                    for (Py_ssize_t g = 0; g < n_g; g++) {
                        double *a = acc + g * G_STATS;
                        const Py_ssize_t k = (Py_ssize_t)a[G_N];
                        a[G_SD_CAR] = k > 1 ? sqrt(a[G_SD_CAR] / (k - 1)) : NAN;
                        a[G_SD_SCAR] = k > 1 ? sqrt(a[G_SD_SCAR] / (k - 1)) : NAN;
                        if (k == 0) {
                            a[G_MEDIAN] = NAN;
                        } else {
                            double *values = pool + start[g];
                            const double high = select_kth(values, k, k / 2);
                            double low = high;
                            if (k % 2 == 0) { /* the largest of the k / 2 below the upper middle */
                                low = values[0];
                                for (Py_ssize_t i = 1; i < k / 2; i++) low = values[i] > low ? values[i] : low;
                            }
                            a[G_MEDIAN] = (low + high) / 2;
                        }
                        for (int k2 = 0; k2 < G_STATS; k2++) st[(k2 * n_g + g) * per + q] = a[k2];
                    }
                }
        Py_END_ALLOW_THREADS;
    }
    free(pool);
    free(acc);
    free(start);
    RELEASE(&car_b, &scar_b, &fitted_b, &dof_b, &share_b, &group_b, &stats_b);
    if (bad) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"fill_keys", py_fill_keys, METH_VARARGS,
     "fill_keys(y, x, alpha, beta, fitted, pos, bits, keys, n_t, n_m, n_e, n_r, width): the sort keys."},
    {"rank_sums", py_rank_sums, METH_VARARGS,
     "rank_sums(keys_a, keys_b, bits_a, bits_b, y, x, alpha, beta, pos_a, pos_b, group_of, u_sum, u_count, "
     "share_pos, n_t, n_m, n_e, n_r, width_a, width_b, n_groups): the Corrado rank sums from the sorted keys."},
    {"abnormal_rows", py_abnormal_rows, METH_VARARGS,
     "abnormal_rows(ret, fitted, bench_code, bench_x, bench_exists, bench_date, alpha, beta, event, ticker, "
     "model, rel_day, date, ret_out, benchmark_ret, expected_ret, abnormal_ret, car, first_event, n_chunk, n_c, n_m, "
     "n_e, n_a, n_b, ar_lo): marts.abnormal_returns rows of a chunk of events; returns how many."},
    {"gather_windows", py_gather_windows, METH_VARARGS,
     "gather_windows(matrix, tk, columns, exists, y, n_codes, n_days, n_t, n_e, n_r): each window's returns."},
    {"estimation_sums", py_estimation_sums, METH_VARARGS,
     "estimation_sums(y, x, sums, n_t, n_e, n_r, lo, hi): the estimation-window sums, sums[11, T, E]."},
    {"window_stats", py_window_stats, METH_VARARGS,
     "window_stats(y, x, alpha, beta, sigma, nf, x_mean, s_xx, kinds, starts, lengths, codes, car, car_t, car_se, "
     "scar, days, raw, n_t, n_m, n_e, n_r, n_w, n_codes, n_events): the CAR windows of a chunk."},
    {"dof_counts", py_dof_counts, METH_VARARGS,
     "dof_counts(dof, counts, n, n_counts, min_dof): counts of the whole degrees-of-freedom values."},
    {"hermite_p", py_hermite_p, METH_VARARGS,
     "hermite_p(t, dof, coef, row_of, p, slow, n, n_rows, intervals, step, t_max): tabulated two-sided t p-values."},
    {"kp_sums", py_kp_sums, METH_VARARGS,
     "kp_sums(y, x, weight, shift, beta, fitted, group_of, z_sum, n_t, n_m, n_e, n_r, lo, hi, n_groups): the "
     "Kolari-Pynnonen group sums of the standardized estimation ARs."},
    {"scatter_counts", py_scatter_counts, METH_VARARGS,
     "scatter_counts(code, day, ret, present, priced, n, n_codes, first, span): the returns' days and tickers; "
     "returns the rows outside the span."},
    {"scatter_fill", py_scatter_fill, METH_VARARGS,
     "scatter_fill(code, day, ret, column_of, matrix, n, n_codes, first, span, n_days): the returns into the "
     "matrix; returns how many repeat a filled cell."},
    {"group_stats", py_group_stats, METH_VARARGS,
     "group_stats(car, scar, fitted, dof, share_pos, group_of, stats, n_c, n_m, n_e, n_w, n_g): the "
     "cross-sectional statistics of marts.group_impact, stats[11, G, M, E, W], from ticker-last inputs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_dense_kernels", "Compiled kernels of the dense event-study engine.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__dense_kernels(void) { return PyModule_Create(&module); }
