/*
 * recorder — turns SIP/RTP traffic (a network interface or a pcap file) into
 * calls for the archive. Layers, bottom up: link and IP (packet.c), RTP
 * parsing and RFC 3550 stream statistics (rtp.c), pcap input (pcapin.c).
 * SIP dialogs, codecs and the leg mixer build on these.
 *
 * Parsers take (const uint8_t *p, size_t len), never read past len and hand
 * back slices into the packet: they live as long as the packet buffer.
 */
#ifndef EARSHOT_RECORDER_H
#define EARSHOT_RECORDER_H

#include "archive/archive.h"
#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- link, IP and transport --------------------------------------------- */
enum { PKT_UDP = 17, PKT_TCP = 6 };

struct pkt_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t a[16];  /* IPv4 in the first 4 bytes */
};

struct pkt {
    struct pkt_addr src, dst;
    uint8_t proto; /* PKT_UDP, PKT_TCP, or another IP protocol number */
    uint16_t sport, dport;
    uint16_t vlan; /* outer 802.1Q id, 0 if none */
    /* fragments: the payload is a piece of the IP payload; no ports yet */
    bool fragment;
    uint16_t frag_id;
    uint32_t frag_offset; /* bytes */
    bool frag_more;
    uint32_t tcp_seq;
    uint8_t tcp_flags;
    const uint8_t *payload; /* borrowed: valid while the packet buffer is */
    size_t payload_len;
};

/* Link types we take (libpcap DLT values). */
enum {
    LINK_NULL = 0,
    LINK_ETHERNET = 1,
    LINK_PPP = 9,
    LINK_RAW = 101,
    LINK_LOOP = 108,
    LINK_SLL = 113,
    LINK_SLL2 = 276,
    LINK_IPV4 = 228,
    LINK_IPV6 = 229
};

/* Decodes link, IP and UDP/TCP headers. ES_EUNSUPP for traffic that is not
 * IP (ARP, ...), ES_EFORMAT for a malformed packet. */
int pkt_decode(int linktype, const uint8_t *p, size_t len, struct pkt *out);
/* Parses the UDP/TCP header of a reassembled IP payload into out (whose
 * addresses and proto are already set). */
int pkt_transport(const uint8_t *p, size_t len, struct pkt *out);
/* Same family and address (only the bytes the family uses). */
bool pkt_addr_eq(const struct pkt_addr *a, const struct pkt_addr *b);
/* "192.0.2.1" or "2001:db8::1" */
void pkt_addr_str(const struct pkt_addr *a, char *out, size_t outlen);

/* ---- packet input (libpcap) --------------------------------------------- */
struct pcapin;
struct pcapin_packet {
    int64_t ts_us;       /* capture time, microseconds since the epoch */
    const uint8_t *data; /* borrowed: valid until the next pcapin_next() */
    size_t len;          /* captured bytes */
    size_t wire_len;     /* bytes on the wire */
    int linktype;
};
int pcapin_open_file(const char *path, struct pcapin **out, struct es_err *err);
/* A live interface, with an optional BPF filter and kernel buffer size. */
int pcapin_open_live(const char *iface, const char *filter, int buffer_mb, struct pcapin **out,
                     struct es_err *err);
/* Kernel counters of a live capture (ES_EUNSUPP for files). */
int pcapin_drops(struct pcapin *in, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped);
void pcapin_break(struct pcapin *in); /* from a signal handler: pcapin_next returns 0 */
/* 1 with a packet (len 0 on a live timeout), 0 at the end, < 0 on error. */
int pcapin_next(struct pcapin *in, struct pcapin_packet *pkt, struct es_err *err);
void pcapin_close(struct pcapin *in);

