import { dryRun, flag } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr failback`: the failover's DNS switch reversed once the primary answers; its instances listed, terminated with --terminate. */
export const verb = defineVerb({
  id: 'failback',
  words: ['failback'],
  group: 'Incidents',
  summary: "reverse the failover's DNS switch once the primary answers again; list (or terminate) the failover's instances",
  example: '/dr failback --dry-run',
  role: 'operator',
  destructive: true,
  details:
    "Reads the last failover drbot made (kept in its state table): puts every switched record back exactly as it was before (UPSERT; a record the failover created is deleted, and only while it still holds what the failover wrote), waits until INSYNC and lists the records again. Refused while the primary region does not answer. Lists the instances the failover launched (tagged `drbot-failover=<run id>`, in the failover region) with a Terminate button; with `--terminate` they are terminated too, and nothing else is ever touched.",
  args: {
    terminate: flag('boolean', 'terminate', "also terminate the failover's instances (only those tagged `drbot-failover=<its run id>`)"),
    dryRun: { ...dryRun, help: 'show what would be switched back and terminated; change nothing' },
  },
  input: (a) => ({ terminate: a.terminate, dryRun: a.dryRun }),
});

export type FailbackInput = RunOf<typeof verb>;
