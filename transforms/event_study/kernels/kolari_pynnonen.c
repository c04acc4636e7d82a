/* Kolari-Pynnönen r-bar, the mean pairwise correlation of the estimation-window abnormal returns over common days
 * (transforms/event_study/pairwise_corr.py has the why), in two parts:
 *
 * - kp_sums, the pairs of two full tickers (a return on every estimation day): the standardized ARs z summed per
 *   group, model, event and day, never an array of z. The chunk (transforms/event_study/chunk.py, compute_chunk)
 *   passes each full ticker's weight 1 / sd_i and shift; this file adds weight_i (y_it - shift_i - beta_i x_t)
 *   into z_sum; their r sum, (sum over days of (sum z)^2 - sum z^2) / (2 (T - 1)), is formed in Python
 *   (transforms/event_study/group_stats.py, group_impact_frame).
 * - kp_pair_sums, the pairs with a partial ticker: each pair's r from its sums over the common days. */
#include "kernels.h"

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

/* Kolari-Pynnönen pairs with a partial ticker (transforms/event_study/pairwise_corr.py has the why): for every
 * model m, partial row k (ticker rows[k]) and column ticker j != rows[k], the Pearson r of their ARs over the
 * days both have, from cross[m, k, j] (the sum over those days of a_i a_j) and each ticker's sums over its own
 * days less those over the other's missing days (a0: the ARs with 0 on missing days; only partial tickers miss
 * days: miss_day[miss_start[k] .. miss_start[k + 1]) are row k's; part_of[j] is column j's row, or -1 when j is
 * full). A pair of two partial tickers is met twice, so it counts half each time. out[0, g, m] += r,
 * out[1, g, m] += 1 over the pairs inside group g (both tickers in it) and over every pair into the last group
 * ('all'); pairs with fewer than 2 common days or a constant series on them have no r and are left out. a0_t and
 * valid_t are a0 and the day mask day-major, so the columns' values on a row's missing days are read contiguously.
 * Returns 0, or -1 when out of memory. */
static int pair_sums(const double *a0, const double *a0_t, const double *cross, const double *row_sum,
                     const double *sq_sum, const double *n_days, const uint8_t *valid_t, const int64_t *rows,
                     const int64_t *part_of, const int64_t *miss_start, const int64_t *miss_day,
                     const int64_t *group_of, double *out, Py_ssize_t n_m, Py_ssize_t n_t, Py_ssize_t n_d,
                     Py_ssize_t n_k, Py_ssize_t n_g) {
    double *s_col = malloc(sizeof(double) * (3 * n_t + 1)); /* each column's sums over row k's days */
    if (!s_col) return -1;
    double *q_col = s_col + n_t, *n_col = s_col + 2 * n_t;
    for (Py_ssize_t m = 0; m < n_m; m++) {
        for (Py_ssize_t k = 0; k < n_k; k++) {
            const int64_t ri = rows[k], gi = group_of[ri];
            const double *ai = a0 + (m * n_t + ri) * n_d, *cr = cross + (m * n_k + k) * n_t;
            memcpy(s_col, row_sum + m * n_t, sizeof(double) * n_t);
            memcpy(q_col, sq_sum + m * n_t, sizeof(double) * n_t);
            memcpy(n_col, n_days, sizeof(double) * n_t);
            for (int64_t d = miss_start[k]; d < miss_start[k + 1]; d++) { /* every column on i's missing days */
                const double *day = a0_t + (m * n_d + miss_day[d]) * n_t;
                const uint8_t *present = valid_t + miss_day[d] * n_t;
                for (Py_ssize_t j = 0; j < n_t; j++) {
                    s_col[j] -= day[j];
                    q_col[j] -= day[j] * day[j];
                    n_col[j] -= present[j];
                }
            }
            double sum_all = 0, count_all = 0, sum_group = 0, count_group = 0;
            for (Py_ssize_t j = 0; j < n_t; j++) {
                if (j == ri) continue;
                double s_i = row_sum[m * n_t + ri], q_i = sq_sum[m * n_t + ri];
                const double s_j = s_col[j], q_j = q_col[j], n = n_col[j];
                const int64_t kj = part_of[j];
                if (kj >= 0) { /* i's values on j's missing days */
                    for (int64_t d = miss_start[kj]; d < miss_start[kj + 1]; d++) {
                        const double v = ai[miss_day[d]];
                        s_i -= v;
                        q_i -= v * v;
                    }
                }
                if (n < 2) continue;
                const double cov = cr[j] - s_i * s_j / n;
                const double var_i = q_i - s_i * s_i / n, var_j = q_j - s_j * s_j / n;
                if (!(var_i > 0) || !(var_j > 0)) continue;
                const double r = cov / sqrt(var_i * var_j);
                if (!isfinite(r)) continue;
                const double w = kj >= 0 ? 0.5 : 1.0;
                sum_all += w * r;
                count_all += w;
                if (group_of[j] == gi) {
                    sum_group += w * r;
                    count_group += w;
                }
            }
            out[(n_g - 1) * n_m + m] += sum_all;
            out[(n_g + n_g - 1) * n_m + m] += count_all;
            out[gi * n_m + m] += sum_group;
            out[(n_g + gi) * n_m + m] += count_group;
        }
    }
    free(s_col);
    return 0;
}

