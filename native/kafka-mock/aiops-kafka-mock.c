/*
 * aiops-kafka-mock: a Kafka-protocol test cluster for the integration tests, built on librdkafka's mock
 * cluster (rdkafka_mock.h). A real Kafka needs a JVM and seconds to minutes to start; the mock starts in
 * milliseconds, speaks the wire protocol kafkajs uses (Metadata, Produce, Fetch, ListOffsets, consumer
 * groups, offset commits) and can inject the faults we want to test against (broker down, latency, error
 * codes, leader moves).
 *
 * Usage:  aiops-kafka-mock [--brokers N] [--topic name:partitions[:replication]]...
 *
 * Protocol on stdio (one line each, stdout flushed after every line so a parent reading a pipe sees it):
 *   stdout:  BOOTSTRAP host:port,host:port,...       once, after the cluster and topics exist
 *   stdin:   broker down ID | broker up ID | broker rtt ID MS
 *            errors APIKEY CNT ERRCODE...             (one code repeated, or CNT codes)
 *            leader TOPIC PARTITION BROKERID
 *            topic create NAME PARTITIONS RF
 *            quit
 *   stdout:  OK ... | ERR reason                      one answer per command line
 * EOF on stdin (the parent died or closed the pipe), SIGTERM or SIGINT → destroy the cluster and exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_ERRS 64

static volatile sig_atomic_t stop_requested = 0;
static int broker_cnt = 3;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void reply(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
}

/* Strict integer parsing: a typo in a test's fault command must fail loudly, not become 0. */
static int parse_long(const char *s, long *out) {
  char *end = NULL;
  if (!s || !*s) return 0;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end) return 0;
  *out = v;
  return 1;
}

static rd_kafka_resp_err_t create_topic(rd_kafka_mock_cluster_t *mc, const char *name, long parts, long rf) {
  /* The mock assigns replicas round-robin over the brokers; more replicas than brokers makes no sense. */
  if (parts < 1 || rf < 1 || rf > broker_cnt) return RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR;
  return rd_kafka_mock_topic_create(mc, name, (int)parts, (int)rf);
}

/* name:partitions[:replication] as given to --topic. */
static int topic_from_spec(rd_kafka_mock_cluster_t *mc, char *spec) {
  char *name = strtok(spec, ":");
  char *p = strtok(NULL, ":");
  char *r = strtok(NULL, ":");
  long parts = 1, rf = broker_cnt < 3 ? broker_cnt : 3;
  if (!name || (p && !parse_long(p, &parts)) || (r && !parse_long(r, &rf))) {
    fprintf(stderr, "aiops-kafka-mock: bad --topic spec (want name:partitions[:replication])\n");
    return 0;
  }
  rd_kafka_resp_err_t err = create_topic(mc, name, parts, rf);
  if (err) {
    fprintf(stderr, "aiops-kafka-mock: topic %s: %s\n", name, rd_kafka_err2str(err));
    return 0;
  }
  return 1;
}

static void answer_err(rd_kafka_resp_err_t err, const char *what) {
  if (err) reply("ERR %s: %s", what, rd_kafka_err2name(err));
  else reply("OK %s", what);
}

