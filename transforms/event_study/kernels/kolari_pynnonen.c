/* Kolari-Pynnönen r-bar, the mean pairwise correlation of the estimation-window abnormal returns over common days
 * (transforms/event_study/pairwise_corr.py has the why), in two parts:
 *
 * - kp_sums, the pairs of two full tickers (a return on every estimation day): the standardized ARs z summed per
 *   group, model, event and day, never an array of z. The chunk (transforms/event_study/chunk.py, compute_chunk)
 *   passes each full ticker's weight 1 / sd_i and shift; this file adds weight_i (y_it - shift_i - beta_i x_t)
 *   into z_sum; their r sum, (sum over days of (sum z)^2 - sum z^2) / (2 (T - 1)), is formed in Python
 *   (transforms/event_study/group_stats.py, group_impact_frame).
 * - kp_prepare and kp_pair_sums, the pairs with a partial ticker: each pair's r from its sums over the common
 *   days, one product of the reference model's ARs shared by every model. */
#include "kernels.h"

/* z[r] += w (y[r] - shift - beta x[r]) on the days with a return (y not NaN); branch-free, so vectorised. */
AVX2_CLONES static void add_standardized(double *restrict z, const double *restrict y, const double *restrict x,
                                         double w, double shift, double beta, Py_ssize_t width) {
    for (Py_ssize_t r = 0; r < width; r++) {
        const double v = y[r], term = w * (v - shift - beta * x[r]);
        z[r] += isnan(v) ? 0.0 : term;
    }
}

/* Kolari-Pynnönen group sums: z_sum[group_of[t], m, e, r - lo] += weight[t, m, e] (y[t, e, r] - shift[t, m, e]
 * - beta[t, m, e] x[e, r]) over the fitted pairs' estimation days r in [lo, hi) with a return: the standardized
 * estimation ARs z summed per group and day, without an array of z. */
