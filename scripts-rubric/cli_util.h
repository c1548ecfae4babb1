/* Private to scripts-rubric/: small helpers its commands share. */
#ifndef EARSHOT_RUBRIC_CLI_H
#define EARSHOT_RUBRIC_CLI_H

#include "scripts-rubric/rubric_int.h"

/* One JSON object on one line; scores print as 87.5, not 87.500000000000001. Steals o. */
void cli_print_json(json_t *o);
/* Reads a whole file ("-" = standard input) up to cap bytes; prints why not. */
int cli_read(const char *cmd, const char *path, size_t cap, struct es_buf *out);
/* Opens the catalog and the rubric store; prints why not. */
int cli_open(struct es_cli *cli, struct catalog **cat, struct rubric_store **st);
void cli_close(struct catalog *cat, struct rubric_store *st);
/* --since/--until into a window: defaults are the 30 days up to now. */
int cli_window(const char *since, const char *until, struct report_window *w);
/* "a,b,c" → a JSON array of slugs; NULL with a message when one is not a slug. */
json_t *cli_tags(const char *cmd, const char *list);
/* A whole number option in [lo, hi]; prints why not and returns -1. */
int cli_number(const char *cmd, const char *opt, const char *v, long long lo, long long hi,
               long long *out);
/* Prints a rubric_load failure as FILE:LINE:COL: message lines. */
void cli_print_diags(const char *file, const struct rubric_diags *d);

#endif
