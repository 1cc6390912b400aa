/**
 * The supported runtime is Node.js 24 LTS (22 still works). Older lines get no
 * security fixes, so a service started on one says so once, loudly, at start.
 */
import type { Logger } from '../observability/logger.ts';

/** Lowest major line that still receives security fixes. */
export const minSupportedNodeMajor = 22;

export function nodeMajor(version: string = process.versions.node): number {
  return Number(version.split('.')[0]);
}

export function warnOnUnsupportedNode(logger: Logger, version: string = process.versions.node): boolean {
  if (nodeMajor(version) >= minSupportedNodeMajor) return false;
  logger.warn({ node: version, supported: `>=${minSupportedNodeMajor} (24 LTS recommended)` }, `Node.js ${version} is past its end of life and gets no security fixes: run on Node.js 24 LTS (bash infra/node/install.sh)`);
  return true;
}
