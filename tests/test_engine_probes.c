/* test_engine_probes.c: asft-logits end to end against the torch fixtures.
 *
 * Runs the built tool ($ASFT_BIN, default build/bin) on each fixture's ids, with and without
 * --adapter, and reads OUT.h5 back through the result store: /logits [B,T,V] (max relative
 * error <= 1e-4), /loss (<= 1e-4) and every /grads/<name> (<= 1e-3) under HF or PEFT names. */
#include "h5store.h"
#include "harness.h"
#include "safetensors.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXDIR "tests/fixtures/engine"

static float *h5_f32(H5Store *h, const char *path, size_t *n)
{
	void *data = NULL;
	int nd = 0;
	size_t dims[H5S_MAX_DIMS];
	if (h5s_read(h, path, H5S_F32, &data, &nd, dims) < 0)
		return NULL;
	*n = 1;
	for (int i = 0; i < nd; i++)
		*n *= dims[i];
	return data;
}

static void run_probe(const char *bin, const char *name, int with_adapter)
{
	char tmp[] = "/tmp/asft-probe-XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	char *out = xasprintf("%s/out.h5", tmp);
	char *cmd = xasprintf("%s/asft-logits --model %s/%s %s%s%s --ids %s/%s/ids.json --out %s "
			      "--grads", bin, FIXDIR, name, with_adapter ? "--adapter " FIXDIR "/" : "",
			      with_adapter ? name : "", with_adapter ? "/adapter" : "", FIXDIR, name,
			      out);
	int rc = system(cmd);
	if (!CHECK(rc == 0)) {
		fprintf(stderr, "     command failed: %s\n", cmd);
		goto out;
	}
	char *refp = xasprintf("%s/%s/ref.safetensors", FIXDIR, name);
	Safetensors st;
	H5Store *h = h5s_open(out, 0);
	if (!CHECK(st_open(&st, refp) == 0 && h != NULL)) {
		free(refp);
		goto out;
	}
	size_t n;
	const StTensor *lt = st_find(&st, with_adapter ? "lora_logits" : "logits");
	float *got = h5_f32(h, "/logits", &n);
	CHECK(got != NULL && lt != NULL && n == lt->numel);
	if (got && lt && n == lt->numel) {
		float *want = xmalloc(sizeof(float) * n);
		st_read_f32(lt, want);
		double e = harness_max_rel(got, want, n);
		char msg[160];
		snprintf(msg, sizeof(msg), "%s%s: /logits max relative error %.3g", name,
			 with_adapter ? " +adapter" : "", e);
		harness_report(e <= 1e-4, __FILE__, __LINE__, msg);
		free(want);
	}
	free(got);
	/* /loss against ref.json */
	double loss = NAN;
	CHECK_INT(h5s_read_scalar(h, "/loss", &loss), 0);
	char *jp = xasprintf("%s/%s/ref.json", FIXDIR, name);
	char *text = file_read_all(jp, NULL);
	const char *key = with_adapter ? "\"lora_loss\":" : "\"loss\":";
	char *at = text ? strstr(text, key) : NULL;
	CHECK(at != NULL);
	if (at)
		CHECK_CLOSE(loss, strtod(at + strlen(key), NULL), 0, 1e-4);
	free(text);
	free(jp);
	/* every reference gradient has its /grads dataset */
	const char *prefix = with_adapter ? "lora_grad." : "grad.";
	int n_grads = 0, missing = 0;
	double worst = 0;
	for (int i = 0; i < st.n; i++) {
		const StTensor *t = &st.tensors[i];
		if (strncmp(t->name, prefix, strlen(prefix)))
			continue;
		n_grads++;
		char *path = xasprintf("/grads/%s", t->name + strlen(prefix));
		float *g = h5_f32(h, path, &n);
		free(path);
		if (!g || n != t->numel) {
			missing++;
			free(g);
			continue;
		}
		float *want = xmalloc(sizeof(float) * n);
		st_read_f32(t, want);
		double e = harness_max_rel(g, want, n);
		if (e > worst)
			worst = e;
		free(want);
		free(g);
	}
	CHECK(n_grads > 0);
	CHECK_INT(missing, 0);
	char msg[160];
	snprintf(msg, sizeof(msg), "%s%s: %d /grads, worst relative error %.3g", name,
		 with_adapter ? " +adapter" : "", n_grads, worst);
	harness_report(worst <= 1e-3, __FILE__, __LINE__, msg);
	/* nothing else under /grads: the base is frozen with --adapter */
	char **names;
	int nn = 0;
	CHECK_INT(h5s_list(h, "/grads", &names, &nn), 0);
	CHECK_INT(nn, n_grads);
	h5s_free_list(names, nn);
	h5s_close(h);
	st_close(&st);
	free(refp);
out:
	free(cmd);
	cmd = xasprintf("rm -rf '%s'", tmp);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	free(out);
}

int main(void)
{
	const char *bin = getenv("ASFT_BIN") ? getenv("ASFT_BIN") : "build/bin";
	static const char *const names[] = { "mha_untied_f32", "gqa_tied_bf16", "qwen2_bias_f32" };
	for (int i = 0; i < 3; i++)
		for (int a = 0; a < 2; a++)
			run_probe(bin, names[i], a);
	return test_summary();
}
