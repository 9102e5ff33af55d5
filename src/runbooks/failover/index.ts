import { UsageError } from '../../errors';
import { dryRun, positional } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr failover [REGION]`: readiness, then the workload launched in REGION and DNS switched to it, against the RTO clock. */
export const verb = defineVerb({
  id: 'failover',
  words: ['failover'],
  group: 'Incidents',
  summary: 'fail over to the backup region: readiness, launch from the newest backup AMIs, switch DNS, with an RTO clock',
  example: '/dr failover us-west-2 --dry-run',
  role: 'operator',
  destructive: true,
  details:
    "Readiness first (also with `--dry-run`): per bucket, the replica and its replication (latency metric, or the newest replicated object against the primary's newest); per table, the global-table replica in REGION (or the newest backup there); the newest backup AMI of each tagged image in REGION and its age; the DNS records to switch. Each red / amber / green, with the estimated RPO. After approval: launches the `failover:` section's instances in REGION from those AMIs (tagged `drbot-failover=<run id>`), waits until they run and pass their status checks, UPSERTs the configured records to them, waits until Route53 is INSYNC and lists them again, and reports what the replicas held at cut-over. The message shows the clock from the request against `objectives.rtoMinutes` (`T+12:04 of 1 h`), per step; the report gives the achieved RTO and the estimated RPO. Calls to the primary region get a short deadline and are reported as unreachable: the failover never needs it. `/dr failback` reverses the DNS switch.",
  args: {
    region: positional('region', 'REGION', 'the region to fail over to (default: the backup region)'),
    dryRun: { ...dryRun, help: 'show the readiness and the plan only; launch and switch nothing' },
  },
  check(a, config) {
    if (a.region && a.region === config.regions.primary) {
      throw new UsageError(`\`${a.region}\` is the primary region: a failover goes to the backup region (\`${config.regions.backup}\`).`, '/dr failover [REGION] [--dry-run]');
    }
  },
  input: (a) => ({ region: a.region ?? '', dryRun: a.dryRun }),
});

export type FailoverInput = RunOf<typeof verb>;
