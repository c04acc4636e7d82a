/* The cross-sectional statistics of marts.group_impact per (group, model, event, window): counts, means,
 * standard deviations, medians, Patell's variance and the sign test's p-hat (transforms/event_study/group_stats.py
 * turns them into the test statistics). */
#include "kernels.h"

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
PyObject *py_group_stats(PyObject *self, PyObject *args) {
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
