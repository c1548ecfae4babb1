/*
 * archive — where every call ends up: one Ogg Opus file under
 * <data>/archive/YYYY/MM/DD/<id>.opus and one catalog row in <data>/catalog.db.
 *
 * The promise: a recording is either fully archived and catalogued, or still where
 * it came from (or in <data>/failed/ with a .reason file) — never lost, never
 * half-written, never duplicated. Only this module writes the recording tables.
 *
 * Pieces: catalog (SQLite schema, migrations, queries), opus writer (own Ogg Opus
 * muxing on libogg), audio sources (libsndfile, libavformat, raw Asterisk formats),
 * analysis (peaks, speech activity), metadata (sidecars, PBX file names), ingest,
 * verify and retention, plus the CLI commands built on them.
 */
#ifndef EARSHOT_ARCHIVE_H
#define EARSHOT_ARCHIVE_H

#include "common/common.h"
#include "common/db.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>

#define ARCHIVE_FIELD_LEN 256 /* longest caller, callee, operator, ... value */

struct catalog; /* opaque; one per thread */

/* A phone number in E.164 (+4930123456): blanks, dashes, dots, slashes and
 * brackets dropped; 00 and a leading + kept as international; a leading 0
 * (a national trunk prefix) replaced by +country_code. Internal extensions
 * (fewer than 7 digits) are left as they are. ES_EINVAL: not a number. */
int archive_e164(const char *in, const char *country_code, char *out, size_t outlen);

/* A call as catalogued. Strings are empty when unknown. */
struct archive_call {
    char id[ES_ID_LEN];
    int64_t started_at; /* UTC ms */
    int64_t ended_at;
    int64_t duration_ms;
    char direction[16]; /* inbound | outbound | internal | unknown */
    char caller[ARCHIVE_FIELD_LEN];
    char callee[ARCHIVE_FIELD_LEN];
    char operator_[ARCHIVE_FIELD_LEN];
    char customer[ARCHIVE_FIELD_LEN];
    char queue[ARCHIVE_FIELD_LEN];
    char external_id[ARCHIVE_FIELD_LEN];
    char source[16];         /* ingest | recorder | api */
    char source_ref[4096];   /* input path(s), ' + ' between legs */
    char source_sha256[65];  /* content hash of the input(s) */
    char meta_sources[1024]; /* JSON object: field -> sidecar|filename|pattern|mtime */
    char disposition[16];    /* answered | missed */
    char reason[128];        /* why missed, or empty */
    char tags[1024];         /* JSON array of strings */
    bool legal_hold;
    int64_t purged_at; /* 0 = audio present */
    /* from the network recorder */
    char sip_call_id[256];
    int64_t ring_ms, talk_ms; /* -1 = unknown */
    char details[16384];      /* JSON object: user_agents, codecs, rtp, dtmf */
};

/* Encryption at rest (sealed.c): sizes of the sealed format and its keys. */
#define ARCHIVE_SEAL_CHUNK  8192 /* plaintext bytes per sealed chunk */
#define ARCHIVE_KEY_ID_LEN  17   /* 16 hex digits */
#define ARCHIVE_WRAPPED_LEN 72   /* nonce, data key, tag */

struct archive_recording {
    char path[512]; /* relative to the data dir */
    char sha256[65];
    int64_t bytes;
    int channels;
    int sample_rate; /* Opus encoder rate */
    int source_rate; /* original input rate */
    int bitrate;     /* target bits per second */
    int64_t duration_ms;
    /* sealed (encrypted at rest): the data key, wrapped, and its master key */
    bool sealed;
    char key_id[ARCHIVE_KEY_ID_LEN];
    uint8_t wrapped[ARCHIVE_WRAPPED_LEN];
};

/* Per-channel speech activity and waveform peaks, computed while encoding. */
#define ANALYSIS_MAX_SILENCES 256
struct archive_channel_stats {
    int64_t talk_ms;
    int64_t longest_silence_ms;
    int nsilences; /* silences of at least 2 s, up to ANALYSIS_MAX_SILENCES */
    int64_t silences[ANALYSIS_MAX_SILENCES][2];
};
struct archive_analysis {
    int channels;
    int bucket_ms; /* one min/max pair per channel per bucket */
    int nbuckets;
    int8_t *peaks; /* nbuckets * channels * 2 (min, max), owned */
    struct archive_channel_stats ch[2];
    int64_t overtalk_ms; /* both channels active (stereo only) */
    double talk_ratio;   /* operator talk / all talk (stereo only), -1 if none */
    float peak;          /* largest absolute sample, for spotting digital silence */
};
void archive_analysis_release(struct archive_analysis *a);

