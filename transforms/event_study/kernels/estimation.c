/* Per-pair sums along the day axis of a chunk: the estimation-window sums and centred moments the models are
 * fitted from (estimation_sums: transforms/event_study/fits.py), and the CAR windows with their t statistics and
 * prediction-error-corrected standard errors (window_stats). */
#include "kernels.h"

/* The estimation-window sums of every (ticker, event) over its days with a return (y not NaN) in rel-day
 * positions [lo, hi): sums[k, t, e] for k = n, sum_x, sum_y, sum_xx, sum_xy, sum_yy, x_mean, y_mean, s_xx, s_xy,
 * s_yy (the s_ are centred, in two passes, as in tests/reference/event_study.py). x: (E, R), finite on
 * every day a ticker has a return. */
PyObject *py_estimation_sums(PyObject *self, PyObject *args) {
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
PyObject *py_window_stats(PyObject *self, PyObject *args) {
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