/* ---- SIP ------------------------------------------------------------------ */
#define SIP_MAX_HEADERS 65536 /* bytes of start line and headers */
#define SIP_MAX_BODY    65536
struct sip_msg {
    bool is_request;
    struct es_str method, uri; /* requests */
    int status;                /* responses */
    struct es_str reason;
    struct es_str call_id, from, to, from_tag, to_tag, from_user, to_user;
    uint32_t cseq;
    struct es_str cseq_method, via_branch, contact, user_agent, content_type;
    int session_expires; /* seconds, 0 if absent */
    int64_t content_length;
    struct es_str body;
    size_t skipped; /* leading CRLF keep-alives */
    size_t msg_len; /* bytes this message takes, for stream framing */
};
/* Parses one message at p. stream: bytes from a TCP stream, where a message
 * may be incomplete (ES_EAGAIN: wait for more) and Content-Length is
 * required; otherwise one UDP datagram. Slices point into p. */
int sip_parse(const uint8_t *p, size_t len, bool stream, struct sip_msg *m);
bool sip_str_eq(struct es_str s, const char *lit); /* case-insensitive */
/* Whether a datagram or TCP segment begins like a SIP message (a request line
 * or "SIP/2.0 "): how SIP is found on any port. Cheap; RTP fails at byte 0. */
bool sip_looks_like(const uint8_t *p, size_t len);

/* ---- SDP ------------------------------------------------------------------ */
enum sdp_dir { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };
#define SDP_MAX_FMT   32
#define SDP_MAX_MEDIA 8
struct sdp_rtpmap {
    uint8_t pt;
    char name[24]; /* encoding name as written, e.g. "PCMA", "telephone-event" */
    int clock, channels;
    bool octet_align; /* a=fmtp: octet-align=1 (AMR) */
};
enum sdp_kind { SDP_AUDIO, SDP_VIDEO, SDP_IMAGE, SDP_OTHER };
struct sdp_media {
    bool audio;
    enum sdp_kind kind;
    bool t38;             /* m=image ... udptl t38: fax */
    uint16_t port;        /* 0: stream rejected */
    struct pkt_addr addr; /* media c= or the session's */
    bool has_addr;
    enum sdp_dir dir;
    int nfmt;
    uint8_t fmt[SDP_MAX_FMT];
    int nmap;
    struct sdp_rtpmap map[SDP_MAX_FMT];
};
struct sdp {
    int nmedia;
    struct sdp_media media[SDP_MAX_MEDIA];
};
int sdp_parse(const uint8_t *p, size_t len, struct sdp *out);
/* The rtpmap of pt in m, with static payload types filled in; NULL if unknown. */
const struct sdp_rtpmap *sdp_rtpmap_of(const struct sdp_media *m, uint8_t pt,
                                       struct sdp_rtpmap *scratch);