/* ---- catalog ---------------------------------------------------------- */
/* Where every later catalog_open in this process looks: an SQLite file or a
 * PostgreSQL URL (common/db.h); NULL or "" for <data>/catalog.db. The
 * command layer sets it from --catalog, $EARSHOT_CATALOG or the config. */
void catalog_set_target(const char *target);
const char *catalog_target(void); /* NULL when unset */
/* The catalog at target (NULL: <data>/catalog.db) for data_dir's audio. */
int catalog_open_at(const char *data_dir, const char *target, struct catalog **out,
                    struct es_err *err);
int catalog_open(const char *data_dir, struct catalog **out, struct es_err *err);
void catalog_close(struct catalog *c);
int catalog_schema_version(struct catalog *c);
/* id of the call archived from this input hash, ES_ENOTFOUND if none. */
int catalog_find_source(struct catalog *c, const char *sha256_hex, char *id_out);
/* Marks a final path as about to appear (committed at once), so a crash between
 * rename and catalog commit leaves a trail for catalog_recover(). */
int catalog_pending_add(struct catalog *c, const char *relpath, const char *owner);
int catalog_pending_remove(struct catalog *c, const char *relpath);
/* Inserts call, recording and analysis in one transaction and clears the
 * pending mark. ES_EEXIST when the source hash is already archived. */
int catalog_insert_call(struct catalog *c, const struct archive_call *call,
                        const struct archive_recording *rec, const struct archive_analysis *an);
int catalog_record_failure(struct catalog *c, const char *source_path, const char *sha256_hex,
                           const char *reason, const char *failed_path);

/* INVITEs from one address that were not calls: refused by the PBX
 * (disposition rejected) or never tracked (a full call table), counted per
 * UTC day (the day of first_at) so a scanner cannot fill the calls table. */
struct catalog_source_count {
    char address[64];
    uint64_t attempts;         /* every one */
    uint64_t catalogued;       /* of them, rows in calls (disposition rejected) */
    uint64_t untracked;        /* of them, never tracked */
    int64_t first_at, last_at; /* ms since the epoch */
    char last_reason[32];
};
/* Adds to the days' totals, in one transaction. */
int catalog_add_source_counts(struct catalog *c, const struct catalog_source_count *v, size_t n);
/* The busiest sources over the UTC days from..to (YYYY-MM-DD), busiest first. */
int catalog_top_sources(struct catalog *c, const char *from_day, const char *to_day, int limit,
                        int (*cb)(void *ud, const struct catalog_source_count *), void *ud);

/* A call the PBX's logs know (a queue call), joined to the catalog: the call
 * with the same external id (the PBX's uniqueid), else the same caller within
 * 5 s of its start. 1: found, and its empty operator and queue (and unknown
 * ring time) filled, with `source` noted in meta_sources; 2: a missed call
 * nothing recorded, catalogued now (once: joining again finds it); 0: an
 * answered call with no row yet (its recording may come later). */
struct catalog_pbx_call {
    const char *external_id, *caller, *queue, *operator_;
    const char *source;        /* "queue_log" */
    const char *missed_reason; /* NULL: answered */
    int64_t started_at, ended_at;
    int64_t wait_ms; /* until answered or given up; -1 unknown */
};
int catalog_join_pbx_call(struct catalog *c, const struct catalog_pbx_call *p, struct es_err *err);

/* Calls started in [from, to) from one source ("recorder"), oldest first, with
 * the few fields a count needs (borrowed during the callback). */
struct catalog_call_brief {
    int64_t started_at, created_at;
    const char *id, *disposition, *reason, *queue, *caller, *customer, *operator_;
    const char *tags; /* the JSON array */
    const char *direction, *callee;
};
/* source NULL: every source. */
int catalog_briefs(struct catalog *c, int64_t from, int64_t to, const char *source,
                   int (*cb)(void *ud, const struct catalog_call_brief *), void *ud);
/* The calls catalogued after (created_at, id), in that order, at most limit:
 * for modules that follow the catalog as it grows. created_at is strictly
 * increasing in commit order (two calls never share one), so a follower's
 * position never skips a call catalogued after it. */
int catalog_calls_since(struct catalog *c, int64_t created_at, const char *id, int limit,
                        int (*cb)(void *ud, const struct catalog_call_brief *), void *ud);
/* A live recorder's counters (a JSON object), stored each minute under its
 * interface's name: its health, read by the follow-up's alerts and metrics. */
int catalog_recorder_status_put(struct catalog *c, const char *source, int64_t at,
                                const char *counters);
struct catalog_recorder_status {
    const char *source, *counters;
    int64_t at;
};
int catalog_recorder_status_list(struct catalog *c,
                                 int (*cb)(void *ud, const struct catalog_recorder_status *),
                                 void *ud);
