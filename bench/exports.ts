/**
 * Section 7 (issue 9): the export verbs on moto.
 *
 *   (a) IAM export of ROLES roles (3 inline + 2 managed policies each): drbot's readIam + one
 *       PutObject (what `/dr backup iam` does in its export step) against the runbook's
 *       backup-iam.sh (dr-runbook.md, "Export IAM Policies"), run as the runbook runs it, with
 *       bash and AWS CLI v1, pointed at the same moto by an `aws` shim on PATH that adds
 *       `--endpoint-url`. Both are checked: every role and inline policy is in the output.
 *   (b) Route53 export of a RECORDS-record zone: drbot's readZone + PutObject, its time and the
 *       size of the object written.
 *
 * The AWS CLI costs about a second a call on these loaded machines (1,802 calls for 300 roles), so by
 * default the script runs on a 10-role sample (its own name filter narrowed to spawn-bench-000)
 * and is scaled linearly; BENCH_IAM_SCRIPT_ROLES=300 runs it on all of them (about half an hour).
 * Run alone with `npx tsx bench/exports.ts`; BENCH_IAM_ROLES / BENCH_ZONE_RECORDS change the sizes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AwsClients } from '../src/aws/clients';
import { sandboxRecords } from '../src/local/estate';
import { SANDBOX_CREDENTIALS, startMoto } from '../src/local/moto';
import { readIam } from '../src/runbooks/backup-iam/runbook';
import { readZone } from '../src/runbooks/backup-route53/runbook';
import { mapLimit } from '../src/util/limit';
import { tempDir } from './util';

const BUCKET = 'spawn-backups';

export interface ExportsResult {
  iam: {
    roles: number;
    drbotMs: number;
    drbotBytes: number;
    /** Roles the script exported (a sample when fewer than `roles`: the CLI costs ~1 s a call here). */
    scriptRoles: number;
    scriptMs: number;
    /** scriptMs scaled linearly to `roles` (its calls are per role: 3 + inline policies). */
    scriptMsAt300: number;
    scriptFiles: number;
    /** drbot's `roles` against the script's sample, unscaled: a lower bound. */
    speedupLowerBound: number;
    speedup: number;
    cliCalls: number;
  };
  route53: { records: number; ms: number; bytes: number; pages: number };
}

/** backup-iam.sh from dr-runbook.md, as written there. */
const BACKUP_IAM_SH = `#!/bin/bash
# backup-iam.sh

BACKUP_DIR="iam-backup-$(date +%Y%m%d)"
mkdir -p $BACKUP_DIR

# Export all IAM roles
ROLES=$(aws iam list-roles --query 'Roles[?starts_with(RoleName, \`__PREFIX__\`)].RoleName' --output text)

for ROLE in $ROLES; do
  echo "Exporting role: $ROLE"

  # Get role details
  aws iam get-role --role-name $ROLE > "$BACKUP_DIR/role-\${ROLE}.json"

  # Get attached policies
  aws iam list-attached-role-policies --role-name $ROLE > "$BACKUP_DIR/role-\${ROLE}-attached-policies.json"

  # Get inline policies
  POLICIES=$(aws iam list-role-policies --role-name $ROLE --query 'PolicyNames' --output text)

  for POLICY in $POLICIES; do
    aws iam get-role-policy --role-name $ROLE --policy-name $POLICY > "$BACKUP_DIR/role-\${ROLE}-policy-\${POLICY}.json"
  done
done

# Create tarball
tar czf iam-backup-$(date +%Y%m%d).tar.gz $BACKUP_DIR/

# Upload to S3
aws s3 cp iam-backup-$(date +%Y%m%d).tar.gz s3://spawn-backups/iam/

echo "IAM backup complete"
`;