PyObject *py_kp_sums(PyObject *self, PyObject *args) {
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

/* Kolari-Pynnönen pairs with a partial ticker (transforms/event_study/pairwise_corr.py has the why and the
 * algebra): one event's N tickers, the K partial ones first, D estimation days, M models, B benchmark blocks.
 * A ticker's AR under model m is a_jt = y_jt - (alpha_mj + beta_mj x_{b_j, t}) on the days it has a return;
 * "a0" is that AR with 0 on its missing days. kp_prepare makes what kp_pair_sums reads besides the product of
 * the reference model's a0 (P, a BLAS product in Python). */

/* out[t] = a0 of one ticker over the days: y - (alpha + beta x) where y is a number, else 0; returns its days. */
AVX2_CLONES static Py_ssize_t ar_row(double *restrict out, const double *restrict y, const double *restrict x,
                                     double alpha, double beta, Py_ssize_t n_d) {
    Py_ssize_t count = 0;
    for (Py_ssize_t t = 0; t < n_d; t++) {
        const double v = y[t], a = v - (alpha + beta * x[t]);
        out[t] = isnan(v) ? 0.0 : a;
        count += !isnan(v);
    }
    return count;
}

/* a[j] = a0 of tickers j on one day (yt: their returns that day; xt: their benchmark's return). */
AVX2_CLONES static void day_ar(double *restrict a, const double *restrict yt, const double *restrict alpha,
                               const double *restrict beta, double xt, Py_ssize_t w) {
    for (Py_ssize_t j = 0; j < w; j++) {
        const double v = yt[j], r = v - (alpha[j] + beta[j] * xt);
        a[j] = isnan(v) ? 0.0 : r;
    }
}

/* s += a, q += a^2; and h += c a. */
AVX2_CLONES static void add_sums(double *restrict s, double *restrict q, const double *restrict a, Py_ssize_t w) {
    for (Py_ssize_t j = 0; j < w; j++) {
        s[j] += a[j];
        q[j] += a[j] * a[j];
    }
}
AVX2_CLONES static void add_scaled(double *restrict h, const double *restrict a, double c, Py_ssize_t w) {
    for (Py_ssize_t j = 0; j < w; j++) h[j] += c * a[j];
}

/* Where the run of columns of one block that starts at j0 ends (at most `limit`, and never across `stop`). */
static Py_ssize_t run_end(const int64_t *col_block, Py_ssize_t j0, Py_ssize_t n_t, Py_ssize_t limit, Py_ssize_t stop) {
    Py_ssize_t j1 = j0 + 1;
    while (j1 < n_t && j1 - j0 < limit && j1 != stop && col_block[j1] == col_block[j0]) j1++;
    return j1;
}

/* kp_prepare: y (N, D) the returns (NaN: missing), x (B, D) the blocks' benchmark returns, col_block (N),
 * alpha/beta (M, N). Writes a0_ref (N, D): a0 under model `ref`; y_t (D, N): y day-major; sums/sq (M, N): each
 * ticker's sum of a0 and of a0^2; n_valid (N): its days with a return; xsum (M, B, N): sum_t a0_jt x_{b, t}.
 * The sums run day by day over the tickers (vectorised across tickers, each ticker's sum in day order). A
 * ticker after the first n_k that misses a day is an error (the caller's full tickers have every day). */
PyObject *py_kp_prepare(PyObject *self, PyObject *args) {
    Py_buffer y, x, col_block, alpha, beta, a0_ref, y_t, sums, sq, n_valid, xsum;
    Py_ssize_t n_m, n_t, n_d, n_b, n_k, ref;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*w*w*w*w*w*nnnnnn", &y, &x, &col_block, &alpha, &beta, &a0_ref, &y_t,
                          &sums, &sq, &n_valid, &xsum, &n_m, &n_t, &n_d, &n_b, &n_k, &ref))
        return NULL;
    const Py_ssize_t nd = n_t * n_d, mn = n_m * n_t;
    int bad = check(&y, nd, 8, "y") || check(&x, n_b * n_d, 8, "x") || check(&col_block, n_t, 8, "col_block") ||
              check(&alpha, mn, 8, "alpha") || check(&beta, mn, 8, "beta") || check(&a0_ref, nd, 8, "a0_ref") ||
              check(&y_t, nd, 8, "y_t") || check(&sums, mn, 8, "sums") || check(&sq, mn, 8, "sq") ||
              check(&n_valid, n_t, 8, "n_valid") || check(&xsum, mn * n_b, 8, "xsum");
    const int64_t *cb = col_block.buf;
    if (!bad && (ref < 0 || ref >= n_m || n_k < 0 || n_k > n_t)) bad = 1;
    for (Py_ssize_t j = 0; j < n_t && !bad; j++) bad = cb[j] < 0 || cb[j] >= n_b;
    if (bad && !PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "kp_prepare: a block or model out of range");
    double *tmp = bad ? NULL : malloc(sizeof(double) * (n_t + 1));
    if (!bad && !tmp) bad = 2;
    Py_ssize_t gap = -1; /* a full ticker with a missing day */
    if (!bad) {
        const double *yv = y.buf, *xv = x.buf, *al = alpha.buf, *be = beta.buf;
        double *ar = a0_ref.buf, *yt = y_t.buf, *s = sums.buf, *q = sq.buf, *nv = n_valid.buf, *h = xsum.buf;
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t j0 = 0; j0 < n_t; j0 += 32) /* y_t: a blocked transpose */
            for (Py_ssize_t t0 = 0; t0 < n_d; t0 += 32)
                for (Py_ssize_t j = j0; j < j0 + 32 && j < n_t; j++)
                    for (Py_ssize_t t = t0; t < t0 + 32 && t < n_d; t++) yt[t * n_t + j] = yv[j * n_d + t];
        for (Py_ssize_t j = 0; j < n_t; j++) {
            const Py_ssize_t count =
                ar_row(ar + j * n_d, yv + j * n_d, xv + cb[j] * n_d, al[ref * n_t + j], be[ref * n_t + j], n_d);
            nv[j] = (double)count;
            if (j >= n_k && count != n_d && gap < 0) gap = j;
        }
        memset(s, 0, sizeof(double) * mn);
        memset(q, 0, sizeof(double) * mn);
        memset(h, 0, sizeof(double) * mn * n_b);
        for (Py_ssize_t j0 = 0, j1; j0 < n_t; j0 = j1) { /* tiles of columns: their sums stay in cache */
            j1 = run_end(cb, j0, n_t, 128, n_t);
            const Py_ssize_t w = j1 - j0;
            for (Py_ssize_t m = 0; m < n_m; m++) {
                const Py_ssize_t at = m * n_t + j0;
                for (Py_ssize_t t = 0; t < n_d; t++) {
                    day_ar(tmp, yt + t * n_t + j0, al + at, be + at, xv[cb[j0] * n_d + t], w);
                    add_sums(s + at, q + at, tmp, w);
                    for (Py_ssize_t b = 0; b < n_b; b++)
                        add_scaled(h + (m * n_b + b) * n_t + j0, tmp, xv[b * n_d + t], w);
                }
            }
        }
        Py_END_ALLOW_THREADS;
    }
    free(tmp);
    RELEASE(&y, &x, &col_block, &alpha, &beta, &a0_ref, &y_t, &sums, &sq, &n_valid, &xsum);
    if (bad == 2) return PyErr_NoMemory();
    if (bad) return NULL;
    if (gap >= 0) return PyErr_Format(PyExc_ValueError, "kp_prepare: ticker %zd (past the partial ones) misses a day", gap);
    Py_RETURN_NONE;
}

