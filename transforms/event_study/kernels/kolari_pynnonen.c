/* Kolari-Pynnönen group sums: the standardized estimation-window abnormal returns z summed per group, model,
 * event and day (kp_sums), never an array of z.
 *
 * Where r-bar comes from: the chunk (transforms/event_study/chunk.py, compute_chunk) passes each ticker's
 * weight 1 / sd_i and shift; this file adds weight_i (y_it - shift_i - beta_i x_t) into z_sum; r-bar =
 * (sum over days of (sum z)^2 - sum z^2) / ((T - 1) N (N - 1)) is formed in Python
 * (transforms/event_study/group_stats.py, group_impact_frame). */
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