/* Returns 0 when the command was `quit`. */
static int handle(rd_kafka_mock_cluster_t *mc, char *line) {
  char *argv[4 + MAX_ERRS];
  int argc = 0;
  for (char *tok = strtok(line, " \t\r\n"); tok && argc < (int)(sizeof argv / sizeof *argv);
       tok = strtok(NULL, " \t\r\n"))
    argv[argc++] = tok;
  if (argc == 0) {
    reply("ERR empty command");
    return 1;
  }
  long a = 0, b = 0, c = 0;
  if (!strcmp(argv[0], "quit")) {
    reply("OK quit");
    return 0;
  }
  if (!strcmp(argv[0], "broker") && argc >= 3 && parse_long(argv[2], &a)) {
    if (!strcmp(argv[1], "down") && argc == 3) answer_err(rd_kafka_mock_broker_set_down(mc, (int32_t)a), "broker down");
    else if (!strcmp(argv[1], "up") && argc == 3) answer_err(rd_kafka_mock_broker_set_up(mc, (int32_t)a), "broker up");
    else if (!strcmp(argv[1], "rtt") && argc == 4 && parse_long(argv[3], &b) && b >= 0)
      answer_err(rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b), "broker rtt");
    else reply("ERR usage: broker down|up ID, broker rtt ID MS");
    return 1;
  }
  if (!strcmp(argv[0], "errors")) {
    /* errors APIKEY CNT CODE...: either one code (applied CNT times) or exactly CNT codes. */
    rd_kafka_resp_err_t errs[MAX_ERRS];
    int ncodes = argc - 3;
    if (argc < 4 || !parse_long(argv[1], &a) || !parse_long(argv[2], &b) || b < 1 || b > MAX_ERRS ||
        (ncodes != 1 && ncodes != b)) {
      reply("ERR usage: errors APIKEY CNT ERRCODE... (1 code, or CNT codes; CNT <= %d)", MAX_ERRS);
      return 1;
    }
    for (long i = 0; i < b; i++) {
      if (!parse_long(argv[3 + (ncodes == 1 ? 0 : i)], &c)) {
        reply("ERR bad error code");
        return 1;
      }
      errs[i] = (rd_kafka_resp_err_t)c;
    }
    rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)b, errs);
    reply("OK errors %ld x%ld", a, b);
    return 1;
  }
  if (!strcmp(argv[0], "leader") && argc == 4 && parse_long(argv[2], &a) && parse_long(argv[3], &b)) {
    answer_err(rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)a, (int32_t)b), "leader");
    return 1;
  }
  if (!strcmp(argv[0], "topic") && argc == 5 && !strcmp(argv[1], "create") && parse_long(argv[3], &a) &&
      parse_long(argv[4], &b)) {
    answer_err(create_topic(mc, argv[2], a, b), "topic create");
    return 1;
  }
  reply("ERR unknown command %s", argv[0]);
  return 1;
}

int main(int argc, char **argv) {
  char errstr[512];
  char *topics[256];
  int ntopics = 0;
  for (int i = 1; i < argc; i++) {
    long n = 0;
    if (!strcmp(argv[i], "--brokers") && i + 1 < argc && parse_long(argv[i + 1], &n) && n >= 1 && n <= 64) {
      broker_cnt = (int)n;
      i++;
    } else if (!strcmp(argv[i], "--topic") && i + 1 < argc && ntopics < 256) {
      topics[ntopics++] = argv[++i];
    } else {
      fprintf(stderr, "usage: %s [--brokers N] [--topic name:partitions[:replication]]...\n", argv[0]);
      return 2;
    }
  }

  /* No SA_RESTART: a signal must interrupt the blocking read on stdin so the loop can see stop_requested. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* A parent that went away must not kill us mid-shutdown with SIGPIPE; write errors end the loop instead. */
  signal(SIGPIPE, SIG_IGN);

  /* The mock cluster needs an rd_kafka_t for its bookkeeping; a producer that never produces is enough. */
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "aiops-kafka-mock: %s\n", errstr);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "aiops-kafka-mock: rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, broker_cnt);
  if (!mc) {
    fprintf(stderr, "aiops-kafka-mock: could not create mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  int rc = 0;
  for (int i = 0; i < ntopics; i++)
    if (!topic_from_spec(mc, topics[i])) rc = 1;

  if (rc == 0) {
    reply("BOOTSTRAP %s", rd_kafka_mock_cluster_bootstraps(mc));
    char line[4096];
    while (!stop_requested) {
      errno = 0;
      if (!fgets(line, sizeof line, stdin)) {
        if (errno == EINTR && !stop_requested && !feof(stdin)) {
          clearerr(stdin);
          continue;
        }
        break; /* EOF or signal */
      }
      if (!handle(mc, line) || ferror(stdout)) break;
    }
  }

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return rc;
}
