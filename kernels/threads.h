/* threads.h: a small pthread pool for the engine's loops (norms, RoPE, softmax, SwiGLU,
 * cross-entropy, AdamW) and for its matmuls, which ops.c and generate.c split in blocks over
 * the pool, each block one single-threaded cblas_sgemm (threads_blas_serial). threads_set also
 * sets OpenBLAS's thread count, for BLAS calls made outside the engine, so `--threads N` means
 * N for both.
 *
 * threads_for splits [0, n) into contiguous chunks, one per thread, and returns when all are
 * done. Every item must be computed independently of the others (no shared reductions), so a
 * result never depends on the number of threads. The pool is process-wide and lazily started;
 * it is not re-entrant (do not call threads_for from inside a work function). */
#ifndef ASFT_THREADS_H
#define ASFT_THREADS_H

/* fn computes items [i0, i1) with its context. */
typedef void (*ThreadsFn)(void *ctx, long i0, long i1);

/* threads_set: n >= 1 threads for our loops and for OpenBLAS; n <= 0 means 1. Stops and restarts
 * the pool when n changes. Not to be called concurrently with threads_for. */
void threads_set(int n);
int threads_get(void);          /* current count (1 until threads_set) */
/* threads_for: runs fn over [0, n) on the pool; loops shorter than min_chunk items per thread
 * use fewer threads (min_chunk <= 0 means 1), and the caller's thread does the first chunk. */
void threads_for(ThreadsFn fn, void *ctx, long n, long min_chunk);
/* threads_blas_serial: on = 1 holds OpenBLAS to one thread (for loops whose items each call
 * small BLAS routines from the pool); on = 0 undoes one on = 1, and the outermost gives it
 * threads_get() threads again (calls nest, so a serial region may call functions that open
 * their own). OpenBLAS keeps its thread count unchanged with one pool thread. Call it from the
 * caller's thread, not from inside a work function. */
void threads_blas_serial(int on);
/* threads_shutdown: joins the workers (tools may call it at exit; threads_for restarts them). */
void threads_shutdown(void);

#endif
