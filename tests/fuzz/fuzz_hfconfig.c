/* fuzz_hfconfig.c: config.json bytes -> config_parse (data/hfconfig.h).
 *
 * Properties checked on every input: a refusal carries an error message; an accepted config
 * passes config_validate; config_to_json of it parses again and is a fixed point (the text of
 * the reparsed config is byte-identical, so no field is lost or rounded on the way). */
#include "fuzz.h"
#include "hfconfig.h"
#include "util.h"

#include <string.h>

const size_t fuzz_replay_total = 30000;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ModelConfig cfg, again;
	char why[256];

	err_clear();
	if (config_parse(&cfg, (const char *)data, size, "config.json") != 0) {
		FUZZ_CHECK_ERR("config_parse");
		return 0;
	}
	FUZZ_CHECK(config_validate(&cfg, why, sizeof why) == 0, "accepted config invalid: %s", why);
	char *json = config_to_json(&cfg);
	FUZZ_CHECK(json != NULL, "config_to_json returned NULL");
	err_clear();
	FUZZ_CHECK(config_parse(&again, json, strlen(json), "written") == 0,
		   "config_to_json output does not parse: %s\n%s", err_msg(), json);
	char *json2 = config_to_json(&again);
	FUZZ_CHECK(!strcmp(json, json2), "round trip changed the config:\n%s\n---\n%s", json, json2);
	FUZZ_CHECK(again.arch == cfg.arch && again.hidden_size == cfg.hidden_size &&
		   again.num_key_value_heads == cfg.num_key_value_heads &&
		   again.head_dim == cfg.head_dim && again.n_eos == cfg.n_eos &&
		   again.bos_token_id == cfg.bos_token_id &&
		   again.rms_norm_eps == cfg.rms_norm_eps && again.rope_theta == cfg.rope_theta,
		   "round trip changed a field:\n%s", json);
	free(json2);
	free(json);
	return 0;
}
