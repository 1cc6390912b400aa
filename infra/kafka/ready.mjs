// Readiness probe for the local broker, run repeatedly by kafka.sh until it
// exits 0: the broker answers a metadata request and a group coordinator is
// available (the first consumer group would otherwise see "coordinator is
// loading"). Uses the project's kafkajs; exit 3 when it is not installed.
// Usage: node ready.mjs <repo dir> <host:port>
import { createRequire } from 'node:module';
import path from 'node:path';

const [repoDir, broker] = process.argv.slice(2);
let Kafka, logLevel;
try {
  ({ Kafka, logLevel } = createRequire(path.join(repoDir, 'package.json'))('kafkajs'));
} catch {
  process.exit(3);
}
const kafka = new Kafka({
  clientId: 'eip-infra-ready',
  brokers: [broker],
  connectionTimeout: 2000,
  requestTimeout: 5000,
  logLevel: logLevel.NOTHING,
  retry: { retries: 4, initialRetryTime: 200, maxRetryTime: 1000 },
});
const admin = kafka.admin();
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  if (cluster.brokers.length < 1 || cluster.controller == null) throw new Error('no broker or controller yet');
  // Finds (and on a fresh cluster creates) the group coordinator.
  await admin.describeGroups(['eip-infra-ready']);
  process.exitCode = 0;
} catch (err) {
  console.error(String(err?.message ?? err));
  process.exitCode = 1;
} finally {
  await admin.disconnect().catch(() => {});
}
