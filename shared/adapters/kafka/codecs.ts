/**
 * kafkajs 2.2.4 decodes gzip record batches itself but refuses zstd ones
 * ("ZSTD compression not implemented"), and a consumer that meets one fails
 * its fetch over and over: a topic an operator set to compression.type=zstd,
 * or records another producer compressed, would stop every subscriber and
 * compacted read. Node's zlib has zstd (since 22.15), so this registers it
 * with kafkajs' codec table, for reading and writing; no dependency. LZ4 and
 * Snappy stay unsupported (no codec in Node): such a topic still fails, with
 * kafkajs' error naming the codec.
 */
import { promisify } from 'node:util';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import kafkajs from 'kafkajs';

const compress = promisify(zstdCompress);
const decompress = promisify(zstdDecompress);

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const zstd: Codec = {
  compress: (encoder) => compress(encoder.buffer),
  decompress: (buffer) => decompress(buffer),
};

(kafkajs.CompressionCodecs as Record<number, () => Codec>)[kafkajs.CompressionTypes.ZSTD] = () => zstd;
