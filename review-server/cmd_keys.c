/* Encryption at rest, the commands: earshot keys init|rotate|status,
 * earshot encrypt-existing, and earshot audio (a recording as plain Ogg Opus,
 * decrypted if sealed; audited like a listening). Here because rotations and
 * listenings go to the audit log. */
#include "review-server/review_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char keys_usage[] =
    "usage: earshot keys init FILE     a new master key file (mode 0600; never overwrites)\n"
    "       earshot keys rotate        a new master key: every data key wrapped again under\n"
    "                                  it (the audio is not touched), audited (keys.rotate)\n"
    "       earshot keys status        the key file's keys and the recordings of each\n"
    "With encryption_key_file = FILE in the configuration, new recordings are encrypted;\n"
    "`earshot encrypt-existing` encrypts those recorded before.\n";

struct rotate_audit {
    struct review_store *rv;
    const char *from;
    const char *to; /* the new id, filled before the audit row is written */
    int64_t *n;
    struct es_err *err;
};

static int rotate_in_tx(void *ud)
{
    struct rotate_audit *a = ud;
    json_t *d =
        json_pack("{s:s, s:s, s:I}", "from", a->from, "to", a->to, "rewrapped", (json_int_t)*a->n);
    char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(d);
    int rc = ds ? review_audit(a->rv, "cli", "keys.rotate", a->to, ds, a->err) : ES_ENOMEM;
    free(ds);
    return rc;
}

static int print_usage(void *ud, const char *key_id, int64_t n)
{
    const struct archive_keyring *kr = ud;
    if (key_id[0])
        printf("%-18s %lld recordings%s\n", key_id, (long long)n,
               !kr                                ? "  (no key file configured)"
               : !archive_keyring_has(kr, key_id) ? "  (NOT in the key file)"
                                                  : "");
    else
        printf("%-18s %lld recordings\n", "not encrypted", (long long)n);
    return 0;
}

int cmd_keys(struct es_cli *cli)
{
    const char *sub = cli->argc > 1 ? cli->argv[1] : "";
    const char *kf = es_config_get(cli->config, "encryption_key_file");
    struct es_err err = {{0}};
    if (!strcmp(sub, "init") && cli->argc == 3) {
        if (archive_keys_init(cli->argv[2], &err)) {
            fprintf(stderr, "earshot keys init: %s\n", err.msg);
            return 1;
        }
        struct archive_keyring *kr = NULL;
        if (archive_keyring_load(cli->argv[2], &kr, &err)) {
            fprintf(stderr, "earshot keys init: %s\n", err.msg);
            return 1;
        }
        printf("%s: master key %s. Set encryption_key_file = %s in the configuration and keep\n"
               "a copy offline: without it no encrypted recording can ever be played.\n",
               cli->argv[2], archive_keyring_current_id(kr), cli->argv[2]);
        archive_keyring_free(kr);
        return 0;
    }
    if ((strcmp(sub, "rotate") && strcmp(sub, "status")) || cli->argc != 2) {
        fputs(keys_usage, !strcmp(sub, "--help") ? stdout : stderr);
        return !strcmp(sub, "--help") ? 0 : 2;
    }
    struct catalog *cat = NULL;
    struct review_store *rv = NULL;
    int rc = catalog_open(cli->data_dir, &cat, &err);
    if (!rc)
        rc = review_store_open(cat, &rv, &err);
    if (!rc && !strcmp(sub, "status")) {
        const struct archive_keyring *kr = archive_keyring_get();
        char ids[16][ARCHIVE_KEY_ID_LEN];
        int n = archive_keyring_ids(kr, ids, 16);
        for (int i = 0; i < n; i++)
            printf("key file: %s %s\n", ids[i], i ? "(retired: unwraps only)" : "(current)");
        if (!n)
            printf("key file: none configured (new recordings are not encrypted)\n");
        rc = archive_keys_usage(cat, print_usage, (void *)kr);
    } else if (!rc) {
        const struct archive_keyring *kr = archive_keyring_get();
        char from[ARCHIVE_KEY_ID_LEN], to[ARCHIVE_KEY_ID_LEN] = "";
        snprintf(from, sizeof from, "%s", archive_keyring_current_id(kr));
        int64_t n = 0;
        struct rotate_audit a = {rv, from, to, &n, &err};
        rc = archive_keys_rotate(cat, kf, to, &n, rotate_in_tx, &a, &err);
        if (!rc) {
            review_audit_anchor(rv);
            printf("%s: master key %s is current (%s retired); %lld data keys wrapped again\n", kf,
                   to, from, (long long)n);
        }
    }
    if (rc)
        fprintf(stderr, "earshot keys %s: %s\n", sub, err.msg[0] ? err.msg : es_strerror(rc));
    review_store_close(rv);
    catalog_close(cat);
    return rc ? 1 : 0;
}