/* Inputs that failed (again) after (last_at, id), in that order. */
struct catalog_failure {
    int64_t id, last_at, attempts;
    const char *source_path, *reason, *failed_path;
};
int catalog_failures_since(struct catalog *c, int64_t last_at, int64_t id, int limit,
                           int (*cb)(void *ud, const struct catalog_failure *), void *ud);
/* Every call where an E.164 number is the caller or the callee (stored in any
 * spelling archive_e164 understands, with country_code for national ones),
 * oldest first; through an index on the numbers' last nine digits. */
struct catalog_party_call {
    const char *id, *caller, *callee, *customer, *direction, *disposition, *operator_, *queue;
    int64_t started_at;
    bool has_audio, legal_hold, as_caller, as_callee;
};
int catalog_calls_by_number(struct catalog *c, const char *e164, const char *country_code,
                            int (*cb)(void *ud, const struct catalog_party_call *), void *ud);
/* A data subject's erasure of one call: caller, callee, customer, the source
 * file names and the DTMF digits blanked, the audio marked purged (delete the
 * file after the commit), erased_at set. ES_ESTATE when the call is held. */
int catalog_erase_call(struct catalog *c, const char *id, int64_t at);
/* What the catalog holds, for the metrics. */
struct catalog_totals {
    int64_t answered, missed, rejected, failures, audio_bytes;
};
int catalog_totals(struct catalog *c, struct catalog_totals *t);
/* Answered calls with an operator started in [from, to) (of one operator, or
 * all when NULL), by operator then id: what a review sample is drawn from.
 * cb returns non-zero to stop; that value is returned. */
int catalog_answered_by_operator(struct catalog *c, int64_t from, int64_t to, const char *operator_,
                                 int (*cb)(void *ud, const char *operator_, const char *id,
                                           int64_t started_at),
                                 void *ud);
/* Adds a tag to a call's tags (once). 1 if it was added, 0 if already there. */
int catalog_add_tag(struct catalog *c, const char *id, const char *tag);

/* ---- the call query (call_query.c) -------------------------------------------
 * Calls by their own fields, newest first (started_at, then id, descending),
 * in keyset pages: the call list, the exports, anything that pages through
 * calls. Another module's conditions (a call's evaluation) are applied by
 * that module on the ids a page gives, never by joining its tables here. */
#define CATALOG_QUERY_IDS 1000  /* ids one query may name */
#define CATALOG_QUERY_MAX 10000 /* rows one query may give */
struct catalog_call_query {
    int64_t from, to; /* started_at in [from, to); 0 = open */
    const char *operator_, *direction;
    const char *disposition; /* NULL: any but rejected (refused attempts only when asked) */
    const char *q;           /* the call's id, or part of caller, callee, customer, external id */
    int64_t after_at;        /* keyset: only calls after (after_at, after_id) in this order */
    const char *after_id;    /* NULL: from the newest */
    const char *const *ids; /* only these calls (at most CATALOG_QUERY_IDS, in no order), or NULL */
    size_t n_ids;
    bool with_recording; /* path and sha256 of the recording ("" without audio) */
};
struct catalog_call_row { /* borrowed for the callback */
    const char *id, *direction, *caller, *callee, *operator_, *customer, *disposition, *reason;
    const char *tags; /* the JSON array */
    int64_t started_at, duration_ms;
    bool purged;
    const char *path, *sha256;
};
/* Up to limit rows (1 to CATALOG_QUERY_MAX); cb returns non-zero to stop, and
 * that value is returned. */
int catalog_calls_query(struct catalog *c, const struct catalog_call_query *q, int limit,
                        int (*cb)(void *ud, const struct catalog_call_row *), void *ud);

struct catalog_filter {
    int64_t since, until; /* 0 = open */
    const char *operator_;
    const char *disposition; /* NULL: answered and missed (rejected only when asked) */
    int limit;               /* 0 = all */
};
/* Calls newest first; cb returns non-zero to stop. */
int catalog_list(struct catalog *c, const struct catalog_filter *f,
                 int (*cb)(void *ud, const struct archive_call *, const struct archive_recording *),
                 void *ud);
int catalog_get(struct catalog *c, const char *id, struct archive_call *call,
                struct archive_recording *rec, bool *has_rec);
int catalog_get_analysis(struct catalog *c, const char *id, struct archive_analysis *an);
/* The reason for an error a catalog function returned, for the command that
 * reports it (the catalog itself never logs): for ES_EDB what failed and the
 * database's own words, es_strerror otherwise. Valid until the next call. */
const char *catalog_strerror(struct catalog *c, int rc);
int catalog_set_hold(struct catalog *c, const char *id, bool hold);
int catalog_mark_purged(struct catalog *c, const char *id, int64_t at);
/* Calls started before `before` whose audio is still there and not on hold. */
int catalog_list_expired(struct catalog *c, int64_t before,
                         int (*cb)(void *ud, const char *id, const char *path), void *ud);