/* ---- SIP dialogs -> calls ------------------------------------------------- */
enum call_state { CALL_INVITED, CALL_RINGING, CALL_ANSWERED, CALL_ENDED };
enum { CALL_FROM_CALLER = 0, CALL_FROM_CALLEE = 1 };
/* Where one side receives audio, from its latest SDP. */
struct call_media {
    struct call_media *next_in_index; /* private to dialog.c */
    struct sip_call *call;            /* private to dialog.c */
    bool indexed;
    bool valid;
    struct pkt_addr addr;
    uint16_t port;
    enum sdp_dir dir;
    struct sdp_media media;
    int changes; /* SDPs seen: > 1 after a re-INVITE */
};
/* Where one side receives video or T.38 fax: not audio, but the call's. */
struct call_extra {
    struct call_extra *next_in_index; /* private to dialog.c */
    struct sip_call *call;            /* private to dialog.c */
    bool indexed;
    struct pkt_addr addr;
    uint16_t port;
    enum sdp_kind kind; /* SDP_VIDEO or SDP_IMAGE */
};
#define CALL_MAX_VIDEO_CODECS 4
struct sip_call {
    struct sip_call *next; /* private to dialog.c */
    void *ud;              /* the user's per-call state; dialogs never touch it */
    char call_id[256], from_tag[128], to_tag[128];
    char caller[128], callee[128]; /* URI user parts of From and To */
    char caller_ua[128], callee_ua[128];
    struct pkt_addr caller_sig;
    enum call_state state;
    bool cancelled;
    uint32_t invite_cseq;
    int session_expires, final_status;
    int64_t invite_us, ring_us, answer_us, end_us, last_us;
    bool preempted;       /* ended, and another call's SDP took its media address */
    char disposition[16]; /* answered | missed | rejected */
    /* missed: abandoned, busy, no-answer, declined, unavailable, failed:<code>;
     * rejected: challenged, forbidden, not-found, address-incomplete,
     * no-response, refused:<code> */
    char reason[32];
    struct call_media caller_media, callee_media;
    struct call_extra extra[2][2]; /* [caller, callee][video, image] */
    bool t38;                      /* a T.38 fax was offered and accepted */
    /* a re-INVITE's offer waits for its 2xx (a 488 leaves the media as it
     * was); private to dialog.c, freed before the call is handed out */
    char *pending_sdp;
    size_t pending_len;
    uint32_t pending_cseq;
    bool pending_from_caller;
    /* the dialogs' queue of calls the far side never answered (private to
     * dialog.c): the first to give way when the table is full */
    struct sip_call *idle_prev, *idle_next;
    bool in_idle, challenged;
    bool responded;       /* any response to the INVITE came from the far side */
    bool heard;           /* media reached the call */
    int challenge_status; /* 401 or 407 while the last response was a challenge */
    char video[CALL_MAX_VIDEO_CODECS][24];
    int nvideo;
};
/* Which unanswered attempts are `rejected` rather than missed: final codes
 * (300-699) and, with no_response, INVITEs the far side never answered at
 * all. A call that carried media is never rejected. */
struct sip_reject_rule {
    uint64_t codes[7]; /* bit (code - 300) */
    bool no_response;
};
/* 401 and 407 (never retried), 403, 404, 484, no response. */
void sip_reject_rule_default(struct sip_reject_rule *out);
/* "401,403,no-response", "default,488", "" (nothing is rejected). The codes
 * a customer's missed call ends with (480, 486, 487, 600, 603) are refused. */
int sip_reject_rule_parse(const char *spec, struct sip_reject_rule *out, struct es_err *err);
struct dialogs;
int dialogs_new(size_t max_calls, struct dialogs **out);
void dialogs_set_reject_rule(struct dialogs *d, const struct sip_reject_rule *rule);
void dialogs_free(struct dialogs *d);
size_t dialogs_count(const struct dialogs *d);
/* Feeds one SIP message; returns its call (borrowed; valid until taken).
 * With the table full, a new dialog takes the place of the oldest one that
 * never got a response from the far side (or only a 401/407 challenge) and
 * never carried media; with none such, it is dropped. Nothing is silent:
 * dialogs_stats() counts both. */
struct sip_call *dialogs_on_sip(struct dialogs *d, const struct sip_msg *m, const struct pkt *p,
                                int64_t ts_us);
/* Media reached the call: it is being handled, never to be evicted. */
void dialogs_heard(struct dialogs *d, struct sip_call *c);
/* Calls evicted to make room; the caller takes ownership (free() each). */
size_t dialogs_take_evicted(struct dialogs *d, struct sip_call **out, size_t max);
struct dialogs_stats {
    uint64_t dropped_full; /* INVITEs refused: the table full of calls being handled */
    uint64_t evicted;      /* unanswered dialogs that gave way to a newer one */
};
void dialogs_stats(const struct dialogs *d, struct dialogs_stats *out);
/* The call whose side receives media at dst:port; side tells who sent it.
 * A call in progress wins over one that ended but still lingers. */
struct sip_call *dialogs_match_media(struct dialogs *d, const struct pkt_addr *dst, uint16_t port,
                                     int *side);
/* Removes calls that ended and were last heard of (SIP or media) at least
 * linger_us ago (0: at once), or whose media address a
 * newer call's SDP took (and ends answered calls idle for idle_us or past
 * their session expiry, and calls still being set up after three minutes);
 * the caller takes ownership and frees each with free(). Until it is taken
 * an ended call still matches its media, so packets sent just before a BYE
 * that arrive after it are still the call's. Media counts as activity: the
 * user sets last_us when RTP arrives. */
