/* tool_common.h: steps several tools repeat word for word: loading a checkpoint with an optional
 * adapter, checking --threads, and creating / abandoning the HDF5 output. Tool tier: every
 * function dies with a clear message instead of returning an error. Not here: option parsing
 * (cli.h). */
#ifndef ASFT_TOOL_COMMON_H
#define ASFT_TOOL_COMMON_H

#include <stdint.h>
#include <stdnoreturn.h>

#include "cli.h"
#include "h5store.h"
#include "model.h"

/* tool_threads_set: dies unless 1 <= n <= 64, then threads_set(n) (BLAS and the engine). */
void tool_threads_set(long n);

/* tool_model_load: loads the Hugging Face checkpoint in model_dir into m and, when adapter_dir
 * is not NULL, its PEFT LoRA adapter into lo and attaches it to m. lo is zeroed first, so
 * lora_free(lo) is right either way. Dies on error. */
void tool_model_load(Model *m, Lora *lo, const char *model_dir, const char *adapter_dir);

/* tool_h5_create: creates the HDF5 file out with the provenance of tool (name), its options as
 * JSON (cli_config_json(opts)) and seed. Dies on error. */
H5Store *tool_h5_create(const char *out, const char *tool, const CliOpt *opts, uint64_t seed);

/* tool_h5_abort_die: removes the half-written h5 and dies with the pending error message (copied
 * first, because h5s_abort may replace it). */
noreturn void tool_h5_abort_die(H5Store *h5);

#endif