#define KP_TILE 128 /* columns a tile: the tile's column data of every model stays in cache across the rows */

typedef struct { /* kp_pair_sums' arrays (see py_kp_pair_sums) */
    const double *p, *y, *y_t, *x, *alpha, *beta, *dalpha, *dbeta, *sums, *sq, *n_valid, *xsum;
    const int64_t *col_block, *group_of, *miss_start, *miss_day;
    double *out;
    Py_ssize_t n_m, n_t, n_d, n_b, n_k, n_g, ref;
} PairArgs;

typedef struct { /* one row ticker i under one model */
    double n, s, q, dalpha, dbeta, r0, rb;
    int64_t group;
} RowTerms;

/* s, q: column j's sums over its days less those on one of row i's missing days (a: the columns' a0 that day,
 * day_ar); c += d_it a. */
AVX2_CLONES static void drop_day(double *restrict s, double *restrict q, double *restrict c, const double *restrict a,
                                 double d_it, Py_ssize_t w) {
    for (Py_ssize_t j = 0; j < w; j++) {
        s[j] -= a[j];
        q[j] -= a[j] * a[j];
        c[j] += d_it * a[j];
    }
}

/* The tile_* loops: each pair's r over the common days and 1, or 0 and 0 when it has no r, into rw/ww (every
 * column) and rg/wg (the columns in row i's group). The pair's cross product is P less the terms that take the
 * reference model's a0 to this model's (pairwise_corr.py has the algebra). */
#define TILE_OUT double *restrict rw, double *restrict ww, double *restrict rg, double *restrict wg
#define TILE_STORE(j, ok, r)                        \
    do {                                            \
        const double wt_ = (ok) ? 1.0 : 0.0;        \
        const double rv_ = (ok) ? (r) : 0.0;        \
        const int same_ = grp[j] == row.group;      \
        rw[j] = rv_;                                \
        ww[j] = wt_;                                \
        rg[j] = same_ ? rv_ : 0.0;                  \
        wg[j] = same_ ? wt_ : 0.0;                  \
    } while (0)

/* Partial columns: cn/csi/cqi/cx, the row's count, sums and reference terms on each column's missing days;
 * s, q, c: the columns' sums less those on the row's missing days (drop_day). */
AVX2_CLONES static void tile_partial(TILE_OUT, const double *restrict p, const double *restrict da,
                                     const double *restrict db, const double *restrict s_m, const double *restrict h_m,
                                     const double *restrict s, const double *restrict q, const double *restrict c,
                                     const double *restrict cn, const double *restrict csi, const double *restrict cqi,
                                     const double *restrict cx, const int64_t *restrict grp, RowTerms row,
                                     Py_ssize_t w) {
    for (Py_ssize_t j = 0; j < w; j++) {
        const double n = row.n - cn[j], si = row.s - csi[j], qi = row.q - cqi[j], sj = s[j], qj = q[j];
        const double cross = p[j] - (da[j] * row.r0 + db[j] * row.rb + row.dalpha * s_m[j] + row.dbeta * h_m[j]) +
                             cx[j] + c[j];
        const double cov = cross - si * sj / n, var_i = qi - si * si / n, var_j = qj - sj * sj / n;
        const double r = cov / sqrt(var_i * var_j);
        TILE_STORE(j, (n >= 2) & (var_i > 0) & (var_j > 0) & (r - r == 0), r);
    }
}