const doc = (i: number, j: number) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::spawn-results-us-east-1/r${i}/p${j}/*` }] });

async function seedRoles(clients: AwsClients, roles: number): Promise<void> {
  const iam = clients.iam('us-east-1');
  const managed = await mapLimit([0, 1, 2, 3], 4, async (k) => (await iam.send(new CreatePolicyCommand({ PolicyName: `spawn-managed-${k}`, PolicyDocument: doc(1000, k) }))).Policy?.Arn ?? '');
  await mapLimit(Array.from({ length: roles }, (_, i) => i), 16, async (i) => {
    const RoleName = `spawn-bench-${String(i).padStart(4, '0')}`;
    await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    for (let j = 0; j < 3; j++) await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: `inline-${j}`, PolicyDocument: doc(i, j) }));
    for (let k = 0; k < 2; k++) await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: managed[(i + k) % managed.length] }));
  });
}

export async function benchExports(opts: { roles?: number; records?: number } = {}): Promise<ExportsResult> {
  const roles = opts.roles ?? Number(process.env.BENCH_IAM_ROLES ?? 300);
  const records = opts.records ?? Number(process.env.BENCH_ZONE_RECORDS ?? 10_000);
  // The script's own name filter, narrowed to a sample: spawn-bench-000 → roles 0000-0009.
  const scriptRoles = Math.min(roles, Number(process.env.BENCH_IAM_SCRIPT_ROLES ?? 10));
  const samplePrefix = scriptRoles >= roles ? 'spawn' : scriptRoles === 100 ? 'spawn-bench-00' : scriptRoles === 10 ? 'spawn-bench-000' : 'spawn';
  const sampled = samplePrefix === 'spawn' ? roles : scriptRoles;
  const moto = await startMoto();
  try {
    const clients = new AwsClients('us-east-1', { endpoint: moto.endpoint, credentials: SANDBOX_CREDENTIALS });
    const s3 = clients.s3('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await seedRoles(clients, roles);

    // (a) drbot
    const t0 = performance.now();
    const read = await readIam(clients.iam('us-east-1'), 'spawn');
    const body = JSON.stringify({ format: 'drbot-iam-export/1', ...read }, null, 1);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'iam/bench/drbot.json', Body: body, ContentType: 'application/json' }));
    const drbotMs = performance.now() - t0;
    const inline = read.roles.reduce((n, r) => n + r.inlinePolicies.length, 0);
    if (read.roles.length !== roles || inline !== roles * 3) throw new Error(`drbot exported ${read.roles.length} roles / ${inline} inline policies, expected ${roles} / ${roles * 3}`);

    // (b) the runbook's script, with bash and the AWS CLI, against the same moto
    const dir = tempDir('drbot-bench-iam-');
    const shim = join(dir, 'bin');
    spawnSync('mkdir', ['-p', shim]);
    const realAws = spawnSync('bash', ['-lc', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
    const log = join(dir, 'calls.log');
    writeFileSync(join(shim, 'aws'), `#!/bin/bash\necho x >> ${log}\nexec ${realAws} --endpoint-url ${moto.endpoint} "$@"\n`);
    chmodSync(join(shim, 'aws'), 0o755);
    writeFileSync(join(dir, 'backup-iam.sh'), BACKUP_IAM_SH.replace('__PREFIX__', samplePrefix));
    const env = { ...process.env, PATH: `${shim}:${process.env.PATH ?? ''}`, AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
    const t1 = performance.now();
    const run = spawnSync('bash', ['backup-iam.sh'], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const scriptMs = performance.now() - t1;
    if (run.status !== 0) throw new Error(`backup-iam.sh exited ${run.status}: ${run.stderr.slice(-500)}`);
    const outDir = readdirSync(dir).find((f) => f.startsWith('iam-backup-') && !f.endsWith('.tar.gz')) ?? '';
    const files = readdirSync(join(dir, outDir));
    if (files.filter((f) => /-policy-inline-\d\.json$/.test(f)).length !== sampled * 3) throw new Error(`backup-iam.sh wrote ${files.length} files, not every inline policy`);
    const cliCalls = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;

    // Route53
    const r53 = clients.route53('us-east-1');
    const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'bench.example.com', CallerReference: `bench-${Date.now()}` }));
    const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    const changes = sandboxRecords('bench.example.com', records);
    const batches = [];
    for (let i = 0; i < changes.length; i += 1000) batches.push(changes.slice(i, i + 1000));
    await mapLimit(batches, 4, (Changes) => r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes } })));
    const t2 = performance.now();
    const z = await readZone(r53, zoneId);
    const zbody = JSON.stringify({ format: 'drbot-route53-export/1', zone: z.zone, recordCount: z.recordSets.length, recordSets: z.recordSets });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `route53/${zoneId}/bench.json`, Body: zbody, ContentType: 'application/json' }));
    const ms = performance.now() - t2;
    if (z.recordSets.length !== records + 2) throw new Error(`exported ${z.recordSets.length} record sets, expected ${records + 2}`);

    return {
      iam: {
        roles,
        drbotMs,
        drbotBytes: Buffer.byteLength(body),
        scriptRoles: sampled,
        scriptMs,
        scriptMsAt300: (scriptMs * roles) / sampled,
        scriptFiles: files.length,
        speedupLowerBound: scriptMs / drbotMs,
        speedup: (scriptMs * roles) / sampled / drbotMs,
        cliCalls,
      },
      route53: { records: z.recordSets.length, ms, bytes: Buffer.byteLength(zbody), pages: Math.ceil(z.recordSets.length / 300) },
    };
  } finally {
    await moto.stop();
  }
}

if (require.main === module) {
  benchExports()
    .then((r) => {
      console.log(`IAM export, ${r.iam.roles} roles (3 inline + 2 managed each), on moto:`);
      console.log(`  drbot readIam + PutObject: ${(r.iam.drbotMs / 1000).toFixed(2)} s, ${(r.iam.drbotBytes / 1024).toFixed(0)} KiB`);
      console.log(`  backup-iam.sh (bash + AWS CLI v1) on ${r.iam.scriptRoles} roles: ${r.iam.cliCalls} CLI calls, ${r.iam.scriptFiles} files, ${(r.iam.scriptMs / 1000).toFixed(1)} s; scaled to ${r.iam.roles} roles: ${(r.iam.scriptMsAt300 / 1000).toFixed(0)} s`);
      console.log(`  drbot is ${r.iam.speedup.toFixed(0)}× faster (target ≥ 20×); even against the script's ${r.iam.scriptRoles}-role sample, unscaled: ${r.iam.speedupLowerBound.toFixed(0)}×`);
      console.log(`Route53 export, ${r.route53.records} record sets (${r.route53.pages} pages): ${(r.route53.ms / 1000).toFixed(2)} s, ${(r.route53.bytes / 1024 / 1024).toFixed(2)} MiB`);
      console.log(JSON.stringify(r));
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
