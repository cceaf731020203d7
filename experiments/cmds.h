/* cmds.h: subcommands of multi-command tools. Each takes argv[0] = the subcommand name and
 * returns the process exit status. */
#ifndef ASFT_CMDS_H
#define ASFT_CMDS_H

int cmd_world(int argc, char **argv);       /* experiments/cmd_world.c */
int cmd_tokenizer(int argc, char **argv);   /* experiments/cmd_tokenizer.c */

#endif