/* Full columns (every day), a row with several missing days: s, q, c as in tile_partial; the row's own n, sums
 * and var_i (> 0) are the same for every column. */
AVX2_CLONES static void tile_full(TILE_OUT, const double *restrict p, const double *restrict da,
                                  const double *restrict db, const double *restrict s_m, const double *restrict h_m,
                                  const double *restrict s, const double *restrict q, const double *restrict c,
                                  const int64_t *restrict grp, RowTerms row, double var_i, Py_ssize_t w) {
    for (Py_ssize_t j = 0; j < w; j++) {
        const double sj = s[j], qj = q[j];
        const double cross =
            p[j] - (da[j] * row.r0 + db[j] * row.rb + row.dalpha * s_m[j] + row.dbeta * h_m[j]) + c[j];
        const double cov = cross - row.s * sj / row.n, var_j = qj - sj * sj / row.n;
        const double r = cov / sqrt(var_i * var_j);
        TILE_STORE(j, (var_j > 0) & (r - r == 0), r);
    }
}

/* Full columns, a row with one missing day t (the common case; no scratch arrays): yt the columns' returns on
 * day t, xt their benchmark's, d_it the row's model-to-reference difference that day. */
AVX2_CLONES static void tile_one_day(TILE_OUT, const double *restrict p, const double *restrict da,
                                     const double *restrict db, const double *restrict s_m,
                                     const double *restrict q_m, const double *restrict h_m,
                                     const double *restrict yt, const double *restrict al, const double *restrict be,
                                     const int64_t *restrict grp, RowTerms row, double var_i, double xt, double d_it,
                                     Py_ssize_t w) {
    for (Py_ssize_t j = 0; j < w; j++) {
        const double a = yt[j] - (al[j] + be[j] * xt), sj = s_m[j] - a, qj = q_m[j] - a * a;
        const double cross =
            p[j] - (da[j] * row.r0 + db[j] * row.rb + row.dalpha * s_m[j] + row.dbeta * h_m[j]) + d_it * a;
        const double cov = cross - row.s * sj / row.n, var_j = qj - sj * sj / row.n;
        const double r = cov / sqrt(var_i * var_j);
        TILE_STORE(j, (var_j > 0) & (r - r == 0), r);
    }
}

/* The sum of v[0 .. w) in 8 running sums (so it vectorises). */
AVX2_CLONES static double lane_sum(const double *restrict v, Py_ssize_t w) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, total = 0;
    Py_ssize_t j = 0;
    for (; j + 8 <= w; j += 8)
        for (int l = 0; l < 8; l++) acc[l] += v[j + l];
    for (; j < w; j++) total += v[j];
    for (int l = 0; l < 8; l++) total += acc[l];
    return total;
}

/* Row i's values on each of the partial columns c0 .. c0 + w's missing days: the count, sums and reference
 * terms tile_partial takes off. */
static void partial_terms(const PairArgs *a, Py_ssize_t k, Py_ssize_t m, Py_ssize_t c0, Py_ssize_t w, double *cn,
                          double *csi, double *cqi, double *cx) {
    const Py_ssize_t n_d = a->n_d, mi = m * a->n_t + k, ri = a->ref * a->n_t + k;
    const double *yi = a->y + k * n_d, *xi = a->x + a->col_block[k] * n_d, *xb = a->x + a->col_block[c0] * n_d;
    const double al = a->alpha[mi], be = a->beta[mi], alr = a->alpha[ri], ber = a->beta[ri];
    for (Py_ssize_t jj = 0; jj < w; jj++) {
        const Py_ssize_t j = c0 + jj;
        const double d_a = a->dalpha[m * a->n_t + j], d_b = a->dbeta[m * a->n_t + j];
        double n = 0, si = 0, qi = 0, ref_d = 0;
        for (int64_t d = a->miss_start[j]; d < a->miss_start[j + 1]; d++) {
            const int64_t t = a->miss_day[d];
            const double v = yi[t];
            if (isnan(v)) continue;
            const double ai = v - (al + be * xi[t]), ar = v - (alr + ber * xi[t]);
            n += 1;
            si += ai;
            qi += ai * ai;
            ref_d += ar * (d_a + d_b * xb[t]);
        }
        cn[jj] = n, csi[jj] = si, cqi[jj] = qi, cx[jj] = ref_d;
    }
}