PyObject *py_kp_pair_sums(PyObject *self, PyObject *args) {
    Py_buffer a0, a0_t, cross, row_sum, sq_sum, n_days, valid, rows, part_of, miss_start, miss_day, group_of, out;
    Py_ssize_t n_m, n_t, n_d, n_k, n_miss, n_g;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*y*y*w*nnnnnn", &a0, &a0_t, &cross, &row_sum, &sq_sum, &n_days,
                          &valid,
                          &rows, &part_of, &miss_start, &miss_day, &group_of, &out, &n_m, &n_t, &n_d, &n_k, &n_miss,
                          &n_g))
        return NULL;
    int bad = check(&a0, n_m * n_t * n_d, 8, "a0") || check(&a0_t, n_m * n_t * n_d, 8, "a0_t") || check(&cross, n_m * n_k * n_t, 8, "cross") ||
              check(&row_sum, n_m * n_t, 8, "row_sum") || check(&sq_sum, n_m * n_t, 8, "sq_sum") ||
              check(&n_days, n_t, 8, "n_days") || check(&valid, n_t * n_d, 1, "valid_t") ||
              check(&rows, n_k, 8, "rows") || check(&part_of, n_t, 8, "part_of") ||
              check(&miss_start, n_k + 1, 8, "miss_start") || check(&miss_day, n_miss, 8, "miss_day") ||
              check(&group_of, n_t, 8, "group_of") || check(&out, 2 * n_g * n_m, 8, "out");
    if (!bad) { /* every index the loops follow */
        const int64_t *rw = rows.buf, *po = part_of.buf, *ms = miss_start.buf, *md = miss_day.buf, *g = group_of.buf;
        for (Py_ssize_t k = 0; k < n_k && !bad; k++) bad = rw[k] < 0 || rw[k] >= n_t;
        for (Py_ssize_t j = 0; j < n_t && !bad; j++) bad = po[j] < -1 || po[j] >= n_k || g[j] < 0 || g[j] >= n_g - 1;
        for (Py_ssize_t k = 0; k < n_k && !bad; k++) bad = ms[k] < 0 || ms[k] > ms[k + 1];
        bad = bad || (n_k >= 0 && ms[n_k] > n_miss);
        for (Py_ssize_t d = 0; d < n_miss && !bad; d++) bad = md[d] < 0 || md[d] >= n_d;
        if (bad) PyErr_SetString(PyExc_IndexError, "kp_pair_sums: an index out of range");
    }
    int failed = 0;
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS;
        failed = pair_sums(a0.buf, a0_t.buf, cross.buf, row_sum.buf, sq_sum.buf, n_days.buf, valid.buf, rows.buf,
                           part_of.buf, miss_start.buf, miss_day.buf, group_of.buf, out.buf, n_m, n_t, n_d, n_k, n_g);
        Py_END_ALLOW_THREADS;
    }
    RELEASE(&a0, &a0_t, &cross, &row_sum, &sq_sum, &n_days, &valid, &rows, &part_of, &miss_start, &miss_day,
            &group_of, &out);
    if (bad) return NULL;
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
}