int cmd_encrypt_existing(struct es_cli *cli)
{
    if (cli->argc != 1) {
        fputs("usage: earshot encrypt-existing\n"
              "Encrypts every recording still stored in the clear under a data key of its own,\n"
              "one call at a time (safe to stop and run again); the plain files are overwritten\n"
              "and removed. Needs encryption_key_file in the configuration.\n",
              strcmp(cli->argv[1], "--help") ? stderr : stdout);
        return strcmp(cli->argv[1], "--help") ? 2 : 0;
    }
    struct ingest_opts io = ingest_opts_default(cli->data_dir, "encrypt");
    struct es_err err = {{0}};
    struct ingest_session *s = NULL;
    struct catalog *cat = NULL;
    int64_t done = 0, left = 0;
    int rc = ingest_session_open(&io, &s, &err);
    if (!rc)
        rc = catalog_open(cli->data_dir, &cat, &err);
    if (!rc)
        rc = archive_encrypt_existing(s, cat, &done, &left, &err);
    if (rc)
        fprintf(stderr, "earshot encrypt-existing: %s\n", err.msg[0] ? err.msg : es_strerror(rc));
    if (cat)
        printf("%lld recordings encrypted, %lld left in the clear\n", (long long)done,
               (long long)left);
    catalog_close(cat);
    ingest_session_close(s);
    return rc ? 1 : 0;
}

int cmd_audio(struct es_cli *cli)
{
    const char *id = NULL, *out = NULL;
    for (int i = 1; i < cli->argc; i++) {
        if (!strcmp(cli->argv[i], "--out") && i + 1 < cli->argc)
            out = cli->argv[++i];
        else if (cli->argv[i][0] != '-' && !id)
            id = cli->argv[i];
        else
            id = NULL, i = cli->argc;
    }
    if (!id) {
        fputs("usage: earshot audio CALL_ID [--out FILE]\n"
              "The recording as Ogg Opus (decrypted if it is encrypted at rest), to FILE or\n"
              "standard output; audited as a listening.\n",
              stderr);
        return 2;
    }
    struct es_err err = {{0}};
    struct catalog *cat = NULL;
    struct review_store *rv = NULL;
    struct archive_audio *a = NULL;
    int fd = out ? -1 : 1, rc = catalog_open(cli->data_dir, &cat, &err);
    if (!rc)
        rc = review_store_open(cat, &rv, &err);
    if (!rc)
        rc = archive_audio_open(cat, id, &a, &err);
    if (!rc && isatty(1) && !out)
        rc = es_seterr(&err, ES_EINVAL, "not writing audio to a terminal: use --out FILE");
    if (!rc) {
        char detail[64];
        snprintf(detail, sizeof detail, "{\"bytes\":%llu,\"to\":\"%s\"}",
                 (unsigned long long)archive_audio_size(a), out ? "file" : "stdout");
        rc = review_audit(rv, "cli", "audio", id, detail, &err);
        if (!rc)
            review_audit_anchor(rv);
    }
    if (!rc && out && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        rc = es_seterr(&err, -errno, "%s: %s", out, strerror(errno));
    if (!rc)
        rc = archive_audio_copy(a, fd, &err);
    if (out && fd >= 0)
        close(fd);
    if (rc)
        fprintf(stderr, "earshot audio: %s\n", err.msg[0] ? err.msg : es_strerror(rc));
    archive_audio_close(a);
    review_store_close(rv);
    catalog_close(cat);
    return rc ? 1 : 0;
}