/* Every (row k, model m) against the columns [j0, j1) of one block, all partial or all full; a pair of two
 * partial tickers is taken once, from its first row. buf: 12 KP_TILE scratch doubles. */
static void pair_tile(const PairArgs *a, Py_ssize_t j0, Py_ssize_t j1, double *buf) {
    const Py_ssize_t n_t = a->n_t, n_d = a->n_d, n_m = a->n_m, n_g = a->n_g, b = a->col_block[j0];
    double *s = buf, *q = s + KP_TILE, *c = q + KP_TILE, *cn = c + KP_TILE, *csi = cn + KP_TILE, *cqi = csi + KP_TILE;
    double *cx = cqi + KP_TILE, *rw = cx + KP_TILE, *ww = rw + KP_TILE, *rg = ww + KP_TILE, *wg = rg + KP_TILE;
    double *day = wg + KP_TILE;
    const double *xb = a->x + b * n_d;
    const int partial = j0 < a->n_k;
    for (Py_ssize_t k = 0; k < a->n_k; k++) {
        const Py_ssize_t c0 = partial ? (k + 1 > j0 ? k + 1 : j0) : j0, w = j1 - c0;
        if (w <= 0) continue;
        const Py_ssize_t bi = a->col_block[k];
        const int64_t d0 = a->miss_start[k], d1 = a->miss_start[k + 1];
        const double *xi = a->x + bi * n_d, *pk = a->p + k * n_t + c0;
        for (Py_ssize_t m = 0; m < n_m; m++) {
            const Py_ssize_t mi = m * n_t + k, mj = m * n_t + c0, ri = a->ref * n_t + k;
            const RowTerms row = {a->n_valid[k],  a->sums[mi],  a->sq[mi], a->dalpha[mi], a->dbeta[mi],
                                  a->sums[ri], a->xsum[(a->ref * a->n_b + b) * n_t + k], a->group_of[k]};
            const double *da = a->dalpha + mj, *db = a->dbeta + mj, *s_m = a->sums + mj, *q_m = a->sq + mj;
            const double *h_m = a->xsum + (m * a->n_b + bi) * n_t + c0, *al = a->alpha + mj, *be = a->beta + mj;
            const int64_t *grp = a->group_of + c0;
            const double var_i = row.q - row.s * row.s / row.n;
            if (!partial && !(row.n >= 2 && var_i > 0)) continue; /* no r with any full column */
            if (!partial && d1 - d0 == 1) {
                const int64_t t = a->miss_day[d0];
                tile_one_day(rw, ww, rg, wg, pk, da, db, s_m, q_m, h_m, a->y_t + t * n_t + c0, al, be, grp, row,
                             var_i, xb[t], row.dalpha + row.dbeta * xi[t], w);
            } else {
                memcpy(s, s_m, sizeof(double) * w);
                memcpy(q, q_m, sizeof(double) * w);
                memset(c, 0, sizeof(double) * w);
                for (int64_t d = d0; d < d1; d++) {
                    const int64_t t = a->miss_day[d];
                    day_ar(day, a->y_t + t * n_t + c0, al, be, xb[t], w);
                    drop_day(s, q, c, day, row.dalpha + row.dbeta * xi[t], w);
                }
                if (partial) {
                    partial_terms(a, k, m, c0, w, cn, csi, cqi, cx);
                    tile_partial(rw, ww, rg, wg, pk, da, db, s_m, h_m, s, q, c, cn, csi, cqi, cx, grp, row, w);
                } else {
                    tile_full(rw, ww, rg, wg, pk, da, db, s_m, h_m, s, q, c, grp, row, var_i, w);
                }
            }
            a->out[(n_g - 1) * n_m + m] += lane_sum(rw, w);
            a->out[(n_g + n_g - 1) * n_m + m] += lane_sum(ww, w);
            a->out[row.group * n_m + m] += lane_sum(rg, w);
            a->out[(n_g + row.group) * n_m + m] += lane_sum(wg, w);
        }
    }
}

