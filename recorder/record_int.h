/* Private to recorder/: the pipeline's state. */
#ifndef EARSHOT_RECORD_INT_H
#define EARSHOT_RECORD_INT_H

#include "archive/archive.h"
#include "recorder/recorder.h"

#include <jansson.h>

#define REC_MAX_STREAMS 8
#define REC_SWEEP_US    200000 /* how often ended calls are looked for */
#define REC_MAX_DTMF    64

/* What a stream's payload type means, resolved once per type and SDP. */
enum rec_kind { KIND_NONE, KIND_AUDIO, KIND_DTMF, KIND_CN };

struct rec_stream {
    /* what every packet looks at first, together */
    uint32_t ssrc;
    int16_t cache_pt; /* the last payload type seen and what it resolved to */
    enum rec_kind cache_kind;
    int cache_gen;
    struct rtp_stats st;
    struct pkt_addr src, dst;
    uint16_t sport, dport;
    uint8_t pt;
    int channel;
    /* the same packets as another stream of this call, seen again on other
     * addresses (NAT, a media relay, a mirror port): counted, never mixed */
    int8_t copy_of; /* index of that stream, -1 if this one is original */
    char codec[24];
    struct sdp_rtpmap cache_map;
    /* the recorder's SSRC index (capture thread): streams of active calls */
    struct rec_stream *ssrc_next;
    struct rec_call *owner;
};

struct rec_dtmf {
    uint32_t ts;
    int channel;
    char digit;
    bool ended;
    int duration_ms;
    int64_t at_us;
};

/* A PCI pause: both channels silent and DTMF dropped from from_us to to_us
 * (capture time; to_us 0 while it lasts). */
#define REC_MAX_PAUSES 16
struct rec_pause {
    int64_t from_us, to_us;
    char by[64]; /* "dtmf", or who asked through the control socket */
};

struct recorder;
struct rec_worker;

/* A flow: the packets from one address and port to another. */
struct rec_flow_key {
    uint8_t family;
    uint16_t sport, dport;
    uint8_t src[16], dst[16];
};

/* One call being recorded: a SIP dialog's, or an unknown one made of RTP.
 *
 * The capture thread owns the call until it ends; then the whole struct (and
 * its sip_call) goes to its worker with the FINISH message, and the worker
 * commits and frees it. The fields under "worker" are only ever touched by
 * the worker (decoding, mixing, encoding); the capture thread makes `call`
 * before the first audio message and never touches it afterwards. */
struct rec_call {
    struct recorder *r;
    struct rec_worker *w;                 /* the worker the call is sharded to */
    struct rec_call *prev_all, *next_all; /* capture: every active call */
    struct sip_call *sip;                 /* capture: borrowed from the dialogs; NULL if unknown */
    int8_t caller_is_customer;            /* -1 until decided from the operators spec */
    struct rec_call *next_unknown;
    struct pkt_addr a, b; /* unknown calls: the address pair */
    uint16_t pa, pb;
    int64_t first_rtp_us, last_rtp_us;
    int16_t sent_pt[2];         /* payload type whose codec the worker was last told, -1 none */
    int sent_gen[2];            /* ... and the SDP it came from */
    uint64_t overload_dropped;  /* audio packets the queue had no room for */
    uint64_t stray_rtp_packets; /* short RTP bursts to or from this call's hosts */
    uint64_t t38_packets, video_packets; /* counted, never decoded as audio */
    bool discard;      /* capture: not a call after all (stray, or absorbed): commit nothing */
    bool worker_knows; /* capture: a message about this call went to its worker */
    int nflows;        /* this call's entries in the flow cache */
    struct rec_flow_key flows[REC_MAX_STREAMS];
    int seen_changes[2]; /* SDPs of each side when its flows were cached */
    int nstreams, ndtmf, ncodecs;
    struct rec_stream streams[REC_MAX_STREAMS];
    struct rec_dtmf dtmf[REC_MAX_DTMF];
    char codecs[4][24];
    char undecodable[160]; /* capture: why some audio had no codec */
    /* capture (read by the worker once the call is finished): PCI pauses */
    bool paused;
    int npauses, pauses_unlisted;
    struct rec_pause pauses[REC_MAX_PAUSES];
    bool dtmf_ev_seen[2]; /* the last telephone-event per channel, by its timestamp */
    uint32_t dtmf_ev_ts[2];
    bool dtmf_ev_dropped[2]; /* ... kept out of the markers (a PCI pause) */
    char dtmf_seq[8];        /* the operator's last digits, for the pause sequences */
    /* the catalog row: made with the first audio (the writer's tags need it)
     * or when the call is committed; kept out of line, it is large and cold */
    struct archive_call *call;
    /* worker */
    struct rec_call *prev_w, *next_w; /* calls with an open mixer, per worker */
    int64_t first_audio_us;
    int rate;
    struct mixer *mix;
    struct archive_writer *aw;
    bool journaled; /* its worker's journal has its BEGIN */
    struct rtp_decoder *dec[2];
    struct sdp_rtpmap dec_map[2]; /* codec the capture thread announced per side */
    char decode_error[160];       /* why some audio could not be decoded */
    char error[256];              /* why the recording failed */
};

