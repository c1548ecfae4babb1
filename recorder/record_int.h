/* Private to recorder/: the pipeline's state. */
#ifndef EARSHOT_RECORD_INT_H
#define EARSHOT_RECORD_INT_H

#include "archive/ingest_int.h"
#include "recorder/recorder.h"

#define REC_MAX_STREAMS 8
#define REC_MAX_DTMF    64

struct rec_stream {
    uint32_t ssrc;
    struct pkt_addr src, dst;
    uint16_t sport, dport;
    uint8_t pt;
    int channel;
    char codec[24];
    struct rtp_stats st;
};

struct rec_dtmf {
    uint32_t ts;
    int channel;
    char digit;
    bool ended;
    int duration_ms;
    int64_t at_us;
};

struct recorder;

/* One call being recorded: a SIP dialog's, or an unknown one made of RTP. */
struct rec_call {
    struct recorder *r;
    struct rec_call *prev_all, *next_all; /* every active call */
    struct sip_call *sip;                 /* borrowed from the dialogs; NULL if unknown */
    int8_t caller_is_customer;            /* -1 until decided from the operators spec */
    struct rec_call *next_unknown;
    struct pkt_addr a, b; /* unknown calls: the address pair */
    uint16_t pa, pb;
    int64_t first_rtp_us, last_rtp_us, first_audio_us;
    int rate;
    struct mixer *mix;
    struct archive_writer *aw;
    struct rtp_decoder *dec[2];
    uint8_t dec_pt[2];
    int nstreams, ndtmf, ncodecs;
    struct rec_stream streams[REC_MAX_STREAMS];
    struct rec_dtmf dtmf[REC_MAX_DTMF];
    char codecs[4][24];
    char undecodable[160]; /* why some audio could not be decoded */
    char error[256];       /* why the recording failed */
    struct archive_call call;
};

struct recorder {
    struct recorder_opts o;
    struct dialogs *dlg;
    struct reasm *frags;
    struct tcp_reasm *tcp;
    struct ingest_session *sess;
    struct catalog *cat;
    struct rec_call *all, *unknown;
    size_t active;
    int64_t last_sweep_us;
    struct recorder_counters counters;
};

void recorder_fill_call(struct rec_call *rc, struct archive_call *k);
bool recorder_caller_is_customer(struct rec_call *rc);
void recorder_finish_call(struct recorder *r, struct rec_call *rc);
void recorder_drain_all(struct recorder *r, int64_t now_us);
/* Hands the rest of a call's audio to its writer (the call is over). */
void recorder_flush_call(struct rec_call *rc);
void recorder_udp(struct recorder *r, const struct pkt *p, int64_t ts_us);
bool recorder_is_sip_port(const struct recorder *r, uint16_t port);
void recorder_sip(struct recorder *r, const struct sip_msg *m, const struct pkt *p, int64_t ts_us);
void recorder_tick(struct recorder *r, int64_t now_us, bool final);
void recorder_release_call(struct rec_call *rc);

#endif