size_t dialogs_take_ended(struct dialogs *d, int64_t now_us, int64_t idle_us, int64_t linger_us,
                          struct sip_call **out, size_t max);
/* The call whose video or T.38 endpoint is dst:port (kind tells which). */
struct sip_call *dialogs_match_extra(struct dialogs *d, const struct pkt_addr *dst, uint16_t port,
                                     enum sdp_kind *kind);
/* Grows each time a lingering call is preempted: a sweep is due at once. */
uint64_t dialogs_preempted(const struct dialogs *d);
/* Ends every call still open (end of a capture file). */
void dialogs_end_all(struct dialogs *d);
/* The missed-call reason for a final status (0: none came). */
const char *sip_missed_reason(int status, bool cancelled, char *buf, size_t buflen);

/* ---- reassembly ------------------------------------------------------------ */
struct reasm;
int reasm_new(struct reasm **out);
void reasm_free(struct reasm *r);
/* Adds a fragment (p->fragment set). ES_EAGAIN until the datagram is whole;
 * then 0 with out describing it (transport parsed) and its bytes in *buf,
 * valid until the next call. */
int reasm_add(struct reasm *r, const struct pkt *p, int64_t ts_us, struct pkt *out, uint8_t **buf);

/* SIP over TCP: messages rebuilt from the segments of each direction. */
struct tcp_reasm;
typedef void (*tcp_msg_fn)(void *ud, const struct sip_msg *m, const struct pkt *p);
int tcp_reasm_new(struct tcp_reasm **out);
void tcp_reasm_free(struct tcp_reasm *t);
/* Feeds one TCP segment; on_msg gets every complete SIP message (borrowed,
 * valid during the call). */
void tcp_reasm_add(struct tcp_reasm *t, const struct pkt *p, int64_t ts_us, tcp_msg_fn on_msg,
                   void *ud);
/* Whether p's direction of a TCP connection is being reassembled as SIP. */
bool tcp_reasm_tracks(struct tcp_reasm *t, const struct pkt *p);

/* ---- RTP ------------------------------------------------------------------ */
struct rtp_hdr {
    uint8_t pt;
    bool marker;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    const uint8_t *payload; /* borrowed, padding removed */
    size_t payload_len;
};
/* A plausible RTP packet (version 2, consistent lengths, not RTCP). */
int rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h);
/* RTP clock of a static payload type, 0 if dynamic or unknown. */
int rtp_static_clock(uint8_t pt);
const char *rtp_static_name(uint8_t pt);

/* ---- codecs ---------------------------------------------------------------- */
/* G.711 to 16-bit linear, bit-exact with ITU-T G.711. */
void g711_decode(bool alaw, const uint8_t *in, size_t n, int16_t *out);

/* AMR / AMR-WB (RFC 4867): a payload into frames in the storage format. */
struct amr_frame {
    uint8_t ft;       /* frame type: a mode, SID, or 15 NO_DATA */
    bool q;           /* quality: the frame is good */
    uint8_t data[64]; /* header byte + speech bits */
    size_t len;
};
#define AMR_MAX_FRAMES 16
/* Frames in the payload (up to max), or -1 for a malformed one. */
int amr_depacketize(const uint8_t *p, size_t len, bool wb, bool octet_aligned,
                    struct amr_frame *out, int max);
/* Speech bits of a frame type, -1 for a reserved one. */
int amr_bits(bool wb, unsigned ft);

/* The name a codec goes by in earshot (details, ls, show): PCMU PCMA G722
 * G729 GSM iLBC opus speex L16 G726-32 G723 AMR AMR-WB ..., from any spelling
 * of its rtpmap name; names it does not know stay as written. */
void rtp_codec_name(const char *name, char *out, size_t outlen);
/* A decoder for one RTP payload format, by its rtpmap (PCMU, PCMA, G722,
 * G729, GSM, iLBC, opus, speex, L16 at any rate and channel count, G726-16/24/
 * 32/40 and AAL2-G726-*, G723, AMR and AMR-WB in both RFC 4867 formats). */
