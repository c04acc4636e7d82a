/* The one Python module of the kernels (transforms.event_study._kernels): its method table and PyInit. The
 * kernels themselves live one family a file beside this one (kernels.h lists them); setuptools compiles every
 * file of this directory into this single extension (pyproject.toml, [tool.setuptools] ext-modules). */
#include "kernels.h"

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
    {"kp_prepare", py_kp_prepare, METH_VARARGS,
     "kp_prepare(y, x, col_block, alpha, beta, a0_ref, y_t, sums, sq, n_valid, xsum, n_m, n_t, n_d, n_b, n_k, ref): "
     "one event's ARs sums for the Kolari-Pynnonen pairs with a partial ticker."},
    {"kp_pair_sums", py_kp_pair_sums, METH_VARARGS,
     "kp_pair_sums(p, y, y_t, x, col_block, group_of, alpha, beta, dalpha, dbeta, sums, sq, n_valid, xsum, "
     "miss_start, miss_day, out, n_m, n_t, n_d, n_b, n_k, n_miss, n_g, ref): the Kolari-Pynnonen pairs with a "
     "partial ticker, out[2, G, M]."},
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
    PyModuleDef_HEAD_INIT, "_kernels", "Compiled kernels of the dense event-study engine (transforms.event_study).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