/* ---- retention by category (retention.c) ----
 * "tag:b2b 1095d, queue:sales 730d, disposition:missed 90d, evaluated 730d,
 * default 365d": the first rule a call matches gives how long its audio is
 * kept (d, w, y or forever); a call no rule matches is kept. */
#define RETENTION_MAX_RULES 32
enum retention_kind {
    RET_TAG,
    RET_QUEUE,
    RET_DISPOSITION,
    RET_OPERATOR,
    RET_SOURCE,
    RET_EVALUATED,
    RET_DEFAULT
};
struct retention_rule {
    enum retention_kind kind;
    char value[64];
    int64_t keep_ms; /* -1: forever */
    char text[96];   /* as written */
};
struct retention_policy {
    struct retention_rule rules[RETENTION_MAX_RULES];
    int n;
};
int archive_retention_parse(const char *spec, struct retention_policy *p, struct es_err *err);
struct retention_call {
    const char *id, *disposition, *queue, *tags, *operator_, *source, *path;
    int64_t started_at;
    bool legal_hold;
    bool evaluated; /* filled by the caller (the evaluations are not archive's) */
};
/* The index of the first rule the call matches, or -1. */
int archive_retention_match(const struct retention_policy *p, const struct retention_call *c);
/* Every call whose audio is still there, oldest first (borrowed strings). */
int catalog_audio_calls(struct catalog *c, int (*cb)(void *ud, const struct retention_call *),
                        void *ud);
/* Every live recording, for verify. */
int catalog_list_recordings(struct catalog *c,
                            int (*cb)(void *ud, const char *id, const char *path,
                                      const char *sha256, int64_t bytes),
                            void *ud);
/* Is relpath catalogued (or pending)? */
int catalog_has_path(struct catalog *c, const char *relpath);

/* Other modules keep their own tables in the catalog database (evaluations,
 * users, audit): they use the catalog's connection and apply their own numbered
 * migrations, tracked per module in the module_versions table the same way
 * PRAGMA user_version tracks archive's. Never touch the recording tables. */
struct db *catalog_db(struct catalog *c); /* borrowed; lives as long as c */
const char *catalog_data_dir(const struct catalog *c);
/* SQLite's page cache for this connection (bulk imports). */
void catalog_set_cache_mb(struct catalog *c, int mb);
/* Copies every table of an SQLite catalog into dst (whose modules have
 * made their tables): resumable, a batch of rows per transaction; refused
 * if dst holds rows no copy put there. progress (may be NULL) hears of each
 * batch. */
int catalog_copy(struct catalog *src, struct catalog *dst, int batch,
                 void (*progress)(void *ud, const char *table, int64_t rows), void *ud,
                 struct es_err *err);
/* Compares each table of src with dst: row counts and a digest of the rows'
 * values; *differing counts the tables that differ. */
int catalog_compare(struct catalog *src, struct catalog *dst,
                    void (*each)(void *ud, const char *table, int64_t src_rows, int64_t dst_rows,
                                 bool same),
                    void *ud, int *differing, struct es_err *err);

/* steps are SQLite's; pg_steps (may be NULL, or NULL at an index) replace
 * the steps PostgreSQL cannot read as translated by common/db. */
int catalog_migrate_module(struct catalog *c, const char *module, const char *const *steps,
                           const char *const *pg_steps, int nsteps, struct es_err *err);

/* A transaction that nests, for a change and its audit row to commit or fail
 * together: BEGIN IMMEDIATE on a connection with none open, else a savepoint
 * inside the one that is. catalog_tx_end commits (or releases the savepoint)
 * when rc is 0, else rolls back to where catalog_tx_begin was; it returns rc,
 * or the commit's failure. */
int catalog_tx_begin(struct db *db, bool *outer);
int catalog_tx_end(struct db *db, bool outer, int rc);

/* The JSON form used by `ls --json`, `show --json` and the API. New reference. */
json_t *archive_call_json(const struct archive_call *k, const struct archive_recording *r);
json_t *archive_analysis_json(const struct archive_analysis *a);

/* ---- Opus writer ------------------------------------------------------ */
struct opus_writer;
struct opus_writer_opts {
    int rate;                /* 8000, 12000, 16000, 24000 or 48000 */
    int channels;            /* 1 or 2 */
    int source_rate;         /* written to OpusHead as the input rate */
    int bitrate;             /* bits per second */
    int complexity;          /* 0..10, -1 = libopus default */
    const char *const *tags; /* NULL-terminated "KEY=value" list, may be NULL */
    const uint8_t *seal_key; /* 32 bytes: the file is sealed with it (NULL: plain Ogg) */
};
struct opus_writer_stats {
    uint64_t packets;
    uint64_t packet_bytes; /* Opus payload only */
    uint64_t file_bytes;   /* the whole file written (sealed: with header and tags) */
    uint64_t samples;      /* input samples per channel */
    uint8_t sha256[32];    /* of the file bytes written (as stored) */
};
/* Writes to fd (not owned). */
int opus_writer_new(int fd, const struct opus_writer_opts *o, struct opus_writer **out,
                    struct es_err *err);
