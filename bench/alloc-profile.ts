/**
 * Preloaded into ingest by `npm run bench:ingest -- --profile DIR`: V8's sampling
 * heap profiler, keeping the samples of objects already collected, so the profile
 * says what each site allocated over the run (the garbage too), not only what is
 * live at the end. Written to EIP_ALLOC_PROFILE_DIR/alloc-<pid>.heapprofile on
 * exit (open it in Chrome DevTools' Memory tab).
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.EIP_ALLOC_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  // The main thread's session answers synchronously, so this completes inside 'exit'.
  process.on('exit', () => {
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
