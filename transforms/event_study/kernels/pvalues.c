/* Tabulated two-sided Student-t p-values (transforms/event_study/pvalues.py has the method and its accuracy):
 * which degrees of freedom are common enough to tabulate (dof_counts) and the quintic Hermite evaluation of the
 * tables (hermite_p). */
#include "kernels.h"

/* counts[d] += 1 for every whole degrees-of-freedom value d in [min_dof, n_counts) among dof (NaN and the rest
 * skipped): which degrees of freedom are common enough to be tabulated (transforms/event_study/pvalues.py). */
PyObject *py_dof_counts(PyObject *self, PyObject *args) {
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
PyObject *py_hermite_p(PyObject *self, PyObject *args) {
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
