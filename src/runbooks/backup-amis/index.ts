import { dryRun } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr backup amis`: copies of the tagged images to the backup region, waited on until available. */
export const verb = defineVerb({
  id: 'backup-amis',
  words: ['backup', 'amis'],
  group: 'Back up',
  summary: 'copy every tagged AMI of the primary region to the backup region',
  example: '/dr backup amis --dry-run',
  role: 'operator',
  destructive: false,
  details:
    'Copies each image the account owns in the primary region that carries the config\'s `ami.tagKey`=`ami.tagValue` to the backup region as `<name>-backup-<UTC yyyymmdd>`, tagged `backup=true`, `source-ami` and `drbot-run`. An image already copied today is skipped. Waits until each copy is available; a failed copy is reported with its reason while the others go on. Changes no source image.',
  args: { dryRun: { ...dryRun, help: 'post the plan only; copy nothing' } },
  input: (a) => ({ dryRun: a.dryRun }),
});

export type BackupAmisInput = RunOf<typeof verb>;
