/** Written beside the profiles: each mode's and path's fixed-rate rounds, as {@link ProfileWindow}s. */
export const PROFILE_WINDOWS = 'windows.json';

/** The parts of a V8 CPU profile (`node --cpu-prof`) this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  /** Microseconds, on the monotonic clock that `process.hrtime` reads too. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based; -1 or absent for V8's pseudo-frames. */
  lineNumber?: number;
}

/** A stretch of a run, on the monotonic clock in microseconds, and the requests answered in it. */
export interface ProfileWindow {
  startUs: number;
  endUs: number;
  requests: number;
}

/**
 * Who a frame's time belongs to: the npm package, node's own module (`node:net`), the
 * service's bundle (`app`), or V8's pseudo-frames (`(garbage collector)`) and native code.
 */
export function ownerOf({ functionName, url }: CallFrame): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1];
  if (url.startsWith('node:')) return url;
  if (url) return 'app';
  return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
}

/**
 * The function a frame runs, under its owner ({@link ownerOf}): `@nestjs/passport canActivate`,
 * or with its line where one file holds a whole app (`app canActivate:1234`).
 */
export function functionOf(frame: CallFrame): string {
  const owner = ownerOf(frame);
  if (!frame.url) return owner;
  const name = frame.functionName || '(anonymous)';
  if (owner !== 'app') return `${owner} ${name}`;
  return frame.lineNumber === undefined || frame.lineNumber < 0
    ? `app ${name}`
    : `app ${name}:${frame.lineNumber + 1}`;
}

/**
 * Self time per request of each owner ({@link ownerOf}), or of what `keyOf` names, over
 * `windows`, idle excluded, in microseconds. A sample's time is the gap to the next one, so
 * it includes any time the process waited for a core: under load, read the shares rather
 * than the absolute figures.
 */
export function selfTimePerRequest(
  profile: CpuProfile,
  windows: readonly ProfileWindow[],
  keyOf: (frame: CallFrame) => string = ownerOf,
): Map<string, number> {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const inWindow = (us: number) => windows.some((w) => us >= w.startUs && us <= w.endUs);
  const totals = new Map<string, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (!inWindow(at)) continue;
    const frame = frames.get(profile.samples[i]);
    if (!frame || frame.functionName === '(idle)') continue;
    const key = keyOf(frame);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const requests = Math.max(
    1,
    windows.reduce((sum, w) => sum + w.requests, 0),
  );
  const perRequest = new Map<string, number>();
  for (const [owner, us] of totals) perRequest.set(owner, us / requests);
  return perRequest;
}

export interface OwnerCost {
  owner: string;
  secureUs: number;
  insecureUs: number;
}

/** Each owner's self time per request in both systems, the largest difference first. */
export function compareSelfTime(
  secure: Map<string, number>,
  insecure: Map<string, number>,
): OwnerCost[] {
  const owners = new Set([...secure.keys(), ...insecure.keys()]);
  return [...owners]
    .map((owner) => ({
      owner,
      secureUs: secure.get(owner) ?? 0,
      insecureUs: insecure.get(owner) ?? 0,
    }))
    .sort((a, b) => b.secureUs - b.insecureUs - (a.secureUs - a.insecureUs));
}