/* The flow cache (flows.c): a flow's call, side and stream, found in one
 * cache line instead of through the dialogs. */
struct rec_flow;
struct rec_flows;
int rec_flows_new(struct rec_flows **out);
void rec_flows_free(struct rec_flows *fl);
struct rec_flow *rec_flow_find(struct rec_flows *fl, const struct pkt *p);
/* Remembers p's flow for rc (NULL if the cache could not take it). */
struct rec_flow *rec_flow_add(struct rec_flows *fl, const struct pkt *p, struct rec_call *rc,
                              int channel, const struct sdp_media *media, int gen);
struct rec_call *rec_flow_call(const struct rec_flow *f, int *channel,
                               const struct sdp_media **media, int *gen);
int rec_flow_stream(const struct rec_flow *f);
bool rec_flow_is_copy(const struct rec_flow *f);
void rec_flow_set_copy(struct rec_flow *f);
void rec_flow_set_stream(struct rec_flow *f, int stream);
/* Forgets every flow of rc (its SDP changed, it ended, or it goes away). */
void rec_flows_drop(struct rec_flows *fl, struct rec_call *rc);

/* Calls are handed to workers through one bounded single-producer queue per
 * worker; with no workers (recorder_opts.workers < 0) they run inline. */
struct rec_pool;
int rec_pool_new(struct recorder *r, int nworkers, size_t queue_bytes, struct rec_pool **out,
                 struct es_err *err);
/* The worker a new call goes to (round robin). */
struct rec_worker *rec_pool_pick(struct rec_pool *p);
/* The decoder for a side changes (first audio, new payload type or SDP).
 * False if the queue had no room (live capture never waits). */
bool rec_send_codec(struct rec_call *rc, int channel, const struct sdp_rtpmap *map);
/* One audio payload for a side; false if dropped for lack of room. */
bool rec_send_audio(struct rec_call *rc, int channel, const struct rtp_hdr *h, int64_t ts_us,
                    bool silent);
/* The call is over: the worker takes it (and rc->sip), commits and frees it. */
void rec_send_finish(struct rec_call *rc);
/* Source counts for the catalog: a worker commits them and frees v. */
void rec_send_counts(struct rec_pool *p, struct catalog_source_count *v, size_t n);
/* Capture time advances: workers hand out mixed audio older than the latency. */
void rec_pool_clock(struct rec_pool *p, int64_t now_us);
/* Waits until every message sent is handled, then stops the workers. */
void rec_pool_stop(struct rec_pool *p);
/* Adds the workers' counters (calls committed) into c. */
void rec_pool_counters(const struct rec_pool *p, struct recorder_counters *c);
void rec_pool_free(struct rec_pool *p);
/* Frees a call and everything it holds (a writer not committed removes its file). */
void rec_call_destroy(struct rec_call *rc);

struct recorder {
    struct recorder_opts o;
    struct dialogs *dlg;
    struct reasm *frags;
    struct tcp_reasm *tcp;
    struct ingest_session *sess;
    struct catalog *cat;
    struct rec_pool *pool;
    struct rec_flows *flows;
    struct rec_call *all, *unknown;
    struct rec_stream *ssrc_index[4096]; /* streams of active calls by SSRC */
    uint64_t seen_preempted;             /* dialogs_preempted() at the last look */
    uint64_t seen_dropped_full;          /* the dialogs' refused INVITEs at the last look */
    /* an episode of a full call table: warned once, summed up at its end */
    bool full_episode;
    int64_t full_since_us, full_last_us;
    uint64_t full_seen, full_base;
    size_t active;
    int64_t last_sweep_us;
    /* capture time: the newest packet's (or the idle clock's); what a pause
     * by API is timed by, so it falls between the packets it separates even
     * when the capture runs behind the wall clock */
    int64_t clock_us;
    struct rec_sources *src;           /* where refused and untracked INVITEs come from */
    struct recorder_counters counters; /* the capture thread's */
};

/* Refused and untracked INVITEs per source address (sources.c, capture thread). */
struct rec_sources;
int rec_sources_new(struct rec_sources **out);
void rec_sources_free(struct rec_sources *s);
/* An INVITE from a that was not a call: rejected for reason, or untracked (a
 * full table). True if it is to be catalogued as a row (never untracked). */
bool rec_source_attempt(struct recorder *r, const struct pkt_addr *a, int64_t ts_us,
                        const char *reason, bool untracked);
/* Hands the counts not yet catalogued to a worker, once a minute (or now, if final). */
void rec_sources_flush(struct recorder *r, int64_t now_us, bool final);
/* The busiest sources since the start, busiest first. */
size_t rec_sources_top(const struct recorder *r, struct rec_source_top *out, size_t max,
                       uint64_t *nsources, uint64_t *overflow);

void recorder_fill_call(struct rec_call *rc, struct archive_call *k);
/* PCI pauses (pci.c): pause or resume a call at now_us (false: no change);
 * a digit the operator pressed, for the pause and resume sequences; the
 * details' pci_pauses, as offsets from origin_us. */