/* pcm: interleaved float in [-1, 1], frames per channel. */
int opus_writer_write(struct opus_writer *w, const float *pcm, size_t frames);
/* Pads, trims and flushes the last page; fills st. */
int opus_writer_finish(struct opus_writer *w, struct opus_writer_stats *st);
/* What was encoded so far goes to the file now, as whole Ogg pages (a sealed
 * file: its whole chunks; the rest waits for the next one). A process that
 * dies after this loses none of it. */
int opus_writer_checkpoint(struct opus_writer *w);
void opus_writer_free(struct opus_writer *w);
/* Smallest Opus rate >= rate (48000 above). */
int opus_rate_for(int rate);

/* What an Ogg Opus file says about itself (opus_probe). */
struct opus_probe {
    int channels, preskip, input_rate;
    int64_t last_granule, duration_ms;
    uint64_t pages, packets;
    int eos;
    char call_id[ES_ID_LEN], date[ES_ISO_LEN];
    char operator_[ARCHIVE_FIELD_LEN], caller[ARCHIVE_FIELD_LEN], callee[ARCHIVE_FIELD_LEN];
    char rate[8]; /* the rate encoded (EARSHOT_RATE), "" in files older than the tag */
};
/* Checks every page (CRC, sequence, end of stream) and reads the headers. */
int opus_probe(const uint8_t *p, size_t len, struct opus_probe *o, struct es_err *err);

/* ---- audio sources ---------------------------------------------------- */
struct audio_src;
struct audio_info {
    int rate;
    int channels;    /* after downmix: 1 or 2 */
    int64_t frames;  /* -1 if unknown before reading */
    char format[64]; /* container/codec, for messages */
};
/* Opens by extension (raw Asterisk formats) or content (libsndfile, then
 * libavformat). err names the reason on failure. */
int audio_open(const char *path, struct audio_src **out, struct es_err *err);
const struct audio_info *audio_info(const struct audio_src *s);
/* Reads up to frames interleaved float frames; returns frames read, 0 at end,
 * or a negative code with err filled. */
long audio_read(struct audio_src *s, float *pcm, size_t frames, struct es_err *err);
void audio_close(struct audio_src *s);

/* Strict RIFF/WAVE header check over the first len bytes of a file of
 * file_size bytes: ES_ENOTFOUND if not a WAV, ES_EFORMAT with the reason for a
 * truncated file or a header whose fields contradict each other. */
struct wav_facts {
    unsigned format;
    int channels, rate, bits;
    unsigned block_align;
    uint32_t byte_rate;
    size_t data_offset;
    uint32_t data_bytes;
    uint32_t fact_frames; /* from a fact chunk, 0 if none */
    int truncated;
};
int wav_check(const uint8_t *p, size_t len, uint64_t file_size, struct wav_facts *w,
              struct es_err *err);

/* Sample-rate converter (libswresample) for rates Opus cannot take. */
struct resampler;
int resampler_new(int in_rate, int out_rate, int channels, struct resampler **out);
/* Converts in (NULL + 0 to drain) into *out (owned by r, valid until the next
 * call); returns output frames or a negative code. */
long resampler_run(struct resampler *r, const float *in, size_t frames, const float **out);
void resampler_free(struct resampler *r);

/* ---- analysis --------------------------------------------------------- */
struct analyzer;
int analyzer_new(int rate, int channels, int64_t frames_hint, struct analyzer **out);
void analyzer_feed(struct analyzer *a, const float *pcm, size_t frames);
/* Moves the result into out (peaks ownership passes to out). */
int analyzer_finish(struct analyzer *a, struct archive_analysis *out);
void analyzer_free(struct analyzer *a);

/* ---- metadata --------------------------------------------------------- */
enum meta_field {
    META_STARTED_AT,
    META_DIRECTION,
    META_CALLER,
    META_CALLEE,
    META_OPERATOR,
    META_CUSTOMER,
    META_QUEUE,
    META_EXTERNAL_ID,
    META_TAGS,
    META_NFIELDS
};
struct call_meta {
    bool has[META_NFIELDS];
    const char *from[META_NFIELDS]; /* static source names */
    int64_t started_at;
    char direction[16];
    char caller[ARCHIVE_FIELD_LEN], callee[ARCHIVE_FIELD_LEN], operator_[ARCHIVE_FIELD_LEN];
    char customer[ARCHIVE_FIELD_LEN], queue[ARCHIVE_FIELD_LEN];
    char external_id[ARCHIVE_FIELD_LEN];
    char tags[1024]; /* JSON array */
};
extern const char *const meta_field_names[META_NFIELDS];
/* JSON sidecar. Unknown keys are ignored; wrong types are errors. */
int meta_parse_sidecar(const uint8_t *p, size_t len, struct call_meta *m, struct es_err *err);
/* FreePBX/Asterisk "<kind>-<to>-<from>-<YYYYMMDD>-<HHMMSS>-<uniqueid>.<ext>";
 * the time is PBX local time (TZ). ES_ENOTFOUND when the name does not match. */
