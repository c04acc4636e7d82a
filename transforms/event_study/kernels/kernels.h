/* Shared by the kernel files of transforms/event_study/kernels/ (one family of kernels a file, one extension
 * module, transforms.event_study._kernels, whose method table is module.c): the includes, the AVX2 clone
 * attribute, the buffer checks every kernel makes, and the Python-facing kernels module.c registers.
 *
 * Built by setuptools when the project is installed (`uv sync`); no numpy headers: arrays arrive through the
 * buffer protocol, C-contiguous, with their shapes passed alongside, and each kernel checks every buffer's size
 * (and the indices it will follow) before it reads one; the Python callers pass the dtypes the .pyi states.
 * Every kernel releases the GIL while it loops, so the engine's chunks run on several threads. */
#ifndef JEVONS_KERNELS_H
#define JEVONS_KERNELS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Loops that gain from AVX2 (64-bit integer selects and compares) get an AVX2 clone besides the baseline one,
 * picked at load time by the CPU it runs on (GCC and clang function multiversioning); elsewhere, plain code. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AVX2_CLONES
#endif

/* A buffer of `count` items of `itemsize` bytes, C-contiguous; sets a TypeError naming `what` otherwise. */
static inline int check(const Py_buffer *view, Py_ssize_t count, Py_ssize_t itemsize, const char *what) {
    if (view->len != count * itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: expected %zd items of %zd bytes, got %zd bytes", what, count, itemsize,
                     view->len);
        return -1;
    }
    return 0;
}

/* Releases every buffer a kernel took (its arguments, in any order). */
static inline void release(Py_buffer *const *views, size_t n) {
    for (size_t k = 0; k < n; k++) PyBuffer_Release(views[k]);
}
#define RELEASE(...)                                   \
    release((Py_buffer *const[]){__VA_ARGS__},         \
            sizeof((Py_buffer *const[]){__VA_ARGS__}) / sizeof(Py_buffer *))

/* ranks.c */
PyObject *py_fill_keys(PyObject *self, PyObject *args);
PyObject *py_rank_sums(PyObject *self, PyObject *args);
/* abnormal_rows.c */
PyObject *py_abnormal_rows(PyObject *self, PyObject *args);
/* scatter.c */
PyObject *py_gather_windows(PyObject *self, PyObject *args);
PyObject *py_scatter_counts(PyObject *self, PyObject *args);
PyObject *py_scatter_fill(PyObject *self, PyObject *args);
/* estimation.c */
PyObject *py_estimation_sums(PyObject *self, PyObject *args);
PyObject *py_window_stats(PyObject *self, PyObject *args);
/* pvalues.c */
PyObject *py_dof_counts(PyObject *self, PyObject *args);
PyObject *py_hermite_p(PyObject *self, PyObject *args);
/* kolari_pynnonen.c */
PyObject *py_kp_sums(PyObject *self, PyObject *args);
PyObject *py_kp_prepare(PyObject *self, PyObject *args);
PyObject *py_kp_pair_sums(PyObject *self, PyObject *args);
/* group_stats.c */
PyObject *py_group_stats(PyObject *self, PyObject *args);

#endif
