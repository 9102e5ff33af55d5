/**
 * The failover's readiness rules (src/runbooks/failover/readiness.ts), each asserted whole: what
 * `/dr failover` shows before anyone approves, and which backup copy of each image it launches
 * (`sources`). A wrong colour hides a red from the approver; a wrong source launches an old or
 * failed image. failover.test.ts has the rules' broad shape; here every branch, every reason and
 * fact as written, the RPO it takes from each, and the text helpers at their bounds. The reads
 * behind them run on moto in integration/readiness.test.ts (the S3 ones) and failover-runbook.test.ts.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { DrConfig, FailoverRecord } from '../../src/config/schema';
import { SANDBOX_CONFIG } from '../../src/local/sandbox';
import {
  type AmiFacts,
  ageOf,
  type BucketFacts,
  dnsName,
  failoverRegion,
  failoverZone,
  findRecord,
  gradeAmis,
  gradeBucket,
  gradeRecords,
  gradeTable,
  lagText,
  recordValue,
  rpoText,
  type TableFacts,
  worst,
} from '../../src/runbooks/failover/readiness';

const NOW = new Date('2026-12-01T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const cfg: DrConfig = SANDBOX_CONFIG;
const REPLICA = 'spawn-binaries-us-west-2-backup';
const binaries = { name: 'spawn-binaries-us-east-1', replica: { bucket: REPLICA, region: 'us-west-2' } };
const rule = (over: Partial<{ id: string; enabled: boolean; destination: string; rtc: boolean }> = {}) => ({ id: 'r', enabled: true, destination: REPLICA, rtc: true, ...over });

describe('the text helpers', () => {
  it('ageOf: minutes under an hour, hours under two days, then days; never negative', () => {
    // act / assess
    expect([0, 59_999, MIN, 59 * MIN, HOUR - 1, HOUR, 47 * HOUR, 48 * HOUR - 1, 48 * HOUR, 5 * DAY + 3 * HOUR, -5 * MIN].map(ageOf)).toEqual([
      '0 min',
      '0 min',
      '1 min',
      '59 min',
      '59 min',
      '1 h',
      '47 h',
      '47 h',
      '2 d',
      '5 d',
      '0 min',
    ]);
  });

  it('lagText: minutes:seconds under an hour, an age from an hour', () => {
    // act / assess
    expect(lagText(0)).toBe('0:00 min');
    expect(lagText(19 * MIN + 5_000)).toBe('19:05 min');
    expect(lagText(HOUR - 1_000)).toBe('59:59 min');
    expect(lagText(HOUR)).toBe('1 h');
    expect(lagText(3 * DAY)).toBe('3 d');
  });

  it("dnsName: lower case, the root's dot dropped, Route53's \\052 read as *", () => {
    // act / assess
    expect(dnsName('API.Example.com.')).toBe('api.example.com');
    expect(dnsName('api.example.com')).toBe('api.example.com');
    expect(dnsName('\\052.example.com.')).toBe('*.example.com');
    expect(dnsName('a.\\052.\\052.')).toBe('a.*.*');
    expect(dnsName('a.b.')).not.toMatch(/\.$/);
    expect(dnsName('a..')).toBe('a.');
  });

  it('worst: red over amber over green; none is green', () => {
    // act / assess
    expect(worst([])).toBe('green');
    expect(worst(['green', 'green'])).toBe('green');
    expect(worst(['green', 'amber', 'green'])).toBe('amber');
    expect(worst(['amber', 'red', 'amber'])).toBe('red');
    expect(worst(['red', 'green'])).toBe('red');
    expect(worst(['amber', 'green'])).toBe('amber');
  });

  it('rpoText: the largest lag, or unknown; and how many resources have no copy at all', () => {
    // act / assess
    expect(rpoText({ rpoMs: 0, uncovered: [] })).toBe('about 0:00 min');
    expect(rpoText({ rpoMs: 2 * HOUR, uncovered: [] })).toBe('about 2 h');
    expect(rpoText({ uncovered: [] })).toBe('unknown (no replication evidence)');
    expect(rpoText({ rpoMs: 5 * MIN, uncovered: ['spawn-logs'] })).toBe('about 5:00 min; unbounded for 1 resource with no copy in the target');
    expect(rpoText({ uncovered: ['a', 'b'] })).toBe('unknown (no replication evidence); unbounded for 2 resources with no copy in the target');
  });
});

describe('where a failover goes', () => {
  it("the failover section's region, else the backup region; its zone, else Route53's, without /hostedzone/", () => {
    // prepare
    const base: DrConfig = { ...cfg, failover: undefined, route53: undefined };

    // act / assess
    expect(failoverRegion(base)).toBe('us-west-2');
    expect(failoverRegion({ ...base, failover: { ...cfg.failover!, region: 'eu-west-1' } })).toBe('eu-west-1');
    expect(failoverZone(base)).toBeUndefined();
    expect(failoverZone({ ...base, route53: { hostedZoneId: '/hostedzone/Z1' } })).toBe('Z1');
    expect(failoverZone({ ...base, route53: { hostedZoneId: 'Z1' }, failover: { ...cfg.failover!, dns: { hostedZoneId: '/hostedzone/Z2', records: [] } } })).toBe('Z2');
    expect(failoverZone({ ...base, failover: { ...cfg.failover!, dns: { records: [] } }, route53: { hostedZoneId: 'Z3' } })).toBe('Z3');
  });
});

describe('a bucket', () => {
  const facts = (over: Partial<BucketFacts> = {}): BucketFacts => ({
    bucket: binaries,
    inTarget: false,
    replica: { exists: true, newest: ago(MIN) },
    primary: { ok: true, value: { rule: rule(), newest: ago(MIN) } },
    ...over,
  });
  const grade = (over: Partial<BucketFacts> = {}) => gradeBucket(facts(over), cfg, 'us-west-2', NOW);

  it('in the target region itself: green, RPO 0, nothing else asked', () => {
    // act / assess
    expect(gradeBucket(facts({ inTarget: true, replica: undefined, primary: { ok: false, reason: 'not asked' } }), cfg, 'us-west-2', NOW)).toEqual({ kind: 's3', name: binaries.name, colour: 'green', reasons: [], facts: ['lives in us-west-2'], rpoMs: 0 });
  });

  it('no replica configured: red, no RPO', () => {
    // act / assess
    expect(gradeBucket(facts({ bucket: { name: 'spawn-logs' } }), cfg, 'us-west-2', NOW)).toEqual({ kind: 's3', name: 'spawn-logs', colour: 'red', reasons: ['no replica: its objects are not in us-west-2'], facts: [] });
  });

  it('replica with the newest primary object, RTC on: green, every fact, RPO 0', () => {
    // act / assess
    expect(grade()).toEqual({ kind: 's3', name: binaries.name, colour: 'green', reasons: [], facts: [`replica \`${REPLICA}\`, newest object 1 min ago`, 'RTC on', 'replica has the newest primary object'], rpoMs: 0 });
  });

  it('a replica in another region than the target: amber, said, the rest still graded', () => {
    // act
    const it = gradeBucket(facts({ bucket: { ...binaries, replica: { bucket: REPLICA, region: 'eu-west-1' } } }), cfg, 'us-west-2', NOW);

    // assess
    expect(it.colour).toBe('amber');
    expect(it.reasons).toEqual([`replica \`${REPLICA}\` is in eu-west-1, not us-west-2`]);
    expect(it.facts).toEqual([`replica \`${REPLICA}\`, newest object 1 min ago`, 'RTC on', 'replica has the newest primary object']);
  });

  it("the replica unreadable: red with AWS's error; missing: red; empty: a fact", () => {
    // act / assess
    expect(grade({ replica: { exists: true, error: 'ListObjectsV2 on `x` failed: Access Denied' } })).toMatchObject({ colour: 'red', reasons: ['ListObjectsV2 on `x` failed: Access Denied'] });
    expect(grade({ replica: { exists: false } })).toMatchObject({ colour: 'red', reasons: [`replica \`${REPLICA}\` does not exist`] });
    expect(grade({ replica: undefined })).toMatchObject({ colour: 'red', reasons: [`replica \`${REPLICA}\` does not exist`] });
    const empty = grade({ replica: { exists: true } });
    expect(empty.facts[0]).toBe(`replica \`${REPLICA}\`, empty`);
  });

  it('the replica unreadable, the primary read with an old newest object and no metric: no lag claimed and no RPO, only the error', () => {
    // act: the replica's listing refused, so its newest object is unknown (not "empty")
    const it = grade({ replica: { exists: true, error: 'ListObjectsV2 on `x` failed: Access Denied' }, primary: { ok: true, value: { rule: rule(), newest: ago(2 * HOUR) } } });

    // assess: the row as a whole; an unread replica is not "2 h behind", and its RPO is not known
    expect(it).toEqual({ kind: 's3', name: binaries.name, colour: 'red', reasons: ['ListObjectsV2 on `x` failed: Access Denied'], facts: ['RTC on'] });
  });

  it('the primary unreachable: amber, replication health unknown, no RPO; a red before it stays red', () => {
    // act / assess
    expect(grade({ primary: { ok: false, reason: 'TimeoutError' } })).toEqual({
      kind: 's3',
      name: binaries.name,
      colour: 'amber',
      reasons: ['primary unreachable: replication health unknown'],
      facts: [`replica \`${REPLICA}\`, newest object 1 min ago`],
    });
    expect(grade({ primary: { ok: false, reason: 'TimeoutError' }, replica: { exists: false } })).toMatchObject({
      colour: 'red',
      reasons: [`replica \`${REPLICA}\` does not exist`, 'primary unreachable: replication health unknown'],
    });
  });

  it('the rule: none or disabled red, to another bucket red, without RTC amber', () => {
    // act / assess
    expect(grade({ primary: { ok: true, value: {} } }).reasons).toEqual(['no enabled replication rule']);
    expect(grade({ primary: { ok: true, value: { rule: rule({ enabled: false }), newest: ago(MIN) } } })).toMatchObject({ colour: 'red', reasons: ['no enabled replication rule'] });
    expect(grade({ primary: { ok: true, value: { rule: rule({ destination: 'elsewhere' }), newest: ago(MIN) } } })).toMatchObject({ colour: 'red', reasons: ['replicates to `elsewhere`, not the configured replica'] });
    const noRtc = grade({ primary: { ok: true, value: { rule: rule({ rtc: false }), newest: ago(MIN) } } });
    expect(noRtc).toMatchObject({ colour: 'amber', reasons: ['replication without RTC: no 15-minute guarantee'] });
    expect(noRtc.facts).not.toContain('RTC on');
  });

  it("CloudWatch's latency, when there is one, is the lag (over the objects' dates); over the RPO objective it is amber", () => {
    // act
    const fine = grade({ latencySeconds: 30, primary: { ok: true, value: { rule: rule(), newest: ago(0) } }, replica: { exists: true, newest: ago(HOUR) } });
    const slow = grade({ latencySeconds: 6 * 60 });
    const zero = grade({ latencySeconds: 0 });

    // assess
    expect(fine).toMatchObject({ colour: 'green', rpoMs: 30_000, reasons: [] });
    expect(fine.facts).toContain('replication latency 0:30 min (max, last hour)');
    expect(slow).toMatchObject({ colour: 'amber', rpoMs: 360_000, reasons: ['replication lag 6:00 min exceeds the RPO objective of 5 min'] });
    expect(zero).toMatchObject({ colour: 'green', rpoMs: 0 });
  });

  it("CloudWatch's latency of a rule that is disabled or replicates elsewhere is not this replica's lag: the objects' dates are", () => {
    // act: 30 s of latency measured for the rule's destination, the replica 20 min behind by its objects
    const dates = { replica: { exists: true, newest: ago(21 * MIN) }, latencySeconds: 30 };
    const elsewhere = grade({ ...dates, primary: { ok: true, value: { rule: rule({ destination: 'elsewhere' }), newest: ago(MIN) } } });
    const disabled = grade({ ...dates, primary: { ok: true, value: { rule: rule({ enabled: false }), newest: ago(MIN) } } });

    // assess: no latency fact, the lag from the dates
    for (const row of [elsewhere, disabled]) {
      expect(row).toMatchObject({ colour: 'red', rpoMs: 20 * MIN });
      expect(row.facts).toEqual([`replica \`${REPLICA}\`, newest object 21 min ago`, 'replica 20:00 min behind the newest primary object']);
    }
    expect(elsewhere.reasons).toEqual(['replicates to `elsewhere`, not the configured replica', 'replication lag 20:00 min exceeds the RPO objective of 5 min']);
    expect(disabled.reasons).toEqual(['no enabled replication rule', 'replication lag 20:00 min exceeds the RPO objective of 5 min']);
  });

  it("without a metric: the primary's newest object against the replica's; exactly at the objective is still green", () => {
    // act
    const behind = grade({ replica: { exists: true, newest: ago(20 * MIN) }, primary: { ok: true, value: { rule: rule(), newest: ago(MIN) } } });
    const atObjective = grade({ replica: { exists: true, newest: ago(6 * MIN) }, primary: { ok: true, value: { rule: rule(), newest: ago(MIN) } } });
    const ahead = grade({ replica: { exists: true, newest: ago(0) }, primary: { ok: true, value: { rule: rule(), newest: ago(MIN) } } });

    // assess
    expect(behind).toMatchObject({ colour: 'amber', rpoMs: 19 * MIN, reasons: ['replication lag 19:00 min exceeds the RPO objective of 5 min'] });
    expect(behind.facts).toContain('replica 19:00 min behind the newest primary object');
    expect(atObjective).toMatchObject({ colour: 'green', rpoMs: 5 * MIN, reasons: [] });
    expect(ahead).toMatchObject({ colour: 'green', rpoMs: 0 });
    expect(ahead.facts).toContain('replica has the newest primary object');
  });

  it("an empty replica of a primary that has objects: behind by the primary's newest object's age", () => {
    // act
    const it = grade({ replica: { exists: true }, primary: { ok: true, value: { rule: rule(), newest: ago(2 * HOUR) } } });

    // assess
    expect(it).toMatchObject({ colour: 'amber', rpoMs: 2 * HOUR, reasons: ['replication lag 2 h exceeds the RPO objective of 5 min'] });
    expect(it.facts).toEqual([`replica \`${REPLICA}\`, empty`, 'RTC on', 'replica 2 h behind the newest primary object']);
  });

  it('no metric and no primary object, or no replica to compare: no lag claimed, no RPO', () => {
    // act / assess
    const none = grade({ primary: { ok: true, value: { rule: rule() } } });
    expect(none).toEqual({ kind: 's3', name: binaries.name, colour: 'green', reasons: [], facts: [`replica \`${REPLICA}\`, newest object 1 min ago`, 'RTC on'] });
    const gone = grade({ replica: { exists: false } });
    expect(gone).not.toHaveProperty('rpoMs');
    expect(gone.facts).toEqual(['RTC on']);
  });
});

describe('a table', () => {
  const t = (over: Partial<TableFacts> = {}): TableFacts => ({ table: { name: 'spawn-instances' }, target: {}, primary: { ok: true, value: {} }, ...over });

  it('ACTIVE in the target: green, RPO 0, its item count when known', () => {
    // act / assess
    expect(gradeTable(t({ target: { status: 'ACTIVE', items: 0 } }), 'us-west-2', NOW)).toEqual({ kind: 'dynamodb', name: 'spawn-instances', colour: 'green', reasons: [], facts: ['replica in us-west-2 ACTIVE, about 0 items'], rpoMs: 0 });
    expect(gradeTable(t({ target: { status: 'ACTIVE' } }), 'us-west-2', NOW).facts).toEqual(['replica in us-west-2 ACTIVE']);
  });

  it("the target's own status over the primary's view; the primary's view when the target has none", () => {
    // act / assess
    expect(gradeTable(t({ target: { status: 'UPDATING' }, primary: { ok: true, value: { replicaStatus: 'ACTIVE' } } }), 'us-west-2', NOW)).toEqual({
      kind: 'dynamodb',
      name: 'spawn-instances',
      colour: 'amber',
      reasons: ['replica in us-west-2 is UPDATING'],
      facts: [],
    });
    expect(gradeTable(t({ primary: { ok: true, value: { replicaStatus: 'ACTIVE' } } }), 'us-west-2', NOW)).toMatchObject({ colour: 'green', rpoMs: 0 });
    expect(gradeTable(t({ primary: { ok: true, value: { replicaStatus: 'CREATING' } } }), 'us-west-2', NOW)).toMatchObject({ colour: 'amber', reasons: ['replica in us-west-2 is CREATING'] });
  });

  it("the target unreadable: red with AWS's error, whatever the primary says", () => {
    // act / assess
    expect(gradeTable(t({ target: { error: 'DescribeTable on `spawn-instances in us-west-2` failed: denied' }, primary: { ok: true, value: { replicaStatus: 'ACTIVE' } } }), 'us-west-2', NOW)).toEqual({
      kind: 'dynamodb',
      name: 'spawn-instances',
      colour: 'red',
      reasons: ['DescribeTable on `spawn-instances in us-west-2` failed: denied'],
      facts: [],
    });
  });

  it('no replica, a backup there: amber, the backup named with its age, the RPO that age', () => {
    // act / assess
    expect(gradeTable(t({ backup: { name: 'spawn-instances-daily', created: ago(3 * HOUR) } }), 'us-west-2', NOW)).toEqual({
      kind: 'dynamodb',
      name: 'spawn-instances',
      colour: 'amber',
      reasons: ['no replica in us-west-2; newest backup there `spawn-instances-daily` is 3 h old (restore it)'],
      facts: [],
      rpoMs: 3 * HOUR,
    });
  });

  it("the target's backups unreadable: red with the error, not \"no backup\"; a replica there needs no backup", () => {
    // act / assess
    const err = 'ListBackups on `spawn-instances in us-west-2` failed: denied';
    expect(gradeTable(t({ backupError: err }), 'us-west-2', NOW)).toEqual({ kind: 'dynamodb', name: 'spawn-instances', colour: 'red', reasons: [`no replica in us-west-2, and its backups there could not be read: ${err}`], facts: [] });
    expect(gradeTable(t({ backupError: err, target: { status: 'ACTIVE' } }), 'us-west-2', NOW)).toEqual({ kind: 'dynamodb', name: 'spawn-instances', colour: 'green', reasons: [], facts: ['replica in us-west-2 ACTIVE'], rpoMs: 0 });
  });

  it('neither: red; the primary unreachable is a fact beside any colour', () => {
    // act / assess
    expect(gradeTable(t({ primary: { ok: false, reason: 'down' } }), 'us-west-2', NOW)).toEqual({ kind: 'dynamodb', name: 'spawn-instances', colour: 'red', reasons: ['no replica and no backup in us-west-2'], facts: ['primary unreachable'] });
    expect(gradeTable(t({ target: { status: 'ACTIVE' }, primary: { ok: false, reason: 'down' } }), 'us-west-2', NOW).facts).toEqual(['replica in us-west-2 ACTIVE', 'primary unreachable']);
  });
});

describe('the images and what is launched', () => {
  type Copy = AmiFacts['copies'][number];
  const copy = (sourceId: string, id: string, state: string, created?: string, name = `img-backup-20261201`): Copy => ({ sourceId, id, name, state, ...(created ? { created } : {}) });
  const up = (...images: [string, string][]): AmiFacts['sources'] => ({ ok: true, value: images.map(([id, name]) => ({ id, name })) });

  it('the newest available copy of each image is its source; pending, failed and older copies are not', () => {
    // prepare
    const copies = [
      copy('ami-a', 'ami-old', 'available', ago(3 * DAY)),
      copy('ami-a', 'ami-new', 'available', ago(DAY)),
      copy('ami-a', 'ami-pending', 'pending', ago(HOUR)),
      copy('ami-a', 'ami-failed', 'failed', ago(MIN)),
      copy('ami-b', 'ami-b1', 'available', ago(2 * DAY)),
    ];

    // act
    const g = gradeAmis({ copies, sources: up(['ami-a', 'worker'], ['ami-b', 'controller']) }, cfg, 'us-west-2', NOW);

    // assess
    expect(g.sources).toEqual([
      { sourceId: 'ami-b', name: 'controller', copyId: 'ami-b1', created: ago(2 * DAY) },
      { sourceId: 'ami-a', name: 'worker', copyId: 'ami-new', created: ago(DAY) },
    ]);
    expect(g.items).toEqual([
      { kind: 'ami', name: 'controller (ami-b)', colour: 'green', reasons: [], facts: ['copy `ami-b1`, 2 d old'] },
      { kind: 'ami', name: 'worker (ami-a)', colour: 'green', reasons: [], facts: ['copy `ami-new`, 24 h old'] },
    ]);
  });

  it("a copy of another image is not this image's, whatever its date", () => {
    // act
    const g = gradeAmis({ copies: [copy('ami-b', 'ami-b-new', 'available', ago(MIN)), copy('ami-a', 'ami-a-old', 'available', ago(2 * DAY))], sources: up(['ami-a', 'worker']) }, cfg, 'us-west-2', NOW);

    // assess
    expect(g.sources.map((s) => [s.sourceId, s.copyId])).toEqual([['ami-a', 'ami-a-old']]);
  });

  it('the newest copy older than amiBackupDays: amber, still launched; exactly that old: green', () => {
    // act
    const old = gradeAmis({ copies: [copy('ami-a', 'ami-1', 'available', ago(7 * DAY + MIN))], sources: up(['ami-a', 'worker']) }, cfg, 'us-west-2', NOW);
    const edge = gradeAmis({ copies: [copy('ami-a', 'ami-1', 'available', ago(7 * DAY))], sources: up(['ami-a', 'worker']) }, cfg, 'us-west-2', NOW);

    // assess
    expect(old.items).toEqual([{ kind: 'ami', name: 'worker (ami-a)', colour: 'amber', reasons: ['newest copy `ami-1`, 7 d old: older than 7 d'], facts: [] }]);
    expect(old.sources).toHaveLength(1);
    expect(edge.items[0]).toMatchObject({ colour: 'green', facts: ['copy `ami-1`, 7 d old'] });
  });

  it('a copy without a creation date: launched when it is the only one, no age claimed; beside dated ones, the newest dated one', () => {
    // act
    const alone = gradeAmis({ copies: [copy('ami-a', 'ami-undated', 'available')], sources: up(['ami-a', 'worker']) }, cfg, 'us-west-2', NOW);

    // assess
    expect(alone.items).toEqual([{ kind: 'ami', name: 'worker (ami-a)', colour: 'green', reasons: [], facts: ['copy `ami-undated`'] }]);
    expect(alone.sources).toEqual([{ sourceId: 'ami-a', name: 'worker', copyId: 'ami-undated', created: '' }]);
    // beside dated copies, in any order of the listing: the newest dated one
    const undated = copy('ami-a', 'ami-undated', 'available');
    const [older, newer] = [copy('ami-a', 'ami-old', 'available', ago(3 * DAY)), copy('ami-a', 'ami-new', 'available', ago(DAY))];
    for (const copies of [[undated, older, newer], [older, undated, newer], [newer, older, undated], [undated, newer, older]]) {
      expect(gradeAmis({ copies, sources: up(['ami-a', 'worker']) }, cfg, 'us-west-2', NOW).sources.map((x) => x.copyId)).toEqual(['ami-new']);
    }
  });

  it('an image with no available copy: red, nothing launched for it; the order is by name', () => {
    // act
    const g = gradeAmis({ copies: [copy('ami-z', 'ami-z1', 'available', ago(DAY))], sources: up(['ami-z', 'zeta'], ['ami-a', 'alpha']) }, cfg, 'us-west-2', NOW);

    // assess
    expect(g.items).toEqual([
      { kind: 'ami', name: 'alpha (ami-a)', colour: 'red', reasons: ['no available backup copy in us-west-2'], facts: [] },
      { kind: 'ami', name: 'zeta (ami-z)', colour: 'green', reasons: [], facts: ['copy `ami-z1`, 24 h old'] },
    ]);
    expect(g.sources.map((s) => s.sourceId)).toEqual(['ami-z']);
  });

  it('an unnamed image is shown and launched by its ID', () => {
    // act
    const g = gradeAmis({ copies: [copy('ami-a', 'ami-1', 'available', ago(DAY))], sources: up(['ami-a', '']) }, cfg, 'us-west-2', NOW);

    // assess
    expect(g.items[0]?.name).toBe('ami-a (ami-a)');
    expect(g.sources[0]?.name).toBe('ami-a');
  });

  it('the primary answering: only its tagged images count; a copy of an image no longer tagged is not launched', () => {
    // act
    const g = gradeAmis({ copies: [copy('ami-gone', 'ami-9', 'available', ago(DAY))], sources: up(['ami-a', 'worker']) }, cfg, 'us-west-2', NOW);

    // assess
    expect(g.sources).toEqual([]);
    expect(g.items.map((i) => i.name)).toEqual(['worker (ami-a)']);
  });

  it("the primary not answering: the images known from their copies (their names without -backup-<date>), each row saying so; a copy with no source tag is no image's", () => {
    // act
    const g = gradeAmis(
      {
        copies: [copy('ami-a', 'ami-1', 'available', ago(DAY), 'worker-backup-20261130'), copy('ami-a', 'ami-2', 'available', ago(2 * DAY), 'worker-backup-20261129'), copy('', 'ami-3', 'available', ago(DAY), 'stray-backup-20261130')],
        sources: { ok: false, reason: 'down' },
      },
      cfg,
      'us-west-2',
      NOW,
    );

    // assess
    expect(g.items).toEqual([{ kind: 'ami', name: 'worker (ami-a)', colour: 'green', reasons: [], facts: ['copy `ami-1`, 24 h old', 'primary unreachable: images known from their copies'] }]);
    expect(g.sources).toEqual([{ sourceId: 'ami-a', name: 'worker', copyId: 'ami-1', created: ago(DAY) }]);
  });

  it('the primary not answering, a copy whose long name was cut and keeps its source ID: the name without the ID', () => {
    // prepare: as /dr backup amis names the copy of an image whose name is too long to keep whole
    const id = 'ami-0123456789abcdef0';
    const long = `${'n'.repeat(90)}`;

    // act
    const g = gradeAmis({ copies: [copy(id, 'ami-c', 'available', ago(DAY), `${long}-${id}-backup-20261130`), copy('ami-b', 'ami-d', 'available', ago(DAY), `x-${id}-backup-20261130`)], sources: { ok: false, reason: 'down' } }, cfg, 'us-west-2', NOW);

    // assess: another image's ID in a name is part of that name
    expect(g.sources.map((x) => [x.sourceId, x.name])).toEqual([
      [id, long],
      ['ami-b', `x-${id}`],
    ]);
  });

  it('no image at all: one red row, saying why, for the primary answering and not', () => {
    // act / assess
    expect(gradeAmis({ copies: [], sources: up() }, cfg, 'us-west-2', NOW)).toEqual({
      items: [{ kind: 'ami', name: 'AMIs tagged spawn=true', colour: 'red', reasons: ['no tagged image in us-east-1 and no backup copy in us-west-2: nothing to launch'], facts: [] }],
      sources: [],
    });
    expect(gradeAmis({ copies: [], sources: { ok: false, reason: 'down' } }, cfg, 'us-west-2', NOW)).toEqual({
      items: [{ kind: 'ami', name: 'AMIs tagged spawn=true', colour: 'red', reasons: ['no backup copy in us-west-2 and the primary is unreachable: nothing to launch'], facts: ['primary unreachable: images known from their copies'] }],
      sources: [],
    });
  });
});

describe('the DNS records', () => {
  const rec = (r: Partial<FailoverRecord> = {}): FailoverRecord => ({ name: 'api.example.com', type: 'A', target: 'private-ip', ttl: 60, ...r });
  const a = (name: string, over: Partial<ResourceRecordSet> = {}): ResourceRecordSet => ({ Name: name, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '10.0.0.1' }], ...over });

  it('findRecord: the same name (however written), type and set identifier', () => {
    // prepare
    const plain = a('API.example.com.');
    const weighted = a('api.example.com.', { SetIdentifier: 'primary' });
    const aaaa = a('api.example.com.', { Type: 'AAAA' });
    const other = a('www.example.com.');

    // act / assess
    expect(findRecord([other, aaaa, weighted, plain], rec())).toBe(plain);
    expect(findRecord([other, aaaa, plain, weighted], rec({ setIdentifier: 'primary' }))).toBe(weighted);
    expect(findRecord([other, plain, weighted], rec({ type: 'AAAA' }))).toBeUndefined();
    expect(findRecord([weighted], rec())).toBeUndefined();
    expect(findRecord([plain], rec({ setIdentifier: 'primary' }))).toBeUndefined();
    expect(findRecord([a('\\052.example.com.')], rec({ name: '*.example.com' }))?.Name).toBe('\\052.example.com.');
    expect(findRecord([], rec())).toBeUndefined();
  });

  it('recordValue: none, an alias, up to four values then how many more', () => {
    // act / assess
    expect(recordValue(undefined)).toBe('(none)');
    expect(recordValue({ Name: 'x.', Type: 'A', AliasTarget: { DNSName: 'lb.elb.amazonaws.com.', HostedZoneId: 'Z', EvaluateTargetHealth: false } })).toBe('A alias lb.elb.amazonaws.com.');
    expect(recordValue(a('x.'))).toBe('A 10.0.0.1');
    const values = (n: number) => a('x.', { ResourceRecords: Array.from({ length: n }, (_, i) => ({ Value: `10.0.0.${i + 1}` })) });
    expect(recordValue(values(4))).toBe('A 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4');
    expect(recordValue(values(6))).toBe('A 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4 (+2)');
    expect(recordValue({ Name: 'x.', Type: 'A' })).toBe('A ');
  });

  it('gradeRecords: none configured amber, no zone red, each record green with what it is now, or amber when the failover creates it', () => {
    // act / assess
    expect(gradeRecords([{ record: rec() }], 'Z1', false)).toEqual([{ kind: 'dns', name: 'DNS', colour: 'amber', reasons: ['no `failover.dns` records configured: clients are not switched'], facts: [] }]);
    expect(gradeRecords([{ record: rec() }], undefined, true)).toEqual([{ kind: 'dns', name: 'DNS', colour: 'red', reasons: ['no hosted zone: set `failover.dns.hostedZoneId` or `route53.hostedZoneId`'], facts: [] }]);
    expect(
      gradeRecords(
        [
          { record: rec({ name: 'API.example.com.' }), current: a('api.example.com.', { Failover: 'PRIMARY', SetIdentifier: 'p' }) },
          { record: rec({ name: 'new.example.com', setIdentifier: 'east', target: 'public-ip' }) },
        ],
        'Z1',
        true,
      ),
    ).toEqual([
      { kind: 'dns', name: 'api.example.com A', colour: 'green', reasons: [], facts: ['now A 10.0.0.1, failover PRIMARY', "switches to the new instances' private-ip"] },
      { kind: 'dns', name: 'new.example.com A (east)', colour: 'amber', reasons: ['not in the zone: the failover creates it (the failback deletes it)'], facts: ["switches to the new instances' public-ip"] },
    ]);
    expect(gradeRecords([], 'Z1', true)).toEqual([]);
  });
});