int meta_parse_freepbx_name(const char *basename, struct call_meta *m);
/* A POSIX extended regex with named groups "(?<field>...)" over the base name. */
struct meta_pattern;
int meta_pattern_new(const char *regex, struct meta_pattern **out, struct es_err *err);
int meta_pattern_match(const struct meta_pattern *p, const char *basename, struct call_meta *m);
void meta_pattern_free(struct meta_pattern *p);
/* Fills fields of dst not yet set from src. */
void meta_merge(struct call_meta *dst, const struct call_meta *src);
/* Writes {"field": "source", ...} for the fields set. */
int meta_sources_json(const struct call_meta *m, char *out, size_t outlen);

/* ---- ingest ----------------------------------------------------------- */
enum ingest_disposition { INGEST_KEEP, INGEST_MOVE, INGEST_DELETE };
struct ingest_opts {
    const char *data_dir;
    enum ingest_disposition disposition; /* applied only after the catalog commit */
    const char *move_to;
    const char *meta_file;            /* --meta: sidecar for every input */
    struct meta_pattern *pattern;     /* borrowed; may be NULL */
    int bitrate_mono, bitrate_stereo; /* bits per second */
    /* highest rate encoded (0: INGEST_MAX_RATE): telephone speech has nothing
     * above 8 kHz worth bits, so a 48 kHz export is encoded at 16 kHz */
    int max_rate;
    int complexity;            /* -1 = libopus default */
    const char *leg_suffix[2]; /* customer-side and operator-side legs */
    const char *source;        /* catalog source name, "ingest" by default */
};
#define INGEST_MAX_RATE 16000
/* The defaults every writer of the archive starts from (16 kb/s mono, 24 kb/s
 * stereo, libopus's complexity, the highest rate, legs "-in"/"-out", inputs
 * kept), for data_dir, catalogued as source. */
struct ingest_opts ingest_opts_default(const char *data_dir, const char *source);
/* One call to archive: a single file, or two MixMonitor legs. */
struct ingest_job {
    const char *path[2];
    int nlegs;
};
enum ingest_status { INGEST_ARCHIVED, INGEST_SKIPPED, INGEST_FAILED };
struct ingest_result {
    enum ingest_status status;
    char id[ES_ID_LEN];
    int64_t duration_ms;
    char path[512]; /* archived file, relative to the data dir */
    char msg[1024]; /* one line: why skipped or failed */
};
/* Per process: takes the writer lock of this process and cleans what crashed
 * writers left behind (temp files, files renamed but never catalogued). */
struct ingest_session;
int ingest_session_open(const struct ingest_opts *o, struct ingest_session **out,
                        struct es_err *err);
void ingest_session_close(struct ingest_session *s);
/* The data directory the session writes into. */
const char *ingest_session_data_dir(const struct ingest_session *s);
/* Archives one job; c is the calling thread's own catalog handle. Never
 * returns with a half-written file or a lost input. */
void ingest_run(struct ingest_session *s, struct catalog *c, const struct ingest_job *job,
                struct ingest_result *res);
/* Expands files and directories (recursively) into jobs, pairing legs. */
struct ingest_plan {
    struct ingest_job *jobs;
    size_t njobs;
    char **paths; /* owned strings the jobs point into */
    size_t npaths;
};
int ingest_plan_build(const struct ingest_opts *o, char **inputs, int ninputs,
                      struct ingest_plan *plan, struct es_err *err);
void ingest_plan_free(struct ingest_plan *plan);

/* ---- the archive writer: samples in, a catalogued recording out -------- */
struct archive_writer;
struct archive_format {
    int rate;            /* an Opus rate: 8000, 12000, 16000, 24000, 48000 */
    int channels;        /* 1, or 2 = customer left, operator right */
    int source_rate;     /* for OpusHead */
    int64_t frames_hint; /* -1 if unknown */
    int bitrate;         /* bits per second; 0: the session's for this channel count */
    /* where the temp file goes (NULL: the session's archive/.tmp); on the
     * data directory's file system */
    const char *tmp_dir;
};
/* call->id and call->started_at must be set (they go into the file's tags). */
int archive_writer_open(struct ingest_session *s, const struct archive_call *call,
                        const struct archive_format *f, struct archive_writer **out,
                        struct es_err *err);