/* kp_pair_sums: out[0, g, m] += r_ij, out[1, g, m] += 1 over the pairs (i, j) with i among the first n_k
 * (partial) tickers, inside group g (both in it) and, in the last group ('all'), every pair (a pair of two
 * partial tickers once); pairs with fewer than 2 common days or a constant
 * series on them have no r and are left out. p (K, N): the reference model's a0 products; y, y_t, sums, sq,
 * n_valid, xsum: kp_prepare's; dalpha/dbeta (M, N): each model's alpha and beta less the reference model's;
 * miss_day[miss_start[k] .. miss_start[k + 1]): partial ticker k's missing days. */
PyObject *py_kp_pair_sums(PyObject *self, PyObject *args) {
    Py_buffer p, y, y_t, x, col_block, group_of, alpha, beta, dalpha, dbeta, sums, sq, n_valid, xsum, miss_start,
        miss_day, out;
    Py_ssize_t n_m, n_t, n_d, n_b, n_k, n_miss, n_g, ref;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*w*nnnnnnnn", &p, &y, &y_t, &x, &col_block,
                          &group_of, &alpha, &beta, &dalpha, &dbeta, &sums, &sq, &n_valid, &xsum, &miss_start,
                          &miss_day, &out, &n_m, &n_t, &n_d, &n_b, &n_k, &n_miss, &n_g, &ref))
        return NULL;
    const Py_ssize_t nd = n_t * n_d, mn = n_m * n_t;
    int bad = check(&p, n_k * n_t, 8, "p") || check(&y, nd, 8, "y") || check(&y_t, nd, 8, "y_t") ||
              check(&x, n_b * n_d, 8, "x") || check(&col_block, n_t, 8, "col_block") ||
              check(&group_of, n_t, 8, "group_of") || check(&alpha, mn, 8, "alpha") || check(&beta, mn, 8, "beta") ||
              check(&dalpha, mn, 8, "dalpha") || check(&dbeta, mn, 8, "dbeta") || check(&sums, mn, 8, "sums") ||
              check(&sq, mn, 8, "sq") || check(&n_valid, n_t, 8, "n_valid") || check(&xsum, mn * n_b, 8, "xsum") ||
              check(&miss_start, n_k + 1, 8, "miss_start") || check(&miss_day, n_miss, 8, "miss_day") ||
              check(&out, 2 * n_g * n_m, 8, "out");
    if (!bad) { /* every index the loops follow */
        const int64_t *cb = col_block.buf, *g = group_of.buf, *ms = miss_start.buf, *md = miss_day.buf;
        bad = ref < 0 || ref >= n_m || n_k < 0 || n_k > n_t || n_g < 1 || ms[0] != 0 || ms[n_k] > n_miss;
        for (Py_ssize_t j = 0; j < n_t && !bad; j++) bad = cb[j] < 0 || cb[j] >= n_b || g[j] < 0 || g[j] >= n_g - 1;
        for (Py_ssize_t k = 0; k < n_k && !bad; k++) bad = ms[k] > ms[k + 1];
        for (Py_ssize_t d = 0; d < n_miss && !bad; d++) bad = md[d] < 0 || md[d] >= n_d;
        if (bad) PyErr_SetString(PyExc_IndexError, "kp_pair_sums: an index out of range");
    }
    double *buf = bad ? NULL : malloc(sizeof(double) * 12 * KP_TILE);
    if (!bad && !buf) bad = 2;
    if (!bad) {
        const PairArgs a = {p.buf,     y.buf,     y_t.buf,    x.buf,          alpha.buf,    beta.buf,
                            dalpha.buf, dbeta.buf, sums.buf,   sq.buf,         n_valid.buf,  xsum.buf,
                            col_block.buf, group_of.buf, miss_start.buf, miss_day.buf, out.buf, n_m,
                            n_t,       n_d,       n_b,        n_k,            n_g,          ref};
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t j0 = 0, j1; j0 < n_t; j0 = j1) {
            j1 = run_end(a.col_block, j0, n_t, KP_TILE, n_k);
            pair_tile(&a, j0, j1, buf);
        }
        Py_END_ALLOW_THREADS;
    }
    free(buf);
    RELEASE(&p, &y, &y_t, &x, &col_block, &group_of, &alpha, &beta, &dalpha, &dbeta, &sums, &sq, &n_valid, &xsum,
            &miss_start, &miss_day, &out);
    if (bad == 2) return PyErr_NoMemory();
    if (bad) return NULL;
    Py_RETURN_NONE;
}
