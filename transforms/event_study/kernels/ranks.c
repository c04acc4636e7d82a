/* Corrado rank sums: the sort keys of each (ticker, event, model) row and the ranks read off the sorted keys
 * (transforms/event_study/ranks.py has the why and the algorithm; these are its two inner loops, fill_keys and
 * rank_sums; numpy sorts the keys in between).
 *
 * Keys: an abnormal return's bits mapped to an unsigned integer that orders as the float does (negative: all
 * bits flipped; positive: sign bit set), its low `bits` bits replaced by the day's index in its part, or
 * ABSENT (all ones) for a day without a return. Both kernels release the GIL.
 *
 * Where the Corrado statistic's inputs come from: rank_sums adds each row's centred ranks U into u_sum (per
 * group, model, event and rel_day) and counts the tickers ranked per day into u_count; the mean rank per day
 * U_t = u_sum / u_count and s_U = sqrt(mean over the days with a ranked return of U_t^2) are formed in Python
 * (transforms/event_study/group_stats.py, group_impact_frame). */
#include "kernels.h"

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

PyObject *py_fill_keys(PyObject *self, PyObject *args) {
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

PyObject *py_rank_sums(PyObject *self, PyObject *args) {
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