/* Interleaved float samples at f->rate; analysed and encoded together. */
int archive_writer_write(struct archive_writer *w, const float *pcm, size_t frames,
                         struct es_err *err);
/* Ends and fsyncs the file; rec and an stay owned by w. */
int archive_writer_finish(struct archive_writer *w, const struct archive_recording **rec,
                          const struct archive_analysis **an, struct es_err *err);
/* Renames into the dated tree and inserts the rows (sets duration and end).
 * ES_EEXIST if call->source_sha256 is already archived (the file is removed). */
int archive_writer_commit(struct archive_writer *w, struct catalog *c, struct archive_call *call,
                          char *path_out, size_t pathlen, struct es_err *err);
/* Frees; a file not committed is removed. */
void archive_writer_free(struct archive_writer *w);
/* Everything encoded so far into the temp file (opus_writer_checkpoint). */
int archive_writer_checkpoint(struct archive_writer *w, struct es_err *err);

/* A writer's temp file and what it takes to read it back after its process
 * died mid-call: kept in the recorder's journal of calls in progress. */
struct archive_partial {
    char tmp[4400]; /* the temp file */
    int rate, channels, source_rate, bitrate;
    bool sealed;
    char key_id[ARCHIVE_KEY_ID_LEN];
    uint8_t wrapped[ARCHIVE_WRAPPED_LEN];
};
void archive_writer_partial(const struct archive_writer *w, struct archive_partial *out);
/* The audio of a writer cut short (its process killed, the power cut): the
 * temp file up to its last whole page (sealed: chunk) is encoded again and
 * catalogued as call, which the caller has marked as interrupted. The temp
 * file is removed once the call is catalogued, or found catalogued already
 * (ES_EEXIST: the process died after its commit). ES_EEMPTY: no audio
 * survived (the file is removed). */
int archive_recover(struct ingest_session *s, struct catalog *c, const struct archive_partial *p,
                    struct archive_call *call, struct es_err *err);

/* ---- encryption at rest (sealed.c) ----------------------------------------
 * With a keyring set (encryption_key_file), every new recording is sealed:
 * a random data key per recording, the Ogg Opus bytes sealed in chunks of
 * ARCHIVE_SEAL_CHUNK with XChaCha20-Poly1305 (chunk index and last-chunk flag
 * bound in, so chunks cannot be moved or the file cut short unnoticed), the
 * data key wrapped by the current master key in the catalog (audio_keys).
 * Purging or erasing a call deletes its wrapped key: the file is noise. */
struct archive_keyring;
/* A new key file at path (mode 0600); never overwrites one. */
int archive_keys_init(const char *path, struct es_err *err);
int archive_keyring_load(const char *path, struct archive_keyring **out, struct es_err *err);
void archive_keyring_free(struct archive_keyring *kr);
/* The process's keyring, set once at start (NULL: new recordings are plain). */
void archive_keyring_set(struct archive_keyring *kr);
const struct archive_keyring *archive_keyring_get(void);
const char *archive_keyring_current_id(const struct archive_keyring *kr);
bool archive_keyring_has(const struct archive_keyring *kr, const char *id);
/* The ids of the keys, current first; how many. */
int archive_keyring_ids(const struct archive_keyring *kr, char ids[][ARCHIVE_KEY_ID_LEN], int max);
/* Recordings per master key id (and the plain ones, key ""), for `keys status`. */
int archive_keys_usage(struct catalog *c, int (*cb)(void *ud, const char *key_id, int64_t n),
                       void *ud);
/* Every master key the catalog's data keys are wrapped with is in the
 * process's keyring: otherwise a one-line error naming the key and how many
 * recordings need it (ES_ESTATE). Finishes a rotation a crash interrupted. */
int archive_keys_check(struct catalog *c, const char *key_file, struct es_err *err);
/* A new current master key: every data key unwrapped and wrapped again
 * under it in one transaction (the audio is not touched), the key file
 * replaced durably with the new key above the old ones (key_file.new until
 * the catalog has committed). */
int archive_keys_rotate(struct catalog *c, const char *key_file, char new_id[ARCHIVE_KEY_ID_LEN],
                        int64_t *rewrapped, int (*in_tx)(void *ud), void *ud, struct es_err *err);
/* Seals the recordings still plain, one call at a time (each its own
 * transaction: a kill -9 loses at most the one in progress, and a new run
 * goes on from there); the plain files are overwritten and removed. */
int archive_encrypt_existing(struct ingest_session *s, struct catalog *c, int64_t *done,
                             int64_t *left, struct es_err *err);

