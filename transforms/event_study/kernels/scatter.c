/* Scatter and gather: the long `ticker, date, ret` input into the (ticker x trading day) matrix, in two passes
 * (scatter_counts, scatter_fill: transforms/event_study/scatter.py), and each chunk's (ticker, event) windows
 * gathered back out of it at day 0 + rel_day on the benchmark's calendar (gather_windows:
 * transforms/event_study/chunk.py). */
#include "kernels.h"

/* y[t, e, r] = matrix[tk[t], columns[e, r]] where exists[e, r], else NaN: each (ticker, event) window's returns
 * gathered from the (ticker x trading day) matrix. */
PyObject *py_gather_windows(PyObject *self, PyObject *args) {
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

/* The returns' first pass: present[day - first] += 1 and priced[code] += 1 for every row with a ticker of the
 * study (code < n_codes) and a return (not NaN). Rows whose day is outside [first, first + span) are an error
 * (returns -1). */
PyObject *py_scatter_counts(PyObject *self, PyObject *args) {
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
PyObject *py_scatter_fill(PyObject *self, PyObject *args) {
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