struct rtp_decoder;
int rtp_decoder_new(const struct sdp_rtpmap *map, struct rtp_decoder **out, struct es_err *err);
int rtp_decoder_rate(const struct rtp_decoder *d); /* samples per second it outputs */
const char *rtp_decoder_name(const struct rtp_decoder *d);
/* Decodes one payload into out (mono int16); returns samples, 0 for a payload
 * it could not use, < 0 on an internal error. */
long rtp_decoder_run(struct rtp_decoder *d, const uint8_t *p, size_t len, int16_t *out, size_t cap);
void rtp_decoder_free(struct rtp_decoder *d);

/* The leg mixer: both sides of a call on one stereo timeline at `rate`. */
struct mixer;
struct mixer_stats {
    uint64_t late;       /* packets that came after their audio was handed out */
    uint64_t resyncs;    /* re-anchorings (SSRC change, timestamp jump) */
    uint64_t samples[2]; /* placed per side */
};
/* Receives interleaved stereo float frames; non-zero stops the mixer. */
typedef int (*mixer_emit_fn)(void *ud, const float *pcm, size_t frames);
int mixer_new(int rate, int latency_ms, struct mixer **out);
void mixer_free(struct mixer *m);
/* Places one decoded payload of side (0 customer, 1 operator). */
int mixer_put(struct mixer *m, int side, int64_t arrival_us, uint32_t ssrc, uint16_t seq,
              uint32_t rtp_ts, int rtp_clock, const int16_t *pcm, size_t n, int pcm_rate,
              mixer_emit_fn emit, void *ud);
/* Hands out what is older than the latency at now_us; final: everything. */
int mixer_drain(struct mixer *m, int64_t now_us, bool final, mixer_emit_fn emit, void *ud);
/* Hands out everything, then silence up to arrival time until_us: audio
 * dropped before it reached the mixer still took up its time. */
int mixer_pad_until(struct mixer *m, int64_t until_us, mixer_emit_fn emit, void *ud);
const struct mixer_stats *mixer_stats(const struct mixer *m);
int64_t mixer_position(const struct mixer *m); /* samples handed out */

