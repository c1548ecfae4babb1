/* earshot user add|passwd|disable|enable|list, earshot audit verify */
#include "review-server/review_int.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: earshot user add NAME --role admin|supervisor|operator|compliance [--operator EXT]\n"
    "       earshot user passwd NAME\n"
    "       earshot user disable|enable NAME\n"
    "       earshot user list [--json]\n"
    "The password is read from standard input (one line); when standard input is\n"
    "empty, a random one is generated and printed once.\n";

static int open_store(struct es_cli *cli, struct catalog **cat, struct review_store **st)
{
    struct es_err err = {{0}};
    *st = NULL;
    int rc = catalog_open(cli->data_dir, cat, &err);
    if (!rc) {
        rc = review_store_open(*cat, st, &err);
        if (rc)
            catalog_close(*cat);
    }
    if (rc)
        fprintf(stderr, "earshot %s: %s\n", cli->argv[0], err.msg);
    return rc;
}

/* One line from standard input, without echo on a terminal; "" at end of input. */
static int read_password(char *out, size_t outlen, bool *generated)
{
    struct termios old, quiet;
    bool tty = isatty(0) && tcgetattr(0, &old) == 0;
    if (tty) {
        fputs("password: ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSANOW, &quiet);
    }
    char *line = fgets(out, (int)outlen, stdin);
    if (tty) {
        tcsetattr(0, TCSANOW, &old);
        fputs("\n", stderr);
    }
    *generated = false;
    if (!line || !out[0] || out[0] == '\n') {
        review_password_generate(out);
        *generated = true;
        return 0;
    }
    size_t n = strlen(out);
    if (out[n - 1] != '\n' && !feof(stdin))
        return ES_ETOOBIG;
    out[strcspn(out, "\r\n")] = 0;
    return 0;
}

static int list_row(void *ud, const struct review_user *u)
{
    const int *json = ud;
    if (*json) {
        json_t *j = json_object();
        char when[ES_ISO_LEN];
        es_time_iso(u->created_at, when);
        json_object_set_new(j, "name", json_string(u->name));
        json_object_set_new(j, "role", json_string(review_role_name(u->role)));
        json_object_set_new(j, "operator", json_string(u->operator_));
        json_object_set_new(j, "disabled", json_boolean(u->disabled));
        json_object_set_new(j, "created_at", json_string(when));
        char *s = json_dumps(j, JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
        json_decref(j);
    } else {
        printf("%-24s  %-10s  %-12s  %s\n", u->name, review_role_name(u->role),
               u->operator_[0] ? u->operator_ : "-", u->disabled ? "disabled" : "active");
    }
    return 0;
}

static int with_password(struct review_store *st, const char *sub, const char *name,
                         enum review_role role, const char *op)
{
    char pw[1100];
    bool generated;
    struct es_err err = {{0}};
    if (read_password(pw, sizeof pw, &generated)) {
        fprintf(stderr, "earshot user %s: the password is longer than 1024 characters\n", sub);
        return 1;
    }
    /* the change and its audit row commit together */
    bool outer;
    int rc = catalog_tx_begin(st->db, &outer);
    if (!rc) {
        rc = !strcmp(sub, "add") ? review_user_add(st, name, role, op, pw, &err)
                                 : review_user_passwd(st, name, pw, NULL, &err);
        char detail[128];
        snprintf(detail, sizeof detail, "{\"role\":\"%s\"}", review_role_name(role));
        if (!rc)
            rc = review_audit(st, "cli", !strcmp(sub, "add") ? "user.add" : "user.passwd", name,
                              !strcmp(sub, "add") ? detail : NULL, &err);
        rc = catalog_tx_end(st->db, outer, rc);
        if (!rc)
            review_audit_anchor(st);
    }
    if (rc) {
        fprintf(stderr, "earshot user %s: %s\n", sub, err.msg[0] ? err.msg : es_strerror(rc));
    } else {
        if (generated) /* shown once, here, and nowhere else */
            printf("password for %s: %s\n", name, pw);
    }
    sodium_memzero(pw, sizeof pw);
    return rc ? 1 : 0;
}

int cmd_user(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"role", required_argument, NULL, 'r'},
        {"operator", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    if (cli->argc < 2 || !strcmp(cli->argv[1], "--help") || !strcmp(cli->argv[1], "-h")) {
        fputs(usage_text, cli->argc < 2 ? stderr : stdout);
        return cli->argc < 2 ? 2 : 0;
    }
    const char *sub = cli->argv[1], *role_name = NULL, *op = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc - 1, cli->argv + 1, "", lo, NULL)) != -1) {
        if (c == 'r')
            role_name = optarg;
        else if (c == 'o')
            op = optarg;
        else if (c == 'J')
            json = 1;
        else {
            fputs(usage_text, stderr);
            return 2;
        }
    }
    int nargs = cli->argc - 1 - optind;
    char **args = cli->argv + 1 + optind;
    enum review_role role = ROLE_SUPERVISOR;
    bool is_add = !strcmp(sub, "add"), is_list = !strcmp(sub, "list");
    bool known = is_add || is_list || !strcmp(sub, "passwd") || !strcmp(sub, "disable") ||
                 !strcmp(sub, "enable");
    if (!known || nargs != (is_list ? 0 : 1) || (is_add && !role_name)) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (is_add && review_role_parse(role_name, &role)) {
        fprintf(stderr,
                "earshot user add: --role %s: expected admin, supervisor, operator or"
                " compliance\n",
                role_name);
        return 2;
    }
    struct catalog *cat;
    struct review_store *st;
    if (open_store(cli, &cat, &st))
        return 1;
    int rc = 0;
    struct es_err err = {{0}};
    if (is_list) {
        if (!json)
            printf("%-24s  %-10s  %-12s  %s\n", "NAME", "ROLE", "OPERATOR", "STATE");
        rc = review_user_list(st, list_row, &json) ? 1 : 0;
    } else if (is_add || !strcmp(sub, "passwd")) {
        rc = with_password(st, sub, args[0], role, op);
    } else {
        bool disable = !strcmp(sub, "disable");
        bool outer;
        int r2 = catalog_tx_begin(st->db, &outer);
        if (!r2) {
            r2 = review_user_disable(st, args[0], disable, &err);
            if (!r2)
                r2 = review_audit(st, "cli", disable ? "user.disable" : "user.enable", args[0],
                                  NULL, &err);
            r2 = catalog_tx_end(st->db, outer, r2);
            if (!r2)
                review_audit_anchor(st);
        }
        if (r2) {
            fprintf(stderr, "earshot user %s: %s\n", sub, err.msg[0] ? err.msg : es_strerror(r2));
            rc = 1;
        }
    }
    review_store_close(st);
    catalog_close(cat);
    return rc;
}

int cmd_audit(struct es_cli *cli)
{
    if (cli->argc != 2 || strcmp(cli->argv[1], "verify")) {
        fputs("usage: earshot audit verify\n", stderr);
        return 2;
    }
    struct catalog *cat;
    struct review_store *st;
    if (open_store(cli, &cat, &st))
        return 1;
    struct es_err err = {{0}};
    struct review_audit_check chk;
    int rc = review_audit_verify(st, &chk, &err);
    if (rc)
        fprintf(stderr, "earshot audit verify: %s\n", err.msg);
    else
        printf("audit log intact: %lld rows (%lld keyed), anchored at row %lld\n",
               (long long)chk.rows, (long long)chk.keyed, (long long)chk.anchor_id);
    review_store_close(st);
    catalog_close(cat);
    return rc ? 1 : 0;
}
