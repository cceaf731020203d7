/* cmd_world.c: asft-data world (placeholder until its issue lands). */
#include "cmds.h"
#include "util.h"

int cmd_world(int argc, char **argv)
{
	die("world: not implemented yet");
}