/* ---- the recorder pipeline ------------------------------------------------ */
struct recorder_opts {
    const char *source_ref; /* capture file or interface, for the catalog */
    const char *operators;  /* "101,102,200-299,10.0.0.0/24" */
    /* SIP is found on any port by its start line; given ports restrict it */
    int sip_ports[8];
    int nsip_ports;
    int rtp_timeout_s;  /* RTP silence that ends a call */
    int linger_ms;      /* after a call ends, its streams' packets still count (default 5000) */
    int min_unknown_ms; /* shorter RTP-only "calls" are stray RTP (default 1000; < 0: none) */
    int latency_ms;     /* reorder window of the leg mixer */
    size_t max_calls;
    bool mask_dtmf, no_audio;
    /* decoding, encoding and committing run on this many worker threads,
     * calls sharded among them (0: one per CPU; < 0: inline, no threads) */
    int workers;
    size_t queue_bytes; /* per worker (0: 16 MiB) */
    /* what a message does when its worker's queue is full: */
    enum rec_overload {
        REC_OVERLOAD_SPILL, /* to the worker's spool file, read back in order (live) */
        REC_OVERLOAD_WAIT,  /* the capture waits: files, where nothing is lost by waiting */
        REC_OVERLOAD_DROP,  /* audio dropped and counted, a call's end never */
    } overload;
    const char *spool_dir; /* where the queues spill (NULL: DATA/spool) */
    uint64_t spool_floor;  /* free bytes the spill leaves on its disk (0: 1 GiB) */
    /* tests and benchmarks: each audio payload costs its worker this much more
     * (a slow disk or CPU, to make the queues fill) */
    int worker_delay_us;
    /* which unanswered attempts are rejected, not missed (NULL: the default) */
    const struct sip_reject_rule *reject;
    /* rejected attempts catalogued as rows per source and minute (and ten
     * times that in all); past it they are only counted per source.
     * 0: 100; REC_REJECTED_ROWS: every one; REC_REJECTED_COUNTS: none */
    int rejected_per_minute;
    /* DTMF sequences the operator presses to pause and resume the recording
     * while a card number is taken (NULL: none), e.g. "*7" and "*8" */
    const char *pci_pause_dtmf, *pci_resume_dtmf;
};
#define REC_REJECTED_ROWS   (-1)
#define REC_REJECTED_COUNTS (-2)
struct rec_source_top {
    char address[64];
    uint64_t attempts, rejected, catalogued, untracked;
};
#define REC_MAX_SIP_PORTS_SEEN 16
struct recorder_counters {
    uint64_t packets, bytes, not_ip, bad_packets, sip_messages, bad_sip, rtp_packets;
    uint64_t stray_rtp_packets;     /* RTP-only bursts too short to be calls */
    uint64_t untracked_rtp_packets; /* RTP of no call while the table was full */
    uint64_t copy_rtp_packets;      /* a call's stream seen again (NAT, relay, mirror) */
    uint16_t sip_ports_seen[REC_MAX_SIP_PORTS_SEEN]; /* where SIP was found, in order */
    int nsip_ports_seen;
    uint64_t calls_archived, calls_missed, calls_failed, calls_skipped;
    /* refused by the PBX before any handling (scanners): every one, and
     * those catalogued as rows (the rest only counted per source) */
    uint64_t calls_rejected, rejected_rows;
    /* calls not tracked: dropped_calls is every one; the reasons beside it */
    uint64_t dropped_calls;
    uint64_t calls_dropped_full; /* the table full of calls being handled */
    uint64_t calls_evicted;      /* unanswered, gave way to a newer dialog */
    uint64_t fragments, tcp_segments;
    uint64_t audio_dropped; /* audio packets the workers' queues had no room for */
    uint64_t queue_waits;   /* times the capture waited for room (files; or a stalled disk) */
    uint64_t queued_bytes, queue_capacity; /* the workers' queues now: in use, in all */
    /* the spill: what the queues had no room for, on disk and read back in order */
    uint64_t spooled_bytes;       /* written to the spool since the start */
    uint64_t spool_backlog_bytes; /* written and not yet handled */
    double spool_backlog_seconds; /* capture time the furthest-behind worker has yet to handle */
    int64_t caught_up_us;         /* when the last spill was read to its end (0: none yet) */
    uint64_t spills;              /* times a queue began to spill */
    uint64_t spool_floor_drops;   /* audio dropped at the spool's floor (also in audio_dropped) */
    uint64_t spool_errors;        /* the spool could not be written or read (logged) */
    /* calls a recorder that stopped mid-call (killed, power cut) left in
     * progress, archived at this one's start, marked interrupted */
    uint64_t interrupted_calls_recovered;
};
struct recorder;
/* Takes an open ingest session (the archive writer's) for the whole run. */
int recorder_new(const struct recorder_opts *o, struct ingest_session *s, struct catalog *c,
                 struct recorder **out, struct es_err *err);
/* One captured packet; ts_us is its capture time. */
void recorder_packet(struct recorder *r, int linktype, const uint8_t *p, size_t len, int64_t ts_us);
/* Time passes without packets (live capture): drains and ends calls. */
void recorder_idle(struct recorder *r, int64_t now_us);
/* Ends every call (end of input, SIGTERM), waits until the workers have
 * committed them, and stops the workers: no packets after this. */
void recorder_finish(struct recorder *r, int64_t now_us);
/* A snapshot of the counters (safe while the workers run). */
void recorder_counters(const struct recorder *r, struct recorder_counters *out);
size_t recorder_active_calls(const struct recorder *r);
void recorder_free(struct recorder *r);
int cmd_record(struct es_cli *cli);

