/*
 * common — the small core every earshot module may use: error codes, logging,
 * capped buffers, string slices, UTC time, time-ordered ids, file-system helpers
 * (durable writes, hashing). Nothing domain-specific lives here.
 */
#ifndef EARSHOT_COMMON_H
#define EARSHOT_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- errors ------------------------------------------------------------
 * Functions return 0 on success, a negative ES_E* code, or -errno for system
 * errors (which never collide: ES_E* start far below any errno). */
enum {
    ES_OK = 0,
    ES_EINVAL = -1000, /* bad argument or usage */
    ES_ENOMEM = -1001,
    ES_ETOOBIG = -1002, /* outside-sized data above its cap */
    ES_EFORMAT = -1003, /* input bytes are not what they claim */
    ES_EEMPTY = -1004,  /* input holds no audio */
    ES_ENOTFOUND = -1005,
    ES_EEXIST = -1006,   /* already there (duplicate) */
    ES_ESCHEMA = -1007,  /* catalog schema newer than this binary */
    ES_EDB = -1008,      /* catalog database error */
    ES_ECODEC = -1009,   /* codec library failure */
    ES_EUNSUPP = -1010,  /* understood but not supported */
    ES_ECORRUPT = -1011, /* stored data failed a check */
    ES_EAGAIN = -1012,   /* incomplete: more bytes needed */
    ES_ESTATE = -1013,   /* not allowed in the current state */
    ES_EBUSY = -1014,    /* locked or in conflict with another writer: try again */
};

const char *es_strerror(int code);

/* An error message for the caller to print once. Lower layers fill it, the
 * layer that handles the error logs it. */
