/* The rows of marts.abnormal_returns, written in key order (event, ticker, model, rel_day) straight into the
 * output columns (transforms/event_study/frames.py, abnormal_returns_frame). */
#include "kernels.h"

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

PyObject *py_abnormal_rows(PyObject *self, PyObject *args) {
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