/* ---- PCI: no card number in a recording ------------------------------------
 * While a call is paused both channels are recorded as silence (the call
 * keeps its length, so times stay true) and its DTMF digits are dropped; the
 * call's details list each pause as pci_pauses [{from_ms, to_ms, by}]. A
 * pause left open ends with the call. */
struct rec_pci_result {
    char id[ES_ID_LEN];
    char sip_call_id[256];
    int64_t at_ms; /* into the recording */
    bool changed;  /* false: it was already paused (or not paused) */
};
/* Pauses or resumes the answered calls in progress where extension is the
 * caller or the callee (an operator's phone), or the call with sip_call_id.
 * ES_ENOTFOUND when there is none. Capture thread only. */
int recorder_pci(struct recorder *r, bool pause, const char *extension, const char *sip_call_id,
                 const char *by, int64_t now_us, struct rec_pci_result *out, size_t max, size_t *n,
                 struct es_err *err);
/* One request line of the control socket, {"action": "pause"|"resume",
 * "operator": EXT | "sip_call_id": ID, "by": WHO}, carried out; the reply
 * line ({"ok": true, "calls": [...]} or {"error": "..."}) into out. */
void recorder_control_line(struct recorder *r, const char *line, int64_t now_us, char *out,
                           size_t n);
/* The control socket of a live capture: a thread takes the requests and the
 * capture loop carries them out in rec_control_poll (between packets). */
struct rec_control;
int rec_control_open(const char *path, struct rec_control **out, struct es_err *err);
void rec_control_poll(struct rec_control *c, struct recorder *r);
void rec_control_close(struct rec_control *c);
/* Pauses made by DTMF are audited (pci.pause, pci.resume) when their call is
 * committed, through this hook: the program wires its audit log in. */
typedef void (*recorder_audit_fn)(struct catalog *cat, const char *actor, const char *action,
                                  const char *target, const char *detail_json);
void recorder_set_audit_hook(recorder_audit_fn fn);

/* Duplicates are recognised within this many sequence numbers of the newest. */
#define RTP_SEEN_WINDOW 1024

/* RFC 3550 receiver statistics of one stream, in arrival order, with the
 * same definitions tshark's "rtp,streams" uses, so the two can be compared.
 * The per-packet state comes first and fits in two cache lines; the totals
 * below it are made by rtp_stats_end(). */
struct rtp_stats {
    /* state, touched by every packet */
    uint64_t packets, duplicates, out_of_order;
    bool started;
    uint16_t first_seq, max_seq;
    uint32_t cycles;
    uint32_t last_ts;
    int clock; /* 0: unknown, no jitter */
    double last_arrival_ms;
    double jitter_ms, max_jitter_ms;
    double min_delta_ms, max_delta_ms; /* min: -1 until a regular packet */
    double acc_jitter, acc_delta;      /* sums until mixed_*, then running means */
    double delta_ms, last_nominal_ms, ms_per_tick;
    int tick_clock; /* the clock ms_per_tick is for */
    uint8_t last_pt;
    bool mixed_delta, mixed_jitter;    /* an irregular packet came: running means */
    uint8_t seen[RTP_SEEN_WINDOW / 8]; /* sequence numbers seen, within the window */
    /* totals (rtp_stats_end) */
    int64_t expected;                     /* highest extended seq - first seq + 1 */
    int64_t lost;                         /* expected - packets (negative with duplicates) */
    double mean_jitter_ms, mean_delta_ms; /* tshark's means */
    /* rarely used */
    uint32_t first_ts;
    double first_arrival_ms;
};
void rtp_stats_init(struct rtp_stats *s, int clock);
/* arrival_ms: capture time in milliseconds (any fixed origin); clock: the
 * packet's payload clock (0 when unknown or telephone-event: no jitter). */
void rtp_stats_add(struct rtp_stats *s, const struct rtp_hdr *h, int clock, double arrival_ms);
/* Makes the totals (expected, lost, means) from the state; callable any time. */
void rtp_stats_end(struct rtp_stats *s);

#endif