struct es_err {
    char msg[512];
};
int es_seterr(struct es_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- logging: "level component: message key=value ..." on stderr ---------- */
enum es_log_level { ES_LOG_DEBUG, ES_LOG_INFO, ES_LOG_WARN, ES_LOG_ERROR, ES_LOG_QUIET };
void es_log_set_level(enum es_log_level lvl);
enum es_log_level es_log_get_level(void);
void es_log(enum es_log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define ES_DEBUG(c, ...) es_log(ES_LOG_DEBUG, c, __VA_ARGS__)
#define ES_INFO(c, ...)  es_log(ES_LOG_INFO, c, __VA_ARGS__)
#define ES_WARN(c, ...)  es_log(ES_LOG_WARN, c, __VA_ARGS__)
#define ES_ERROR(c, ...) es_log(ES_LOG_ERROR, c, __VA_ARGS__)

/* Masks a phone number or SIP URI for logs: keeps the last two digits. */
void es_redact(const char *in, char *out, size_t outlen);

/* ---- slices and capped buffers ----------------------------------------- */
struct es_str {
    const char *p;
    size_t len;
};

/* A growable buffer that refuses to grow past cap (ES_ETOOBIG). Always NUL
 * terminated when len > 0 so text can be used as a C string. */
struct es_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap;
};
void es_buf_init(struct es_buf *b, size_t cap);
int es_buf_append(struct es_buf *b, const void *p, size_t n);
int es_buf_appendf(struct es_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void es_buf_reset(struct es_buf *b);
void es_buf_free(struct es_buf *b);

/* snprintf that reports truncation as ES_ETOOBIG instead of silently cutting. */
int es_fmt(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- time (UTC, integer milliseconds since the epoch) ------------------- */
int64_t es_now_ms(void);
/* A monotonic clock in microseconds (durations and deadlines, not dates). */
int64_t es_mono_us(void);
struct es_tm {
    int year, mon, day, hour, min, sec, msec; /* mon 1..12, day 1..31 */
};
int64_t es_days_from_civil(int y, int m, int d);
void es_tm_from_ms(int64_t ms, struct es_tm *tm);
int64_t es_ms_from_tm(const struct es_tm *tm);
/* "2026-11-20T14:30:15.000Z"; out must hold ES_ISO_LEN bytes. */
#define ES_ISO_LEN 32
void es_time_iso(int64_t ms, char *out);
/* Accepts YYYY-MM-DD, YYYY-MM-DD[T ]HH:MM[:SS[.fff]] with Z, +HH:MM, -HHMM or
 * nothing (then UTC), and integer seconds or milliseconds since the epoch
 * (values above 1e11 are milliseconds). */
int es_time_parse(const char *s, size_t len, int64_t *out_ms);

/* ---- ids ----------------------------------------------------------------- */
/* UUIDv7 with the given millisecond timestamp, so ids sort by call time. */
#define ES_ID_LEN 37
void es_uuid7(int64_t ms, char *out);
int es_id_valid(const char *s);

/* ---- files --------------------------------------------------------------- */
int es_mkdir_p(const char *path, unsigned mode);
int es_fsync_dir(const char *dir);
/* Directory part of path into out (no trailing slash); "." when none. */
int es_dirname(const char *path, char *out, size_t outlen);
const char *es_basename(const char *path);
/* All of data to fd (retried on EINTR and short writes): 0 or -errno. */
int es_write_all(int fd, const void *data, size_t len);
/* Writes data to path durably: temp in the same dir, fsync, rename, fsync dir. */
int es_write_file_durable(const char *path, const void *data, size_t len);
/* Copies src to dst durably (same steps as above). */
int es_copy_file_durable(const char *src, const char *dst);
int es_sha256_file(const char *path, uint8_t out[32], uint64_t *bytes);
void es_hex(const uint8_t *p, size_t n, char *out); /* out holds 2n+1 */
/* Reads a whole file into a capped buffer. */
int es_read_file(const char *path, size_t cap, struct es_buf *out);

/* ---- local control sockets (one request line, one reply line) ------------- */
/* Listens on a Unix stream socket at path with the given mode. A socket file
 * left by a process that is gone is replaced; one a live process answers on
 * is ES_EEXIST. */
int es_unix_listen(const char *path, unsigned mode, int *fd, struct es_err *err);
/* Sends one line to the socket at path and reads the one-line reply (without
 * its newline) into reply, waiting at most timeout_ms in all. */
int es_unix_call(const char *path, const char *line, char *reply, size_t n, int timeout_ms,
                 struct es_err *err);

/* ---- ZIP archives (entries stored, no ZIP64) -------------------------------- */
struct es_zip;
uint32_t es_crc32(uint32_t crc, const void *p, size_t n);
int es_zip_open(int fd, struct es_zip **out);
/* One whole entry; ES_ETOOBIG past 4 GiB or 65,535 entries. */
int es_zip_add(struct es_zip *z, const char *name, const void *data, size_t n);
/* Writes the central directory and frees z; the first error of any step. */
int es_zip_close(struct es_zip *z);

/* ---- JSON text ------------------------------------------------------------ */
/* Appends s[0..n) as a JSON string: quotes, escapes, control bytes and < > & as
 * \u00XX, invalid UTF-8 replaced by U+FFFD, so the output is always valid JSON. */
int es_json_string(struct es_buf *b, const char *s, size_t n);
/* Appends n strings as one JSON array (ids handed to SQL as one parameter). */
int es_json_id_array(struct es_buf *b, const char *const *ids, size_t n);

/* ---- Prometheus text exposition -------------------------------------------- */
/* es_prom_family once per metric, then its samples; labels are
 * {"key", "value", ..., NULL} or NULL. */
void es_prom_family(struct es_buf *b, const char *name, const char *type, const char *help);
void es_prom_u64(struct es_buf *b, const char *name, const char *const *labels, uint64_t v);
void es_prom_f64(struct es_buf *b, const char *name, const char *const *labels, double v);

/* ---- configuration file ------------------------------------------------ */
struct es_config;
/* known: NULL-terminated list of accepted keys; '*' in one stands for one name
 * ("notify.*.url"). */
int es_config_load(const char *path, const char *const *known, struct es_config **out,
                   struct es_err *err);
const char *es_config_get(const struct es_config *c, const char *key); /* NULL if unset */
void es_config_free(struct es_config *c);

/* What cli/earshot.c hands every command: the data directory, the loaded
 * configuration, and the command's own arguments. */
struct es_cli {
    const char *data_dir;
    const struct es_config *config; /* may be NULL */
    int argc;
    char **argv; /* argv[0] is the command name */
};
/* The keys in file order (for the ones named by a pattern). */
size_t es_config_count(const struct es_config *c);
const char *es_config_key(const struct es_config *c, size_t i);

#define ES_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ES_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define ES_MAX(a, b)    ((a) > (b) ? (a) : (b))

#endif
