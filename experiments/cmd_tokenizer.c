/* cmd_tokenizer.c: asft-data tokenizer (placeholder until its issue lands). */
#include "cmds.h"
#include "util.h"

int cmd_tokenizer(int argc, char **argv)
{
	die("tokenizer: not implemented yet");
}
