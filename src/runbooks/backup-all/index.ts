import { dryRun } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr backup all`: every backup kind in one run and one message. */
export const verb = defineVerb({
  id: 'backup-all',
  words: ['backup', 'all'],
  group: 'Back up',
  summary: 'every backup in one run: DynamoDB, AMIs, IAM, Route53 and Lambda',
  example: '/dr backup all --dry-run',
  role: 'operator',
  destructive: false,
  details: 'Runs `/dr backup dynamodb`, `amis`, `iam`, `route53` and `lambda` for everything configured, one after another, and reports a line per kind in one message. A kind that fails is reported with its reason; the others go on. It never prunes (deletes) anything: that is each kind\'s `--prune`, with its approval, or the schedules.',
  args: { dryRun: { ...dryRun, help: 'post the plans only; change nothing' } },
  input: (a) => ({ dryRun: a.dryRun }),
});

export type BackupAllInput = RunOf<typeof verb>;
