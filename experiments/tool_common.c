/* tool_common.c: checkpoint loading, --threads and HDF5 output steps shared by the tools (see
 * tool_common.h). */
#include "tool_common.h"
#include "checkpoint.h"
#include "threads.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void tool_threads_set(long n)
{
	if (n < 1 || n > 64)
		die("--threads %ld: expected 1..64", n);
	threads_set((int)n);
}

void tool_model_load(Model *m, Lora *lo, const char *model_dir, const char *adapter_dir)
{
	memset(lo, 0, sizeof(*lo));
	if (checkpoint_load(m, model_dir) < 0)
		die_err();
	if (adapter_dir) {
		if (checkpoint_load_adapter(lo, m, adapter_dir) < 0)
			die_err();
		model_set_lora(m, lo);
	}
}

H5Store *tool_h5_create(const char *out, const char *tool, const CliOpt *opts, uint64_t seed)
{
	char *config = cli_config_json(opts);
	H5Store *h5 = h5s_create(out, tool, config, seed);
	free(config);
	if (!h5)
		die_err();
	return h5;
}

noreturn void tool_h5_abort_die(H5Store *h5)
{
	char *msg = xstrdup(err_msg());
	h5s_abort(h5);
	die("%s", msg);
}