bool rec_pci_set(struct rec_call *rc, bool pause, const char *by, int64_t now_us);
void rec_pci_digit(struct rec_call *rc, char digit, int64_t ts_us);
json_t *rec_pci_json(const struct rec_call *rc, int64_t origin_us, int64_t end_us);
/* Audit rows for the pauses DTMF made, once the call is committed. */
void recorder_audit_pauses(struct rec_call *rc, struct catalog *cat);
bool recorder_caller_is_customer(struct rec_call *rc);
/* Worker side: commits a finished call (recording or missed-call row). */
enum rec_outcome { OUT_ARCHIVED, OUT_MISSED, OUT_REJECTED, OUT_FAILED, OUT_SKIPPED };
enum rec_outcome recorder_commit_call(struct rec_call *rc, struct catalog *cat);
void recorder_udp(struct recorder *r, const struct pkt *p, int64_t ts_us);
bool recorder_is_sip_port(const struct recorder *r, uint16_t port);
void recorder_sip(struct recorder *r, const struct sip_msg *m, const struct pkt *p, int64_t ts_us);
void recorder_tick(struct recorder *r, int64_t now_us, bool final);
void recorder_sweep(struct recorder *r, int64_t now_us, bool final);

/* ---- health: counters for the alerts and the metrics (health.c) ---- */
struct rec_snapshot {
    struct recorder_counters c;
    uint64_t active, kernel_received, kernel_dropped, if_dropped;
    int64_t at;
};
struct rec_health;
int rec_health_new(const char *source, struct rec_health **out);
void rec_health_update(struct rec_health *h, const struct rec_snapshot *s);
int rec_health_serve(struct rec_health *h, const char *addr_port, struct es_err *err);
void rec_health_free(struct rec_health *h);
char *rec_snapshot_json(const struct rec_snapshot *s);
void rec_snapshot_metrics(const struct rec_snapshot *s, const char *source, struct es_buf *b);

/* ---- the journal of calls in progress (journal.c) ------------------------------ */
struct rec_journal;
/* DIR/calls-INDEX.journal, one per worker. */
int rec_journal_open(const char *dir, int index, struct rec_journal **out, struct es_err *err);
void rec_journal_close(struct rec_journal *j);
/* The call's writer opened (its temp file in the journal's directory). */
void rec_journal_begin(struct rec_journal *j, const struct archive_call *k,
                       const struct archive_writer *aw);
/* The call was committed or dropped: nothing to recover. */
void rec_journal_end(struct rec_journal *j, const char *call_id);
uint64_t rec_journal_bytes(const struct rec_journal *j);
/* Rewriting a journal that grew: begin, rec_journal_begin for every call
 * still in progress, end (the new journal replaces the old in one rename;
 * on failure the old one stays). */
int rec_journal_rewrite_begin(struct rec_journal *j, struct es_err *err);
int rec_journal_rewrite_end(struct rec_journal *j, struct es_err *err);
struct rec_recovery {
    uint64_t recovered; /* archived, marked interrupted */
    uint64_t already;   /* committed before the process died */
    uint64_t empty;     /* no audio had reached the disk */
    uint64_t failed;    /* could not be read back (logged; the files are kept) */
};
/* Archives the calls a dead recorder's journals in dir left in progress.
 * ES_ECORRUPT if any could not be (dir is to be kept). */
int rec_journal_recover(const char *dir, struct ingest_session *s, struct catalog *c,
                        struct rec_recovery *out);

/* ---- the spool (spool.c): an append-only journal of typed records ------------- */
struct spool_writer;
/* Opens (creates, or appends to) a spool file. floor_bytes: free space to leave
 * on its file system (0: no floor). */
int spool_open(const char *path, uint64_t floor_bytes, struct spool_writer **out,
               struct es_err *err);
/* Buffers one record: 0; -ENOSPC below the floor; ES_ETOOBIG past 1 MiB; a write
 * error of a buffer that was full (the record is not taken). */
int spool_append(struct spool_writer *w, uint16_t type, const void *p, size_t n);
/* The same without the floor: for the few small records that must not be
 * lost (a call's end), which the floor leaves room for. */
int spool_append_reserved(struct spool_writer *w, uint16_t type, const void *p, size_t n);
int spool_flush(struct spool_writer *w);              /* to the kernel */
int spool_sync(struct spool_writer *w);               /* flushed and on disk */
uint64_t spool_bytes(const struct spool_writer *w);   /* the file's length, buffer included */
uint64_t spool_flushed(const struct spool_writer *w); /* what a reader can see */
int spool_close(struct spool_writer *w);              /* flushes, not syncs */
struct spool_reader;
int spool_reader_open(const char *path, uint64_t from, struct spool_reader **out,
                      struct es_err *err);
/* The next record (borrowed until the next call): 0; ES_EAGAIN when none is
 * complete yet (the end, or a torn tail); ES_ECORRUPT when the next one fails
 * its check. The reader does not move past a record it did not give. */
int spool_next(struct spool_reader *r, uint16_t *type, const void **p, size_t *n);
uint64_t spool_reader_offset(const struct spool_reader *r);
void spool_reader_close(struct spool_reader *r);

#endif