/* ---- the audio store (store.c) ---------------------------------------------
 * Recordings by their path relative to the data directory, as the catalog
 * names them ("archive/2026/11/30/<id>.opus"). Local directories today; no
 * module outside store.c turns such a name into a file system path, so
 * another store replaces that one file. Paths with ".." or a leading "/" are
 * refused (ES_EINVAL). */
int archive_file_open(struct catalog *c, const char *rel, int *fd, struct es_err *err);
bool archive_file_exists(struct catalog *c, const char *rel);
/* SHA-256 and size of the whole file; -ENOENT when it is missing. */
int archive_file_hash(struct catalog *c, const char *rel, uint8_t sha256[32], uint64_t *bytes);
int archive_file_read(struct catalog *c, const char *rel, size_t max, struct es_buf *out,
                      struct es_err *err);
/* Durable: a finished, fsynced local file renamed to rel, both directories
 * fsynced; on failure nothing is left at rel. */
int archive_file_place(struct catalog *c, const char *tmp_path, const char *rel,
                       struct es_err *err);
int archive_file_move(struct catalog *c, const char *from, const char *to, struct es_err *err);
/* A small file written durably (a quarantine's reason). */
int archive_file_write(struct catalog *c, const char *rel, const void *data, size_t len,
                       struct es_err *err);
/* Removes rel (a missing file is not an error) and fsyncs its directory. */
int archive_file_remove(struct catalog *c, const char *rel, struct es_err *err);
/* Overwrites rel with zeros, then removes it (the unredacted or plain copy). */
int archive_file_destroy(struct catalog *c, const char *rel, struct es_err *err);
/* Calls cb with each entry depth levels below under (names starting with a
 * dot skipped); stops at the first non-zero cb result and returns it. */
int archive_file_list(struct catalog *c, const char *under, int depth,
                      int (*cb)(void *ud, const char *rel), void *ud);

/* A recording's plaintext Ogg Opus bytes, sealed or not. */
struct archive_audio;
int archive_audio_open(struct catalog *c, const char *id, struct archive_audio **out,
                       struct es_err *err);
uint64_t archive_audio_size(const struct archive_audio *a);
bool archive_audio_sealed(const struct archive_audio *a);
/* A plain recording's open file (the caller owns it; -1 if sealed): what a
 * server sends as it is. */
int archive_audio_take_fd(struct archive_audio *a);
/* Up to n bytes at off; only the chunks the range touches are opened.
 * ES_ECORRUPT (with the call and the chunk) if one fails authentication. */
long archive_audio_read(struct archive_audio *a, uint64_t off, void *buf, size_t n,
                        struct es_err *err);
/* Decrypted chunks kept in memory (bytes of them; 0: none, and what was kept
 * is wiped) for the requests that follow: a player seeking back, several
 * listeners of one call. Off unless the program turns it on (serve does). */
int archive_chunk_cache(size_t bytes);
void archive_chunk_cache_stats(uint64_t *hits, uint64_t *misses);
/* Authenticates every chunk (verify; never from the cache). */
int archive_audio_check(struct archive_audio *a, struct es_err *err);
/* Writes the whole plaintext to fd. */
int archive_audio_copy(struct archive_audio *a, int fd, struct es_err *err);
void archive_audio_close(struct archive_audio *a);

/* ---- redaction: a range of a recording made silent for good ------------- */
struct archive_redaction {
    int64_t from_ms, to_ms; /* into the recording; to_ms past its end: to the end */
    const char *by, *reason;
    int64_t at; /* when, ms since the epoch */
};
/* Silences the range on every channel: the recording is decoded, encoded
 * again with the range silent and analysed again (peaks, talk, silences), into
 * a new file in the dated tree (<id>.rN.opus); then in one transaction the
 * catalog's recording (path, hash, size) and analysis are replaced and the
 * call's details gain {from_ms, to_ms, by, at, reason} in `redactions`, and
 * in_tx (may be NULL) adds its own rows (an audit row) — non-zero from it
 * undoes everything. After the commit the old file is overwritten with zeros
 * and removed; a crash before that leaves it marked for the next session to
 * remove. ES_ESTATE under legal hold or with the audio gone; ES_ENOTFOUND for
 * an unknown call; ES_EINVAL for a range outside the recording. */
int archive_redact(struct ingest_session *s, struct catalog *c, const char *id,
                   const struct archive_redaction *r, int (*in_tx)(void *ud), void *ud,
                   struct es_err *err);

/* ---- commands (cli/earshot.c dispatches to these) --------------------- */
int cmd_ingest(struct es_cli *cli);
int cmd_ls(struct es_cli *cli);
int cmd_show(struct es_cli *cli);
int cmd_sources(struct es_cli *cli);
int cmd_verify(struct es_cli *cli);
int cmd_retention(struct es_cli *cli);
int cmd_hold(struct es_cli *cli);
int cmd_unhold(struct es_cli *cli);

#endif
