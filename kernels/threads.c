/* threads.c: the pool behind threads_for (see threads.h). Workers sleep on a condition variable
 * between jobs; a job is (fn, ctx, n, chunks) published under the mutex with a generation
 * counter, so a worker never runs the same job twice. */
#include "threads.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS_MAX 64

static struct {
	pthread_mutex_t mu;
	pthread_cond_t start, done;
	pthread_t tid[THREADS_MAX];
	int n;              /* configured thread count (caller included) */
	int running;        /* workers started */
	int quit;
	unsigned long gen;  /* job generation */
	unsigned long born[THREADS_MAX];    /* gen when worker k was started */
	int pending;        /* workers still busy with the current job */
	ThreadsFn fn;
	void *ctx;
	long total, chunk;
	int used;           /* threads the current job uses */
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
	   .n = 1 };

static void run_chunk(int k)
{
	long i0 = k * pool.chunk, i1 = i0 + pool.chunk;
	if (i1 > pool.total)
		i1 = pool.total;
	if (i0 < i1)
		pool.fn(pool.ctx, i0, i1);
}

static void *worker(void *arg)
{
	int k = (int)(long)arg;
	pthread_mutex_lock(&pool.mu);
	/* jobs published before this worker was started are not its own */
	unsigned long seen = pool.born[k];
	for (;;) {
		while (!pool.quit && pool.gen == seen)
			pthread_cond_wait(&pool.start, &pool.mu);
		if (pool.quit)
			break;
		seen = pool.gen;
		if (k >= pool.used)
			continue;
		pthread_mutex_unlock(&pool.mu);
		run_chunk(k);
		pthread_mutex_lock(&pool.mu);
		if (--pool.pending == 0)
			pthread_cond_signal(&pool.done);
	}
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

void threads_shutdown(void)
{
	if (!pool.running)
		return;
	pthread_mutex_lock(&pool.mu);
	pool.quit = 1;
	pthread_cond_broadcast(&pool.start);
	pthread_mutex_unlock(&pool.mu);
	for (int k = 1; k < pool.running; k++)
		pthread_join(pool.tid[k], NULL);
	pool.running = 0;
	pool.quit = 0;
}

static void pool_start(void)
{
	for (int k = 1; k < pool.n; k++) {
		pool.born[k] = pool.gen;
		if (pthread_create(&pool.tid[k], NULL, worker, (void *)(long)k) != 0) {
			fprintf(stderr, "threads: pthread_create failed\n");
			abort();
		}
	}
	pool.running = pool.n;
}

void threads_set(int n)
{
	if (n < 1)
		n = 1;
	if (n > THREADS_MAX)
		n = THREADS_MAX;
	openblas_set_num_threads(n);
	if (n == pool.n)
		return;
	threads_shutdown();
	pool.n = n;
}

/* nesting depth of threads_blas_serial(1) calls (callers are on the caller's thread only) */
static int blas_serial_depth;

void threads_blas_serial(int on)
{
	if (on) {
		if (blas_serial_depth++ == 0 && pool.n > 1)
			openblas_set_num_threads(1);
	} else if (blas_serial_depth > 0) {
		if (--blas_serial_depth == 0 && pool.n > 1)
			openblas_set_num_threads(pool.n);
	}
}

int threads_get(void)
{
	return pool.n;
}

void threads_for(ThreadsFn fn, void *ctx, long n, long min_chunk)
{
	if (n <= 0)
		return;
	if (min_chunk < 1)
		min_chunk = 1;
	long used = n / min_chunk;
	if (used > pool.n)
		used = pool.n;
	if (used <= 1) {
		fn(ctx, 0, n);
		return;
	}
	if (pool.running != pool.n)
		pool_start();
	pthread_mutex_lock(&pool.mu);
	pool.fn = fn;
	pool.ctx = ctx;
	pool.total = n;
	pool.chunk = (n + used - 1) / used;
	pool.used = (int)used;
	pool.pending = (int)used - 1;
	pool.gen++;
	pthread_cond_broadcast(&pool.start);
	pthread_mutex_unlock(&pool.mu);
	run_chunk(0);
	pthread_mutex_lock(&pool.mu);
	while (pool.pending > 0)
		pthread_cond_wait(&pool.done, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
}
