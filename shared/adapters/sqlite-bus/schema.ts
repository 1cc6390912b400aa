import type { SqliteDatabase } from '../sqlite/open-database.ts';

/**
 * Tables of the embedded bus. Prefixed with bus_ so the file can be shared
 * with other embedded adapters. bus_partitions keeps each partition's next
 * offset apart from the log so pruning never lets offsets be reused.
 */
const ddl = `
CREATE TABLE IF NOT EXISTS bus_topics (
  topic TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL,
  compacted INTEGER NOT NULL,
  retention_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS bus_partitions (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;

-- A rowid table: values can be large, which WITHOUT ROWID tables handle badly.
CREATE TABLE IF NOT EXISTS bus_log (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  key TEXT,
  value BLOB,
  headers TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, offset)
);

CREATE TABLE IF NOT EXISTS bus_compacted (
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (topic, key)
);

-- next_offset is the first offset the group has not handled (Kafka's committed offset).
CREATE TABLE IF NOT EXISTS bus_offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;

-- One owner per (group, topic), across processes; expires unless renewed.
CREATE TABLE IF NOT EXISTS bus_leases (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic)
) WITHOUT ROWID;
`;

export function migrateBusSchema(db: SqliteDatabase): void {
  db.exec(ddl);
}

export interface TopicRow {
  topic: string;
  partitions: number;
  compacted: number;
  retention_ms: number;
}

export interface LogRow {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
  headers: string;
  timestamp: number;
}

/** All statements prepared once per bus. */
export function prepareStatements(db: SqliteDatabase) {
  return {
    topic: db.prepare<[string], TopicRow>('SELECT topic, partitions, compacted, retention_ms FROM bus_topics WHERE topic = ?'),
    insertTopic: db.prepare<[string, number, number, number]>('INSERT INTO bus_topics (topic, partitions, compacted, retention_ms) VALUES (?, ?, ?, ?)'),
    updateTopic: db.prepare<[number, number, string]>('UPDATE bus_topics SET compacted = ?, retention_ms = ? WHERE topic = ?'),
    prunableTopics: db.prepare<[], TopicRow>('SELECT topic, partitions, compacted, retention_ms FROM bus_topics WHERE retention_ms > 0 AND compacted = 0'),
    insertPartition: db.prepare<[string, number]>('INSERT OR IGNORE INTO bus_partitions (topic, partition, next_offset) VALUES (?, ?, 0)'),
    heads: db.prepare<[string], { partition: number; next_offset: number }>('SELECT partition, next_offset FROM bus_partitions WHERE topic = ? ORDER BY partition'),
    takeOffset: db.prepare<[string, number], { offset: number }>('UPDATE bus_partitions SET next_offset = next_offset + 1 WHERE topic = ? AND partition = ? RETURNING next_offset - 1 AS offset'),
    append: db.prepare<[string, number, number, string | null, Buffer | null, string, number]>(
      'INSERT INTO bus_log (topic, partition, offset, key, value, headers, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    fetch: db.prepare<[string, number, number, number], LogRow>(
      'SELECT partition, offset, key, value, headers, timestamp FROM bus_log WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?',
    ),
    keyedLog: db.prepare<[string], { key: string; value: Buffer | null }>('SELECT key, value FROM bus_log WHERE topic = ? AND key IS NOT NULL ORDER BY partition, offset'),
    upsertKey: db.prepare<[string, string, Buffer]>('INSERT INTO bus_compacted (topic, key, value) VALUES (?, ?, ?) ON CONFLICT (topic, key) DO UPDATE SET value = excluded.value'),
    deleteKey: db.prepare<[string, string]>('DELETE FROM bus_compacted WHERE topic = ? AND key = ?'),
    clearKeys: db.prepare<[string]>('DELETE FROM bus_compacted WHERE topic = ?'),
    compacted: db.prepare<[string], { key: string; value: Buffer }>('SELECT key, value FROM bus_compacted WHERE topic = ?'),
    committed: db.prepare<[string, string], { partition: number; next_offset: number }>('SELECT partition, next_offset FROM bus_offsets WHERE group_id = ? AND topic = ?'),
    commit: db.prepare<[string, string, number, number, number]>(
      'INSERT INTO bus_offsets (group_id, topic, partition, next_offset, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at',
    ),
    minCommitted: db.prepare<[string, number], { next_offset: number | null }>('SELECT MIN(next_offset) AS next_offset FROM bus_offsets WHERE topic = ? AND partition = ?'),
    prune: db.prepare<[string, number, number, number]>('DELETE FROM bus_log WHERE topic = ? AND partition = ? AND offset < ? AND timestamp < ?'),
    lease: db.prepare<[string, string], { owner: string; expires_at: number }>('SELECT owner, expires_at FROM bus_leases WHERE group_id = ? AND topic = ?'),
    // Takes the lease when free, expired, or already ours; changes = 0 means someone else holds it.
    claimLease: db.prepare<[string, string, string, number, number]>(
      'INSERT INTO bus_leases (group_id, topic, owner, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (group_id, topic) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE bus_leases.owner = excluded.owner OR bus_leases.expires_at < ?',
    ),
    renewLease: db.prepare<[number, string, string, string]>('UPDATE bus_leases SET expires_at = ? WHERE group_id = ? AND topic = ? AND owner = ?'),
    releaseLease: db.prepare<[string, string, string]>('DELETE FROM bus_leases WHERE group_id = ? AND topic = ? AND owner = ?'),
  };
}

export type BusStatements = ReturnType<typeof prepareStatements>;
