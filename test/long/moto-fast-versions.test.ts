import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * Issue 13's bench lists buckets of 220,000 versions and of 100,000 objects, which moto's
 * ListObjectVersions and ListObjectsV2 could not (each sorted the whole bucket on every page). The
 * launcher pages them instead; this holds both to moto's own answers, page by page, on random
 * buckets (test/helpers/moto_listing_equivalence.py).
 */

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', 'helpers', 'moto_listing_equivalence.py');

describe("the launcher's paged ListObjectVersions and ListObjectsV2", () => {
  it.each([1, 2])('answers every page exactly as moto does (seed %i)', async (seed) => {
    // act
    const { stdout } = await run(process.env.DRBOT_PYTHON ?? 'python3', [SCRIPT, String(seed)], { timeout: 120_000 });

    // assess
    const versionPages = Number(/ListObjectVersions equal in (\d+) pages/.exec(stdout)?.[1] ?? 0);
    const objectPages = Number(/ListObjectsV2 equal in (\d+) pages/.exec(stdout)?.[1] ?? 0);
    expect(versionPages).toBeGreaterThan(5000);
    expect(objectPages).toBeGreaterThan(2000);
  }, 150_000);
});
