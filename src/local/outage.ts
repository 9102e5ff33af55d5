import type { MiddlewareStack } from '@smithy/types';
import type { AwsClients } from '../aws/clients';
import { backupCopies, tagOf, taggedImages } from '../aws/ec2';
import { ec2Sdk } from '../aws/ec2-sdk';
import type { DrConfig } from '../config/schema';
import { copyName } from '../runbooks/backup-amis/runbook';
import { ymd } from '../runbooks/exports';
import { newId } from '../store/state';

/*
 * `/dr simulate outage REGION` (sandbox only): every request of the sandbox's clients to a regional
 * endpoint of REGION fails at once, as a refused connection would, until the outage is ended.
 * Global services (IAM, STS, Route53) and drbot's own state table (its own client) keep answering.
 */

/** The sandbox's clients of these services are regional: an outage of their region stops them. */
const REGIONAL = new Set(['s3', 'ddb', 'ec2', 'lambda', 'backup', 'cw']);

/** The AwsClients hook that makes requests to a region in `down` fail like a network error. */
export function outageHook(down: ReadonlySet<string>): (client: unknown, service: string, region: string) => void {
  return (client, service, region) => {
    if (!REGIONAL.has(service)) return;
    (client as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.add(
      (next) => async (args) => {
        if (!down.has(region)) return next(args);
        throw Object.assign(new Error(`connect ECONNREFUSED: ${region} is down (sandbox: /dr simulate outage ${region})`), { name: 'Error', code: 'ECONNREFUSED', $metadata: {} });
      },
      { step: 'initialize', name: 'sandbox-outage', priority: 'high' },
    );
  };
}

/**
 * Before the primary goes down, the backup region gets what the nightly `/dr backup amis` would have
 * left there: a drbot copy of each tagged image that has none yet (tagged like drbot's own copies).
 */
export async function ensureAmiCopies(clients: AwsClients, cfg: DrConfig, date: Date): Promise<string[]> {
  const { primary, backup } = cfg.regions;
  const [sources, copies] = await Promise.all([taggedImages(clients.ec2(primary), cfg.ami.tagKey, cfg.ami.tagValue, primary), backupCopies(clients.ec2(backup), backup)]);
  const { CopyImageCommand, CreateTagsCommand } = ec2Sdk();
  const made: string[] = [];
  for (const s of sources) {
    if (!s.ImageId || copies.some((c) => tagOf(c, 'source-ami') === s.ImageId && c.State === 'available')) continue;
    const ec2 = clients.ec2(backup);
    const r = await ec2.send(new CopyImageCommand({ SourceRegion: primary, SourceImageId: s.ImageId, Name: copyName(s.Name ?? s.ImageId, ymd(date.toISOString()), s.ImageId) }));
    const id = r.ImageId ?? '';
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'backup', Value: 'true' }, { Key: 'source-ami', Value: s.ImageId }, { Key: 'drbot-run', Value: newId('r') }] }));
    made.push(id);
  }
  return made;
}

/** Starts or ends the outage of a region; says what it did, for the channel. */
export async function simulateOutage(clients: AwsClients, cfg: DrConfig, down: Set<string>, region: string, end: boolean, now: Date): Promise<string> {
  if (end) {
    const was = down.delete(region);
    return was ? `:white_check_mark: (sandbox) ${region} answers again. \`/dr failback\` switches DNS back.` : `(sandbox) ${region} was not down.`;
  }
  const copied = region === cfg.regions.primary && !down.has(region) ? await ensureAmiCopies(clients, cfg, now) : [];
  down.add(region);
  return [
    `:rotating_light: (sandbox) ${region} is down: every regional endpoint there (S3, DynamoDB, EC2, Lambda, …) refuses connections. Route53 and IAM, which are global, still answer.`,
    ...(copied.length ? [`Before it went down, the backup region got a copy of ${copied.length} tagged image${copied.length === 1 ? '' : 's'}, as the nightly \`/dr backup amis\` would have left.`] : []),
    `Try \`/dr failover ${region === cfg.regions.primary ? cfg.regions.backup : cfg.regions.primary} --dry-run\`, then without --dry-run. End the outage with \`/dr simulate outage ${region} --end\`.`,
  ].join('\n');
}
