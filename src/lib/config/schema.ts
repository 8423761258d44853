/**
 * The aiops configuration schema: every field, its default, what it accepts and why it exists.
 * Defaults are the embedded ones (memory bus, chDB store, memory cache) so `aiops up` needs no file.
 * Numbers come from the design documents where they give them.
 */
import { bool, type Infer, int, list, num, oneOf, secret, type Section, str } from './fields.js'
import { consumerSection } from './sections/consumer.js'
import { gatewaySection } from './sections/gateway.js'
import { detectorSection } from './sections/detector.js'
import { loadtestSection } from './sections/loadtest.js'
import { capacitySection } from './sections/capacity.js'
import { routerSection } from './sections/router.js'

export const configSchema = {
  log: {
    level: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const, 'info', 'Lowest level of the JSON log lines written to stderr.'),
  },
  dataDir: str('.aiops', 'Where embedded backends keep their data (chDB files, spools). Relative to the working directory.'),
  telemetry: {
    host: str('127.0.0.1', 'Address of the health/metrics server (/healthz, /readyz, /metrics).'),
    port: int(9464, 'Port of the health/metrics server; 0 picks a free one.', { min: 0, max: 65535 }),
    probeIntervalMs: int(5000, 'How often /readyz re-checks every dependency in the background.', { min: 100 }),
  },
  shutdown: {
    deadlineMs: int(30000, 'After SIGTERM/SIGINT: time to stop intake, flush and close before a forced exit (130).', { min: 0 }),
  },
  bus: {
    backend: oneOf(['memory', 'kafka'] as const, 'memory', 'Message bus between agents: in-process memory, or Kafka.'),
    memory: {
      partitions: int(8, 'Partitions per topic of the in-process bus.', { min: 1, max: 1024 }),
    },
    kafka: {
      brokers: list(['127.0.0.1:9092'], 'Bootstrap brokers, host:port.'),
      clientId: str('aiops', 'Kafka client id (shows in broker logs and quotas).'),
      idempotent: bool(
        true,
        'Idempotent producer. Turn off only for brokers that cannot init one (test mock cluster); one request in flight is then used.',
      ),
      compression: oneOf(['gzip', 'none'] as const, 'gzip', 'Produce compression codec.'),
      compressionLevel: int(
        1,
        'gzip level 1-9 (zlib). 1: ~3x less CPU than 6 for ~20% more bytes on telemetry; the codec is per process (kafkajs keeps one).',
        { min: 1, max: 9 },
      ),
      ssl: bool(false, 'Use TLS to the brokers.'),
      saslMechanism: oneOf(['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const, 'none', 'SASL mechanism.'),
      username: str('', 'SASL user name.'),
      password: secret('', 'SASL password.'),
      requestTimeoutMs: int(30000, 'Per-request timeout to a broker.', { min: 100 }),
    },
    topics: {
      traces: str('aiops.traces', 'Topic for spans (key: tenant + trace id).'),
      metrics: str('aiops.metrics', 'Topic for metric points (key: tenant + series).'),
      logs: str('aiops.logs', 'Topic for log records.'),
      anomalies: str('aiops.anomalies', 'Topic for anomaly records from the detector.'),
      incidents: str('aiops.incidents', 'Topic for incidents from root-cause analysis.'),
      deadLetter: str('aiops.dead-letter', 'Topic for records that could not be decoded or stored, with the reason.'),
      control: str('aiops.control', 'Topic for signals between agents: insert-queue depth (backpressure), ingested ranges (cache invalidation).'),
    },
  },
  store: {
    backend: oneOf(['chdb', 'clickhouse'] as const, 'chdb', 'Telemetry store: embedded ClickHouse (chDB) or a ClickHouse server.'),
    clickhouse: {
      url: str('http://127.0.0.1:8123', 'ClickHouse HTTP endpoint.'),
      username: str('default', 'ClickHouse user.'),
      password: secret('', 'ClickHouse password.'),
      database: str('aiops', 'Database holding the aiops tables.'),
      requestTimeoutMs: int(30000, 'Per-request timeout.', { min: 100 }),
    },
    chdb: {
      path: str('', 'Data directory of the embedded store; empty means <dataDir>/chdb.'),
      database: str('aiops', 'Database holding the aiops tables.'),
    },
  },
  cache: {
    backend: oneOf(['memory', 'redis'] as const, 'memory', 'Query cache: in-process TTL LRU, or Redis.'),
    memory: {
      maxEntries: int(10000, 'Most entries kept by the in-process cache.', { min: 1 }),
      maxBytes: int(64 * 1024 * 1024, 'Most bytes (keys + values) kept by the in-process cache.', { min: 1024 }),
    },
    redis: {
      url: str('redis://127.0.0.1:6379', 'Redis URL (ignored when sentinels are set). A password in it is redacted when printed.'),
      sentinels: list([], 'Sentinels as host:port; when set, the master is found through them.'),
      masterName: str('mymaster', 'Master name known to the sentinels.'),
      password: secret('', 'Redis password (AUTH).'),
      keyPrefix: str('aiops:', 'Prefix of every key, so several deployments can share one Redis.'),
      commandTimeoutMs: int(500, 'A cache slower than this is treated as down (the caller falls back).', { min: 10 }),
    },
  },
  resilience: {
    backpressure: {
      intervalMs: int(10000, 'How often the controller reads bus lag and the store insert queue.', { min: 100 }),
      lagThreshold: int(100000, 'Consumer lag (records) above which the sample rate is cut by 10% per interval.', { min: 1 }),
      insertQueueThreshold: int(50000, 'Store insert-queue depth (rows) above which the sample rate is cut by 20%.', { min: 1 }),
      minRate: num(0.01, 'The sample rate never falls below this (errors and slow events are always kept).', { min: 0.0001, max: 1 }),
    },
  },
  gateway: gatewaySection,
  consumer: consumerSection,
  detector: detectorSection,
  loadtest: loadtestSection,
  capacity: capacitySection,
  router: routerSection,
} satisfies Section

export type AiopsConfig = Infer<typeof configSchema>
